using Tuwen.Text;

namespace Tuwen.Tests.Text;

public class VocabTests
{
    [Fact]
    public void ChineseClipVocab_HasBertBaseChineseLayout()
    {
        var vocab = TextTestData.ChineseClipVocab;
        Assert.Equal(21128, vocab.Count);
        Assert.Equal(0, vocab.PadId);
        Assert.Equal(100, vocab.UnkId);
        Assert.Equal(101, vocab.ClsId);
        Assert.Equal(102, vocab.SepId);
        Assert.Equal(103, vocab.MaskId);
        Assert.Equal("[unused1]", vocab[1]);
        Assert.Equal("##😎", vocab[21127]); // last line of the file
    }

    [Fact]
    public void ChineseClipVocab_KeepsLineSeparatorTokens()
    {
        // Splitting on U+2028 as well as '\n' would shift every id after 343 by one and after 13502 by two.
        var vocab = TextTestData.ChineseClipVocab;
        Assert.Equal("\u2028", vocab[343]);
        Assert.Equal("##\u2028", vocab[13502]);
        Assert.Equal(343, vocab["\u2028"]);
        Assert.Equal("一", vocab[671]); // grep -n '^一$' vocab.txt → line 672
        Assert.Equal(8210, vocab["iphone"]); // line 8211
    }

    [Fact]
    public void Lookup_OfUnknownToken_FailsOrReportsAbsence()
    {
        var vocab = TextTestData.ChineseClipVocab;
        Assert.False(vocab.TryGetId("“", out _)); // bert-base-chinese has no curly quotes
        Assert.True(vocab.TryGetId("[MASK]", out int mask));
        Assert.Equal(103, mask);
        Assert.Throws<KeyNotFoundException>(() => vocab["no-such-token"]);
    }

    [Fact]
    public void SaveThenLoad_RoundTripsEveryToken()
    {
        var original = TextTestData.ChineseClipVocab;
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"tuwen-vocab-{Guid.NewGuid():N}.txt");
        try
        {
            original.Save(path);
            var reloaded = Vocab.Load(path);
            Assert.Equal(original.Tokens, reloaded.Tokens);
            // Byte-identical to the source file, which uses '\n' endings and a final newline.
            Assert.Equal(File.ReadAllBytes(TextTestData.VocabPath), File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_SplitsOnLineFeedOnly_AndStripsOneCarriageReturn()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"tuwen-vocab-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllText(path, "[PAD]\r\na\u2029b\n\r\r\n\n\u0085c\n");
            var vocab = Vocab.Load(path);
            Assert.Equal(["[PAD]", "a\u2029b", "\r", "", "\u0085c"], vocab.Tokens);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FromTokens_WithEmptyAndRepeatedTokens_RoundTrips()
    {
        var vocab = Vocab.FromTokens(["[PAD]", "x", "", "x"]);
        Assert.Equal(3, vocab["x"]); // the last occurrence wins, as in BERT's load_vocab
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"tuwen-vocab-{Guid.NewGuid():N}.txt");
        try
        {
            vocab.Save(path);
            Assert.Equal(["[PAD]", "x", "", "x"], Vocab.Load(path).Tokens);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Save_RejectsTokenWithLineFeed()
    {
        var vocab = Vocab.FromTokens(["[PAD]", "a\nb"]);
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"tuwen-vocab-{Guid.NewGuid():N}.txt");
        Assert.Throws<TuwenException>(() => vocab.Save(path));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Load_MissingFile_ThrowsTuwenExceptionNamingThePath()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"tuwen-missing-{Guid.NewGuid():N}", "vocab.txt");
        var e = Assert.Throws<TuwenException>(() => Vocab.Load(path));
        Assert.Equal($"vocab file not found: {path}", e.Message);
    }

    [Fact]
    public void MissingSpecialToken_ThrowsWhenAsked()
    {
        var vocab = Vocab.FromTokens(["[PAD]", "[UNK]"]);
        Assert.Equal(1, vocab.UnkId);
        var e = Assert.Throws<TuwenException>(() => vocab.MaskId);
        Assert.Contains("[MASK]", e.Message);
        Assert.Throws<TuwenException>(() => new BertTokenizer(vocab)); // needs [CLS] and [SEP]
    }
}
