using Tuwen.Text;

namespace Tuwen.Tests.Text;

/// <summary>Shared, read-only test inputs: the Chinese-CLIP vocab and the Flickr8K-CN caption files.</summary>
internal static class TextTestData
{
    private static readonly Lazy<Vocab> LazyVocab = new(() => Vocab.Load(VocabPath));
    private static readonly Lazy<BertTokenizer> LazyTokenizer = new(() => new BertTokenizer(ChineseClipVocab));

    public static string VocabPath => SharedData.Path("chinese-clip", "vocab.txt");

    public static Vocab ChineseClipVocab => LazyVocab.Value;

    public static BertTokenizer ChineseClipTokenizer => LazyTokenizer.Value;

    /// <summary>The sentences of a caption file whose lines read "&lt;image&gt;#&lt;tag&gt;#&lt;n&gt; &lt;sentence&gt;".</summary>
    public static List<string> Captions(string fileName)
    {
        var captions = new List<string>();
        foreach (var line in File.ReadLines(SharedData.Path("flickr8k-cn", "captions", fileName)))
        {
            int space = line.IndexOf(' ');
            Assert.True(space > 0, $"caption line without a space in {fileName}: {line}");
            captions.Add(line[(space + 1)..]);
        }
        return captions;
    }
}
