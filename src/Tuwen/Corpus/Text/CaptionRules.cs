using System.Text.RegularExpressions;

namespace Tuwen.Corpus.Text;

/// <summary>
/// Texts that are not captions: a bare URL, an image file name ("000.jpg" is Wukong's example), or no
/// letters at all (only digits, punctuation or symbols).
/// </summary>
public sealed partial class BoilerplateRule : ITextRule
{
    public TextVerdict Apply(string text)
    {
        if (UrlOnly().IsMatch(text)) return TextVerdict.Drop("text.url_only");
        if (FileName().IsMatch(text)) return TextVerdict.Drop("text.file_name");
        if (!text.Any(char.IsLetter)) return TextVerdict.Drop("text.no_letters");
        return TextVerdict.Keep(text);
    }

    [GeneratedRegex(@"^\s*(https?://|www\.)\S*\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex UrlOnly();

    [GeneratedRegex(@"^[\w\-. ()\[\]]*\.(jpe?g|png|gif|webp|bmp|tiff?|svg)$", RegexOptions.IgnoreCase)]
    private static partial Regex FileName();
}

/// <summary>Phone numbers, e-mail addresses and resident ID numbers: masked with a placeholder, or the text dropped.</summary>
public sealed partial class PrivacyRule(bool drop) : ITextRule
{
    public TextVerdict Apply(string text)
    {
        var found = false;
        var masked = Email().Replace(text, _ => { found = true; return "<邮箱>"; });
        // ID numbers before phone numbers: an 18-digit ID contains what looks like an 11-digit mobile number.
        masked = IdNumber().Replace(masked, _ => { found = true; return "<证件号>"; });
        masked = Mobile().Replace(masked, _ => { found = true; return "<电话>"; });
        masked = Landline().Replace(masked, _ => { found = true; return "<电话>"; });
        if (!found) return TextVerdict.Keep(text);
        return drop ? TextVerdict.Drop("text.privacy") : TextVerdict.Keep(masked);
    }

    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+")]
    private static partial Regex Email();

    [GeneratedRegex(@"(?<!\d)\d{6}(19|20)\d{2}(0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?![\dA-Za-z])")]
    private static partial Regex IdNumber();

    [GeneratedRegex(@"(?<!\d)(\+?86[\s\-]?)?1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}(?!\d)")]
    private static partial Regex Mobile();

    [GeneratedRegex(@"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")]
    private static partial Regex Landline();
}

/// <summary>Drops texts containing any word of a user-supplied list (one word a line, # starts a comment).</summary>
public sealed class SensitiveWordRule : ITextRule
{
    private readonly WordTrie _words;

    public SensitiveWordRule(IEnumerable<string> words) => _words = new WordTrie(words);

    public int Count => _words.Count;

    public static SensitiveWordRule Load(string path)
    {
        var words = File.ReadLines(path)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'));
        return new SensitiveWordRule(words);
    }

    public TextVerdict Apply(string text) => _words.ContainsAny(text) ? TextVerdict.Drop("text.sensitive") : TextVerdict.Keep(text);
}

/// <summary>Wukong's language rule: at least one Chinese character (CJK unified ideographs and extension A).</summary>
public sealed class ChineseRule : ITextRule
{
    public TextVerdict Apply(string text) => text.Any(IsHan) ? TextVerdict.Keep(text) : TextVerdict.Drop("text.no_chinese");

    public static bool IsHan(char c) => c is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF' or >= '\uF900' and <= '\uFAFF';
}

/// <summary>Length bounds in characters (text elements, so a surrogate pair counts once).</summary>
public sealed class LengthRule(int min, int max) : ITextRule
{
    public TextVerdict Apply(string text)
    {
        var length = new System.Globalization.StringInfo(text).LengthInTextElements;
        if (length < min) return TextVerdict.Drop("text.too_short");
        if (length > max) return TextVerdict.Drop("text.too_long");
        return TextVerdict.Keep(text);
    }
}

/// <summary>Drops captions that occur on more than <c>maxRepeats</c> images in the whole input ("点击查看大图").</summary>
public sealed class OverFrequentRule(CaptionFrequency frequency, int maxRepeats) : ITextRule
{
    public TextVerdict Apply(string text) => frequency.Count(text) > maxRepeats ? TextVerdict.Drop("text.over_frequent") : TextVerdict.Keep(text);
}
