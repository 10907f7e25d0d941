using Tuwen.Text;

namespace Tuwen.Tests.Text;

public class VocabBuilderTests
{
    private static readonly VocabBuilderOptions Defaults = new();

    private static readonly Lazy<List<string>> FlickrCaptions = new(() =>
        [.. TextTestData.Captions("flickr8kzhc.caption.txt"), .. TextTestData.Captions("flickr8kenc.caption.txt")]);

    [Fact]
    public void SpecialTokens_HaveBertBaseChineseIds()
    {
        var vocab = VocabBuilder.Build(["猫"], Defaults);
        Assert.Equal("[PAD]", vocab[0]);
        Assert.Equal("[unused1]", vocab[1]);
        Assert.Equal("[unused99]", vocab[99]);
        Assert.Equal((0, 100, 101, 102, 103), (vocab.PadId, vocab.UnkId, vocab.ClsId, vocab.SepId, vocab.MaskId));
        Assert.Equal("猫", vocab[104]);
        Assert.Equal(105, vocab.Count);
    }

    [Fact]
    public void SmallCorpus_GivesHandDerivedVocab()
    {
        // Words: 猫 1, cat 3, 狗 1, cats 1, ! 1. Ideographs tie at 1 → ordinal: 狗 U+72D7 before 猫 U+732B.
        // Characters: a, c, t 4 each; ! and s 1 each ('!' U+0021 before 's'). Then their "##" forms.
        // Pieces seen at least twice: "cat" 3 and "##at" 3 (from cat ×3); "cats", "##ats", "##ts" only once.
        string[] corpus = ["猫 cat cat", "狗 cats", "Cat!"];
        var vocab = VocabBuilder.Build(corpus, Defaults);
        string[] expectedAfterSpecials =
            ["狗", "猫", "a", "c", "t", "!", "s", "##a", "##c", "##t", "##!", "##s", "##at", "cat"];
        Assert.Equal(expectedAfterSpecials, vocab.Tokens.Skip(104));

        var tokenizer = new BertTokenizer(vocab);
        Assert.Equal(["cat", "##s"], tokenizer.Tokenize("cats"));
        Assert.Equal(["cat", "!"], tokenizer.Tokenize("Cat!"));
        // No "ct" or "##ta": one character per piece, but no [UNK].
        Assert.Equal(["c", "##t", "##a"], tokenizer.Tokenize("cta"));
    }

    [Fact]
    public void MaxVocabSize_CutsOnlyOptionalPieces()
    {
        string[] corpus = ["猫 cat cat", "狗 cats", "Cat!"];
        var capped = VocabBuilder.Build(corpus, new VocabBuilderOptions { MaxVocabSize = 117 });
        Assert.Equal(117, capped.Count);
        Assert.Equal("##at", capped[116]); // "##at" and "cat" tie at 3; '#' sorts before 'c'.
        // Below what the specials and characters need, those are still all kept.
        var tiny = VocabBuilder.Build(corpus, new VocabBuilderOptions { MaxVocabSize = 104 });
        Assert.Equal(116, tiny.Count);
        Assert.Equal(["c", "##a", "##t", "##s"], new BertTokenizer(tiny).Tokenize("cats"));
    }

    [Fact]
    public void MinFrequency_One_AdmitsEveryWordAndEnding()
    {
        var vocab = VocabBuilder.Build(["cats"], new VocabBuilderOptions { MinFrequency = 1 });
        // a c s t (ordinal, all once), their ## forms, then ##ats ##ts cats.
        Assert.Equal(["a", "c", "s", "t", "##a", "##c", "##s", "##t", "##ats", "##ts", "cats"], vocab.Tokens.Skip(104));
    }

    [Fact]
    public void EveryCorpusCharacter_TokenizesWithoutUnknown()
    {
        string[] tricky = ["Café ΣΑΣ İstanbul", "😂😀👍🏻 a😀b", "𠀀𪚥 ｆｕｌｌ－ｗｉｄｔｈ", "x\u00A0y\u2028z ¥100 ×3 ℃"];
        List<string> corpus = [.. FlickrCaptions.Value, .. tricky];
        var vocab = VocabBuilder.Build(corpus, Defaults);
        Assert.True(vocab.Count <= Defaults.MaxVocabSize, $"vocab has {vocab.Count} tokens");
        var tokenizer = new BertTokenizer(vocab);
        foreach (var text in corpus)
            Assert.DoesNotContain(vocab.UnkId, tokenizer.EncodeIds(text));
        // The Chinese-CLIP vocab, by contrast, lacks some of these characters.
        Assert.Contains(100, TextTestData.ChineseClipTokenizer.EncodeIds(tricky[1]));
    }

    [Fact]
    public void Build_IsDeterministicAndIndependentOfTextOrder()
    {
        var captions = FlickrCaptions.Value.Take(5000).ToList();
        var first = VocabBuilder.Build(captions, Defaults);
        var shuffled = captions.OrderBy(c => c.GetHashCode()).ToList();
        var second = VocabBuilder.Build(shuffled, Defaults);
        Assert.Equal(first.Tokens, second.Tokens);
    }

    [Fact]
    public void EnglishCorpus_GetsWholeWordsAndSuffixPieces()
    {
        var vocab = VocabBuilder.Build(TextTestData.Captions("flickr8kenc.caption.txt"), Defaults);
        var tokenizer = new BertTokenizer(vocab);
        // "dogs" (2,125 times) and "dogsled" (3 times) are whole-word pieces.
        Assert.Equal(["dogs", "dogsled"], tokenizer.Tokenize("Dogs dogsled"));
        Assert.True(vocab.TryGetId("##ing", out _));
        // A word absent from the captions still splits into a few frequent pieces, not letters.
        var pieces = tokenizer.Tokenize("dogwalking");
        Assert.True(pieces.Count <= 3, string.Join(" ", pieces));
        Assert.Equal("dog", pieces[0]);
    }

    [Fact]
    public void BuiltVocab_SurvivesSaveAndLoad()
    {
        var vocab = VocabBuilder.Build(["猫 cat cat", "a\u2028b"], Defaults);
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"tuwen-built-{Guid.NewGuid():N}.txt");
        try
        {
            vocab.Save(path);
            Assert.Equal(vocab.Tokens, Vocab.Load(path).Tokens);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(103, 2)]
    [InlineData(30000, 0)]
    public void InvalidOptions_Throw(int maxVocabSize, int minFrequency)
    {
        var options = new VocabBuilderOptions { MaxVocabSize = maxVocabSize, MinFrequency = minFrequency };
        Assert.Throws<TuwenException>(() => VocabBuilder.Build(["a"], options));
    }
}
