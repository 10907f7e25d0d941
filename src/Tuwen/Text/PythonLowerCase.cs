using System.Globalization;
using System.Text;

namespace Tuwen.Text;

/// <summary>
/// BERT's do_lower_case step for one whitespace-delimited token: Python's str.lower(), then NFD, then drop category Mn.
/// .NET's invariant lower-casing is the simple one-to-one mapping; Python's str.lower() differs from it in exactly
/// two ways, both reproduced here: U+0130 becomes "i\u0307" (the only unconditional multi-character lower-case
/// mapping) and capital sigma becomes final sigma at the end of a word (the Final_Sigma rule of SpecialCasing.txt).
/// </summary>
internal static class PythonLowerCase
{
    public const int CapitalSigma = 0x03A3;
    public const int CapitalIWithDot = 0x0130;
    private const char SmallSigma = '\u03C3';
    private const char SmallFinalSigma = '\u03C2';

    /// <summary>Lower-cases <paramref name="token"/> like Python, decomposes it (NFD) and removes non-spacing marks.</summary>
    public static string LowerAndStripAccents(ReadOnlySpan<char> token)
    {
        var lowered = new StringBuilder(token.Length + 8);
        Span<char> utf16 = stackalloc char[2];
        for (int i = 0; i < token.Length;)
        {
            Rune.DecodeFromUtf16(token[i..], out var rune, out int width);
            if (rune.Value == CapitalIWithDot)
                lowered.Append('i').Append('\u0307');
            else if (rune.Value == CapitalSigma)
                lowered.Append(IsFinalSigma(token, i, width) ? SmallFinalSigma : SmallSigma);
            else
                lowered.Append(utf16[..Rune.ToLowerInvariant(rune).EncodeToUtf16(utf16)]);
            i += width;
        }

        string decomposed = lowered.ToString().Normalize(NormalizationForm.FormD);
        var stripped = new StringBuilder(decomposed.Length);
        foreach (var rune in decomposed.EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.NonSpacingMark) continue;
            stripped.Append(utf16[..rune.EncodeToUtf16(utf16)]);
        }
        return stripped.ToString();
    }

    /// <summary>
    /// CPython's handle_capital_sigma: final when a cased letter precedes (skipping case-ignorable characters)
    /// and no cased letter follows (again skipping case-ignorable ones), within the string being lowered.
    /// </summary>
    private static bool IsFinalSigma(ReadOnlySpan<char> text, int index, int width)
    {
        bool casedBefore = false;
        for (int j = index; j > 0;)
        {
            Rune.DecodeLastFromUtf16(text[..j], out var before, out int n);
            j -= n;
            if (IsCaseIgnorable(before)) continue;
            casedBefore = IsCased(before);
            break;
        }
        if (!casedBefore) return false;

        for (int j = index + width; j < text.Length;)
        {
            Rune.DecodeFromUtf16(text[j..], out var after, out int n);
            j += n;
            if (IsCaseIgnorable(after)) continue;
            return !IsCased(after);
        }
        return true;
    }

    /// <summary>Unicode Case_Ignorable: Mn, Me, Cf, Lm, Sk, or Word_Break MidLetter / MidNumLet / Single_Quote.</summary>
    internal static bool IsCaseIgnorable(Rune rune)
    {
        switch (rune.Value)
        {
            case 0x0027 or 0x002E or 0x003A or 0x00B7 or 0x0387 or 0x055F or 0x05F4 or 0x2018 or 0x2019 or 0x2024
                or 0x2027 or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A:
                return true;
        }
        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;
    }

    /// <summary>
    /// Unicode Cased: Lu, Ll, Lt, plus Other_Lowercase / Other_Uppercase. Of the latter, those that matter here
    /// (not also case-ignorable) are the letters with a case mapping (Roman numerals, circled letters), the
    /// feminine/masculine ordinals, and the squared and negative-squared Latin capitals, which have no mapping.
    /// </summary>
    internal static bool IsCased(Rune rune)
    {
        int cp = rune.Value;
        if (cp is 0x00AA or 0x00BA || (cp >= 0x1F130 && cp <= 0x1F149) || (cp >= 0x1F150 && cp <= 0x1F169)
            || (cp >= 0x1F170 && cp <= 0x1F189))
            return true;
        if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
            or UnicodeCategory.TitlecaseLetter)
            return true;
        return Rune.ToLowerInvariant(rune) != rune || Rune.ToUpperInvariant(rune) != rune;
    }
}
