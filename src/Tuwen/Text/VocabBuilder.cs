using System.Runtime.InteropServices;
using System.Text;

namespace Tuwen.Text;

public sealed class VocabBuilderOptions
{
    /// <summary>
    /// Upper bound on the vocab size. Only the optional multi-character pieces are cut to fit it: the specials,
    /// every CJK character and every other character (with its "##" form) are always kept, so the vocab exceeds
    /// this only when those alone do.
    /// </summary>
    public int MaxVocabSize { get; init; } = 30000;

    /// <summary>How often a multi-character word or suffix must occur in the corpus to become a piece.</summary>
    public int MinFrequency { get; init; } = 2;
}

/// <summary>
/// Builds a BERT-style vocab from a corpus, for training a text encoder without a third-party vocab.
/// Layout: 0 [PAD], 1–99 [unused1]–[unused99], 100 [UNK], 101 [CLS], 102 [SEP], 103 [MASK] (bert-base-chinese's
/// special ids), then every CJK character seen, then every other character seen, then the "##" form of each of
/// those, then frequent whole words and frequent "##" word endings. Each group is ordered by descending
/// frequency, ties by ordinal string order, so the same corpus always gives the same vocab.
/// </summary>
/// <remarks>
/// With every character present both bare and as "##" piece, greedy word-piece matching can always fall back to
/// one character per piece, so <see cref="BertTokenizer"/> over the result yields [UNK] for no word of the corpus,
/// except words longer than <see cref="BertTokenizer.MaxInputCharsPerWord"/> code points, which BERT always maps to [UNK].
/// </remarks>
public static class VocabBuilder
{
    public const int UnusedTokenCount = 99;
    private const int SpecialTokenCount = 1 + UnusedTokenCount + 4;

    public static Vocab Build(IEnumerable<string> texts, VocabBuilderOptions options)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxVocabSize < SpecialTokenCount)
            throw new TuwenException($"max vocab size must be at least {SpecialTokenCount}, got {options.MaxVocabSize}");
        if (options.MinFrequency < 1)
            throw new TuwenException($"min frequency must be at least 1, got {options.MinFrequency}");

        var counter = new WordCounter(new Dictionary<string, long>(StringComparer.Ordinal));
        foreach (var text in texts)
        {
            if (text is null) throw new ArgumentException("a text is null", nameof(texts));
            BertBasicTokenizer.Run(text, ref counter);
        }

        var cjkChars = new Dictionary<string, long>(StringComparer.Ordinal);
        var otherChars = new Dictionary<string, long>(StringComparer.Ordinal);
        var pieces = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (word, count) in counter.Words)
        {
            var firstRune = Rune.GetRuneAt(word, 0);
            if (firstRune.Utf16SequenceLength == word.Length)
            {
                // Ideographs are always words of their own; so is punctuation, and a one-character word needs no more.
                Add(BertCharClass.IsCjk(firstRune.Value) ? cjkChars : otherChars, word, count);
                continue;
            }
            int codePoints = 0;
            foreach (var rune in word.EnumerateRunes())
            {
                Add(otherChars, rune.ToString(), count);
                codePoints++;
            }
            if (codePoints > BertTokenizer.MaxInputCharsPerWord) continue;
            Add(pieces, word, count);
            // Every ending of two or more characters is a candidate continuation piece ("##ing", "##ed", ...).
            for (int start = firstRune.Utf16SequenceLength; start < word.Length;)
            {
                int width = Rune.GetRuneAt(word, start).Utf16SequenceLength;
                if (start + width < word.Length) Add(pieces, Vocab.ContinuationPrefix + word[start..], count);
                start += width;
            }
        }

        var tokens = new List<string>(options.MaxVocabSize) { Vocab.PadToken };
        for (int i = 1; i <= UnusedTokenCount; i++) tokens.Add($"[unused{i}]");
        tokens.AddRange([Vocab.UnkToken, Vocab.ClsToken, Vocab.SepToken, Vocab.MaskToken]);
        var seen = new HashSet<string>(tokens, StringComparer.Ordinal);

        foreach (var c in ByFrequency(cjkChars)) AddToken(tokens, seen, c);
        var sortedOtherChars = ByFrequency(otherChars);
        foreach (var c in sortedOtherChars) AddToken(tokens, seen, c);
        foreach (var c in sortedOtherChars) AddToken(tokens, seen, Vocab.ContinuationPrefix + c);

        foreach (var piece in ByFrequency(pieces, options.MinFrequency))
        {
            if (tokens.Count >= options.MaxVocabSize) break;
            AddToken(tokens, seen, piece);
        }
        return Vocab.FromTokens(tokens);
    }

    private static void Add(Dictionary<string, long> counts, string key, long count) =>
        CollectionsMarshal.GetValueRefOrAddDefault(counts, key, out _) += count;

    private static void AddToken(List<string> tokens, HashSet<string> seen, string token)
    {
        if (seen.Add(token)) tokens.Add(token);
    }

    private static List<string> ByFrequency(Dictionary<string, long> counts, long minCount = 1)
    {
        var entries = new List<KeyValuePair<string, long>>(counts.Count);
        foreach (var entry in counts)
            if (entry.Value >= minCount) entries.Add(entry);
        entries.Sort(static (a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        var keys = new List<string>(entries.Count);
        foreach (var entry in entries) keys.Add(entry.Key);
        return keys;
    }

    /// <summary>Counts the basic tokenizer's words; spans are looked up without allocating a string per word.</summary>
    private readonly struct WordCounter(Dictionary<string, long> words) : IWordSink
    {
        private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> bySpan =
            words.GetAlternateLookup<ReadOnlySpan<char>>();

        public Dictionary<string, long> Words => words;

        public bool OnWord(ReadOnlySpan<char> word)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(bySpan, word, out _)++;
            return true;
        }
    }
}
