using System.Buffers;
using System.Text;

namespace Tuwen.Text;

/// <summary>Receives the words of BERT's basic tokenizer one at a time; returns false to stop early.</summary>
internal interface IWordSink
{
    bool OnWord(ReadOnlySpan<char> word);
}

/// <summary>
/// BERT's BasicTokenizer with do_lower_case=True and tokenize_chinese_chars=True, in one pass and without
/// allocating for the common case. The stages are the same as tokenization.py's and run in the same order:
/// clean (drop NUL, U+FFFD, Cc/Cf; whitespace becomes a separator), isolate CJK ideographs, split on whitespace,
/// lower-case and strip accents per whitespace token, then split that on punctuation.
/// </summary>
internal static class BertBasicTokenizer
{
    public static void Run<TSink>(ReadOnlySpan<char> text, ref TSink sink) where TSink : struct, IWordSink
    {
        char[] token = ArrayPool<char>.Shared.Rent(Math.Clamp(text.Length, 16, 1024));
        try
        {
            RunInto(text, ref sink, ref token);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(token);
        }
    }

    private static void RunInto<TSink>(ReadOnlySpan<char> text, ref TSink sink, ref char[] token)
        where TSink : struct, IWordSink
    {
        // `token` collects one whitespace token; ASCII is lower-cased on the way in (the same as Python's lower()
        // for ASCII), and needsFold records whether anything else in it could change under lower/NFD/strip.
        int length = 0;
        bool needsFold = false;
        Span<char> utf16 = stackalloc char[2];
        for (int i = 0; i < text.Length;)
        {
            char c = text[i];
            if (c < 0x80)
            {
                i++;
                if (c is ' ' or '\t' or '\n' or '\r')
                {
                    if (!EmitToken(token.AsSpan(0, length), needsFold, ref sink)) return;
                    length = 0;
                    needsFold = false;
                }
                else if (c >= 0x20 && c != 0x7F)
                {
                    if (length == token.Length) Grow(ref token);
                    token[length++] = c is >= 'A' and <= 'Z' ? (char)(c + 32) : c;
                }
                // Remaining ASCII is Cc (or NUL), which _clean_text drops without splitting the word.
                continue;
            }

            // An unpaired surrogate decodes as U+FFFD, which _clean_text drops; that matches reading text through
            // a UTF-8 decoder with replacement, the only way such input reaches Python.
            Rune.DecodeFromUtf16(text[i..], out var rune, out int width);
            i += width;
            int cp = rune.Value;
            var category = Rune.GetUnicodeCategory(rune);
            if (BertCharClass.IsWordSeparator(cp, category))
            {
                if (!EmitToken(token.AsSpan(0, length), needsFold, ref sink)) return;
                length = 0;
                needsFold = false;
                continue;
            }
            if (BertCharClass.IsRemoved(cp, category)) continue;

            if (BertCharClass.IsCjk(cp))
            {
                if (!EmitToken(token.AsSpan(0, length), needsFold, ref sink)) return;
                int n = rune.EncodeToUtf16(utf16);
                if (!EmitToken(utf16[..n], BertCharClass.IsCjkNeedingFold(cp), ref sink)) return;
                length = 0;
                needsFold = false;
                continue;
            }

            if (length + 2 > token.Length) Grow(ref token);
            length += rune.EncodeToUtf16(token.AsSpan(length));
            if (!needsFold && !BertCharClass.IsInert(rune)) needsFold = true;
        }
        EmitToken(token.AsSpan(0, length), needsFold, ref sink);
    }

    private static void Grow(ref char[] buffer)
    {
        char[] larger = ArrayPool<char>.Shared.Rent(buffer.Length * 2);
        buffer.CopyTo(larger, 0);
        ArrayPool<char>.Shared.Return(buffer);
        buffer = larger;
    }

    /// <summary>Folds one whitespace token if needed, then hands its punctuation-split words to the sink.</summary>
    private static bool EmitToken<TSink>(ReadOnlySpan<char> token, bool needsFold, ref TSink sink)
        where TSink : struct, IWordSink
    {
        if (token.IsEmpty) return true;
        ReadOnlySpan<char> folded = needsFold ? PythonLowerCase.LowerAndStripAccents(token) : token;

        int wordStart = 0;
        for (int i = 0; i < folded.Length;)
        {
            Rune.DecodeFromUtf16(folded[i..], out var rune, out int width);
            if (BertCharClass.IsPunctuation(rune))
            {
                if (i > wordStart && !sink.OnWord(folded[wordStart..i])) return false;
                if (!sink.OnWord(folded.Slice(i, width))) return false;
                wordStart = i + width;
            }
            i += width;
        }
        return wordStart >= folded.Length || sink.OnWord(folded[wordStart..]);
    }
}
