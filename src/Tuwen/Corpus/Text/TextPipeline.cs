using System.Text;
using Tuwen.Corpus.Pipeline;
using Tuwen.Corpus.Sources;

namespace Tuwen.Corpus.Text;

/// <summary>The caption chosen for a candidate, the field it came from and its correlation strength.</summary>
public sealed record ChosenCaption(string Text, string Field, bool Strong)
{
    public string Correlation => Strong ? "strong" : "weak";
}

/// <summary>
/// Normalises a candidate's texts and tries them in order of preference (caption, alt, title, figure caption,
/// then the weak nearby text and page title, as the correlation setting allows) through the rules. The first
/// text that passes becomes the caption; if none passes, the reason counted is that of the most preferred text.
/// </summary>
public sealed class TextPipeline
{
    private readonly CorpusBuildOptions _options;
    private readonly List<ITextRule> _rules = [];

    public TextPipeline(CorpusBuildOptions options, CaptionFrequency? frequency)
    {
        _options = options;
        // First, on the text exactly as counted: masking below would otherwise hide a frequent caption from its count.
        if (frequency is not null && options.MaxCaptionRepeats > 0) _rules.Add(new OverFrequentRule(frequency, options.MaxCaptionRepeats));
        _rules.Add(new BoilerplateRule());
        if (options.Privacy != PrivacyAction.Keep) _rules.Add(new PrivacyRule(drop: options.Privacy == PrivacyAction.Drop));
        if (options.SensitiveWordsFile is not null) _rules.Add(SensitiveWordRule.Load(options.SensitiveWordsFile));
        if (options.RequireChinese) _rules.Add(new ChineseRule());
        _rules.Add(new LengthRule(options.MinLength, options.MaxLength));
    }

    /// <summary>Texts as rules and counts see them: whitespace collapsed, controls and U+FFFD removed, optionally simplified.</summary>
    public string? Normalize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var builder = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            // U+FFFD stands for bytes that were not valid UTF-8; zero-width characters hide nothing a reader sees.
            if (c is '\uFFFD' or '\u200B' or '\u200C' or '\u200D' or '\uFEFF') continue;
            if (char.IsWhiteSpace(c) || char.IsControl(c)) { space = builder.Length > 0; continue; }
            if (char.IsSurrogate(c) && !IsPairedSurrogate(text, builder, c)) continue;
            if (space) builder.Append(' ');
            space = false;
            builder.Append(c);
        }
        if (builder.Length > 0 && char.IsHighSurrogate(builder[^1])) builder.Length--;
        if (builder.Length == 0) return null;
        var result = builder.ToString();
        return _options.TraditionalToSimplified ? TraditionalToSimplified.Convert(result) : result;
    }

    // A lone surrogate cannot be written as UTF-8; keep only well-formed pairs.
    private static bool IsPairedSurrogate(string text, StringBuilder builder, char c)
        => char.IsLowSurrogate(c) ? builder.Length > 0 && char.IsHighSurrogate(builder[^1]) : true;

    /// <summary>The distinct normalised texts of a candidate that the frequency rule counts.</summary>
    public IEnumerable<string> CountedTexts(CandidateTexts texts)
        => Allowed(texts).Select(t => Normalize(t.Text)).OfType<string>().Distinct(StringComparer.Ordinal);

    public (ChosenCaption? Caption, string? DropReason) Choose(CandidateTexts texts)
    {
        string? firstReason = null;
        foreach (var (field, raw, strong) in Allowed(texts))
        {
            var text = Normalize(raw);
            if (text is null) continue;
            var verdict = TextVerdict.Keep(text);
            foreach (var rule in _rules)
            {
                verdict = rule.Apply(verdict.Text!);
                if (verdict.Dropped) break;
            }
            if (!verdict.Dropped) return (new ChosenCaption(verdict.Text!, field, strong), null);
            firstReason ??= verdict.DropReason;
        }
        return (null, firstReason ?? "text.empty");
    }

    private IEnumerable<(string Field, string Text, bool Strong)> Allowed(CandidateTexts texts)
        => texts.InPreferenceOrder().Where(t => _options.Correlation switch
        {
            Correlation.Strong => t.Strong,
            Correlation.Weak => !t.Strong,
            _ => true,
        });
}
