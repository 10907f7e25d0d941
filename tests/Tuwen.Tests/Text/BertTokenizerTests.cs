using Tuwen.Text;

namespace Tuwen.Tests.Text;

/// <summary>
/// Expected ids were looked up by hand in the Chinese-CLIP vocab.txt (id = `grep -n -x -F TOKEN vocab.txt` line − 1),
/// following BERT's rules step by step; the comments give the pieces.
/// </summary>
public class BertTokenizerTests
{
    private static BertTokenizer Tokenizer => TextTestData.ChineseClipTokenizer;

    // Flickr8K-CN, 667626_18933d713e.jpg#zhc#0: one piece per ideograph, "。" is its own word.
    private const string Caption = "一个穿着泳装的女人躺在海水里。";
    private static readonly int[] CaptionIds =
        [671, 702, 4959, 4708, 3807, 6163, 4638, 1957, 782, 6720, 1762, 3862, 3717, 7027, 511];

    [Fact]
    public void Caption_EncodesOneIdPerCharacter()
    {
        Assert.Equal(CaptionIds, Tokenizer.EncodeIds(Caption));
        Assert.Equal(["一", "个", "穿", "着", "泳", "装", "的", "女", "人", "躺", "在", "海", "水", "里", "。"],
            Tokenizer.Tokenize(Caption));
    }

    [Theory]
    [InlineData(32)]  // Wukong
    [InlineData(52)]  // Chinese-CLIP
    [InlineData(64)]  // R2D2
    [InlineData(80)]  // BriVL
    public void Encode_AddsClsSepAndZeroPadding(int contextLength)
    {
        long[] expected = new long[contextLength];
        expected[0] = 101;
        for (int i = 0; i < CaptionIds.Length; i++) expected[1 + i] = CaptionIds[i];
        expected[1 + CaptionIds.Length] = 102;
        Assert.Equal(expected, Tokenizer.Encode(Caption, contextLength));
    }

    [Fact]
    public void Encode_DefaultsToChineseClipContextLength()
    {
        Assert.Equal(52, Tokenizer.Encode(Caption).Length);
    }

    [Fact]
    public void FullWidthPunctuation_IsSplitAndCurlyQuotesAreUnknown()
    {
        // 你 好 ， 世 界 ！ 真 的 吗 ？ “ 是 的 ” — the vocab has no “ or ”, so each is [UNK] (100).
        Assert.Equal([872, 1962, 8024, 686, 4518, 8013, 4696, 4638, 1408, 8043, 100, 3221, 4638, 100],
            Tokenizer.EncodeIds("你好，世界！真的吗？“是的”"));
    }

    [Fact]
    public void Emoji_AreMatchedAsWholeCodePoints()
    {
        // 😂 (U+1F602, a surrogate pair) is id 8104; 😀 is not in the vocab.
        Assert.Equal([2769, 4263, 8104, 100], Tokenizer.EncodeIds("我爱😂 😀"));
        // Emoji are neither CJK nor punctuation, so they join the word: "a" + "##😂".
        Assert.Equal([143, 21126], Tokenizer.EncodeIds("a😂"));
        // "😂😀" is one word; "😂" matches but "##😀" does not, so the whole word is a single [UNK].
        Assert.Equal([2769, 4263, 100], Tokenizer.EncodeIds("我爱😂😀"));
    }

    [Fact]
    public void MixedLatinAndDigits_AreLowerCasedAndSplitIntoWordPieces()
    {
        // iphone 8210 | 12 8110 | pro 8376 | 256gb: "256gb", "256g" absent → 256 9745 + ##gb 9673.
        Assert.Equal([8210, 8110, 8376, 9745, 9673], Tokenizer.EncodeIds("iPhone 12 Pro 256GB"));
        Assert.Equal(["iphone", "12", "pro", "256", "##gb"], Tokenizer.Tokenize("iPhone 12 Pro 256GB"));
    }

    [Theory]
    [InlineData("Café")]        // precomposed é
    [InlineData("CAFÉ")]
    [InlineData("Cafe\u0301")]  // e + combining acute
    public void Accents_AreStripped(string text)
    {
        Assert.Equal([8377], Tokenizer.EncodeIds(text)); // cafe
    }

    [Fact]
    public void EmptyOrBlankText_EncodesToClsSepThenPadding()
    {
        long[] expected = new long[52];
        expected[0] = 101;
        expected[1] = 102;
        Assert.Equal(expected, Tokenizer.Encode(""));
        Assert.Equal(expected, Tokenizer.Encode(" \t\r\n\u3000\u200b"));
        Assert.Empty(Tokenizer.EncodeIds(""));
    }

    [Fact]
    public void LongText_IsTruncatedWithSepLast()
    {
        string text = string.Concat(Enumerable.Repeat("一", 200));
        long[] row = Tokenizer.Encode(text, 52);
        Assert.Equal(52, row.Length);
        Assert.Equal(101, row[0]);
        Assert.All(row[1..51], id => Assert.Equal(671, id));
        Assert.Equal(102, row[51]);
        Assert.Equal(200, Tokenizer.EncodeIds(text).Length);
    }

    [Fact]
    public void Truncation_CanCutInsideAWord()
    {
        // "aaaaa" → aaa 10876, ##aa 10226; with room for one piece only the first survives.
        Assert.Equal([101, 10876, 102], Tokenizer.Encode("aaaaa", 3));
        Assert.Equal([101, 10876, 10226, 102], Tokenizer.Encode("aaaaa", 4));
        Assert.Equal([101, 102], Tokenizer.Encode("aaaaa", 2));
    }

    [Fact]
    public void WordOver100CodePoints_IsOneUnknown()
    {
        Assert.Equal([100], Tokenizer.EncodeIds(new string('a', 101)));
        // 100 code points is still matched: aaa, then 48 × ##aa, then ##a (3 + 96 + 1 = 100).
        int[] expected = [10876, .. Enumerable.Repeat(10226, 48), 8139];
        Assert.Equal(expected, Tokenizer.EncodeIds(new string('a', 100)));
        // The limit counts code points, not UTF-16 units: 60 × "a😂" is 120 code points but 180 chars.
        Assert.Equal([100], Tokenizer.EncodeIds(string.Concat(Enumerable.Repeat("a😂", 60))));
    }

    [Fact]
    public void CjkOutsideTheBmp_IsItsOwnWord()
    {
        // 𠀀 (U+20000, extension B) is not in the vocab but is isolated like any ideograph: a [UNK] b.
        Assert.Equal([143, 100, 144], Tokenizer.EncodeIds("a𠀀b"));
    }

    [Fact]
    public void CompatibilityIdeograph_IsDecomposed()
    {
        // U+F900 decomposes (NFD) to U+8C48 豈, id 6488; U+F900 itself is not in the vocab.
        Assert.Equal([6488], Tokenizer.EncodeIds("\uF900"));
    }

    [Fact]
    public void ControlAndFormatCharacters_AreDroppedWithoutSplitting()
    {
        // Zero-width space (Cf), NUL and U+FFFD vanish, leaving "abc" (8425), not "ab" (9386) + "c".
        Assert.Equal([8425], Tokenizer.EncodeIds("ab\u200bc"));
        Assert.Equal([8425], Tokenizer.EncodeIds("a\0b\uFFFDc"));
        // Tab, newline and ideographic space (Zs) separate words.
        Assert.Equal([9386, 145], Tokenizer.EncodeIds("ab\u3000c"));
    }

    [Fact]
    public void LineSeparator_SplitsWords()
    {
        // BERT keeps U+2028 through _clean_text, but str.split() then splits on it: "a" 143, "b" 144.
        // Were it kept inside the word, the vocab's "##\u2028" (13502) would make it a, ##\u2028, ##b.
        Assert.Equal([143, 144], Tokenizer.EncodeIds("a\u2028b"));
        Assert.Equal([143, 144], Tokenizer.EncodeIds("a\u2029b"));
    }

    [Fact]
    public void CapitalSigma_LowerCasesLikePython()
    {
        // Python: "ΣΑΣ".lower() == "σας" (final sigma at the end of a word) → σ 226, ##α 13380, ##ς 13395.
        // A plain one-to-one lower-casing would give "σασ" and end with ##σ 13396.
        Assert.Equal([226, 13380, 13395], Tokenizer.EncodeIds("ΣΑΣ"));
        // Before punctuation the sigma is still final (the word is lowered before it is split): ... ##ς, "."
        Assert.Equal([226, 13380, 13395, 119], Tokenizer.EncodeIds("ΣΑΣ."));
    }

    [Fact]
    public void DottedCapitalI_LowerCasesToI()
    {
        // Python lowers U+0130 to "i" + U+0307; the combining dot is then stripped: "is" 8310.
        Assert.Equal([8310], Tokenizer.EncodeIds("İs"));
    }

    [Fact]
    public void SpecialTokenText_IsTokenizedAsPlainText()
    {
        // Google BERT (and so Chinese-CLIP) gives "[MASK]" in the input no special meaning:
        // "[" 138, "mask" → "mask"/"mas" absent → ma 9622 + ##sk 8998, "]" 140.
        Assert.Equal([138, 9622, 8998, 140], Tokenizer.EncodeIds("[MASK]"));
    }

    [Fact]
    public void EncodeBatch_IsRowMajorAndMatchesEncode()
    {
        string[] texts = [Caption, "", "iPhone 12 Pro 256GB"];
        long[] batch = Tokenizer.EncodeBatch(texts, 32);
        Assert.Equal(3 * 32, batch.Length);
        for (int i = 0; i < texts.Length; i++)
            Assert.Equal(Tokenizer.Encode(texts[i], 32), batch[(i * 32)..((i + 1) * 32)]);
        Assert.Equal([101, 8210, 8110, 8376, 9745, 9673, 102, 0], batch[64..72]);
    }

    [Fact]
    public void AttentionMask_MarksNonPadding()
    {
        long[] mask = BertTokenizer.AttentionMask(Tokenizer.Encode(Caption, 20));
        Assert.Equal([.. Enumerable.Repeat(1L, 17), 0L, 0L, 0L], mask);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData(-5)]
    public void ContextLengthBelowTwo_Throws(int contextLength)
    {
        Assert.Throws<TuwenException>(() => Tokenizer.Encode("x", contextLength));
        Assert.Throws<TuwenException>(() => Tokenizer.EncodeBatch(["x"], contextLength));
    }

    [Fact]
    public void ConcurrentEncoding_GivesTheSameIdsAsSequential()
    {
        var captions = TextTestData.Captions("flickr8kzhc.caption.txt").Take(8000).ToList();
        var sequential = captions.Select(c => Tokenizer.Encode(c)).ToList();
        var parallel = new long[captions.Count][];
        Parallel.For(0, captions.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            i => parallel[i] = Tokenizer.Encode(captions[i]));
        for (int i = 0; i < captions.Count; i++) Assert.Equal(sequential[i], parallel[i]);
    }
}
