using System.Globalization;
using System.Text;

namespace Tuwen.Text;

/// <summary>
/// Character classes of Google BERT's tokenization.py (and Hugging Face's slow BertTokenizer), on code points.
/// BERT reads these from Python's unicodedata; here they come from .NET's Unicode tables, which agree except
/// for characters added to Unicode after the Python release a given model was tokenized with.
/// </summary>
internal static class BertCharClass
{
    /// <summary>The exact ranges of BERT's _is_chinese_char (CJK ideographs, not kana or hangul).</summary>
    public static bool IsCjk(int cp) =>
        (cp >= 0x4E00 && cp <= 0x9FFF) ||
        (cp >= 0x3400 && cp <= 0x4DBF) ||
        (cp >= 0x20000 && cp <= 0x2A6DF) ||
        (cp >= 0x2A700 && cp <= 0x2B73F) ||
        (cp >= 0x2B740 && cp <= 0x2B81F) ||
        (cp >= 0x2B820 && cp <= 0x2CEAF) ||
        (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0x2F800 && cp <= 0x2FA1F);

    /// <summary>
    /// Unified ideographs are their own lower case and NFD form; the compatibility ranges decompose and must be folded.
    /// </summary>
    public static bool IsCjkNeedingFold(int cp) => (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);

    /// <summary>
    /// A character _clean_text drops: U+0000, U+FFFD, and categories Cc/Cf (tab, LF and CR are whitespace, not control;
    /// callers test whitespace first).
    /// </summary>
    public static bool IsRemoved(int cp, UnicodeCategory category) =>
        cp == 0 || cp == 0xFFFD || category is UnicodeCategory.Control or UnicodeCategory.Format;

    /// <summary>
    /// Ends a word: BERT's _is_whitespace (space, tab, LF, CR, Zs), plus U+2028 and U+2029. Those two are neither
    /// whitespace nor control to _clean_text, so they survive it, but whitespace_tokenize's str.split() splits on them.
    /// No other character is Python whitespace after _clean_text (the rest are Cc and were dropped).
    /// </summary>
    public static bool IsWordSeparator(int cp, UnicodeCategory category) =>
        cp is ' ' or '\t' or '\n' or '\r' or 0x2028 or 0x2029 || category == UnicodeCategory.SpaceSeparator;

    /// <summary>BERT's _is_punctuation: every non-alphanumeric printable ASCII character, or any Unicode P* category.</summary>
    public static bool IsPunctuation(Rune rune)
    {
        int cp = rune.Value;
        if (cp < 0x80)
            return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    private const byte Unknown = 0, Inert = 1, NeedsFold = 2;

    // Per BMP character: whether lower-casing and accent stripping leave it unchanged in any context. Filled lazily;
    // racing threads compute and store the same value, so no lock is needed.
    private static readonly byte[] BmpFoldState = new byte[0x10000];

    /// <summary>
    /// True when the do_lower_case step (str.lower, NFD, drop Mn) cannot change this character or its neighbours,
    /// so a word made only of such characters needs no folding pass. Marks (Mn, Mc, Me) are never inert: besides
    /// being stripped, marks with a non-zero combining class take part in NFD's canonical reordering.
    /// </summary>
    public static bool IsInert(Rune rune)
    {
        if (!rune.IsBmp) return false;
        byte state = BmpFoldState[rune.Value];
        if (state == Unknown)
        {
            state = ComputeInert(rune) ? Inert : NeedsFold;
            BmpFoldState[rune.Value] = state;
        }
        return state == Inert;
    }

    private static bool ComputeInert(Rune rune)
    {
        var category = Rune.GetUnicodeCategory(rune);
        if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark)
            return false;
        if (rune.Value is PythonLowerCase.CapitalSigma or PythonLowerCase.CapitalIWithDot) return false;
        if (Rune.ToLowerInvariant(rune) != rune) return false;
        return rune.ToString().IsNormalized(NormalizationForm.FormD);
    }
}
