using SkiaSharp;
using Tuwen.Inference;
using Tuwen.Text;

namespace Tuwen.Tests.Inference;

/// <summary>
/// A runtime whose answers are known by construction: an image's feature is the one-hot of its strongest
/// colour channel (red, green, blue); a text's is the one-hot of the first colour character it contains (红 绿 蓝),
/// zero if none. So which class an image must get is known before anything runs.
/// </summary>
internal sealed class ColourRuntime : IEmbeddingRuntime
{
    public static readonly string[] Colours = ["红", "绿", "蓝"];

    public ColourRuntime()
    {
        var tokens = new List<string> { "[PAD]" };
        tokens.AddRange(Enumerable.Range(1, 99).Select(i => $"[unused{i}]"));
        tokens.AddRange(["[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
        tokens.AddRange(Colours);
        tokens.AddRange("一张的照片色".Select(c => c.ToString()));
        Tokenizer = new BertTokenizer(Vocab.FromTokens(tokens));
    }

    public string Name => "colour";
    public int EmbedDim => 3;
    public int ImageSize => 8;
    public int ContextLength => 16;
    public BertTokenizer Tokenizer { get; }
    public int ImageCalls { get; private set; }

    public float[] EmbedImages(ReadOnlySpan<float> pixels, int batch)
    {
        ImageCalls++;
        int plane = ImageSize * ImageSize;
        var result = new float[batch * 3];
        for (int b = 0; b < batch; b++)
        {
            var means = new float[3];
            for (int c = 0; c < 3; c++)
            {
                var span = pixels.Slice((b * 3 + c) * plane, plane);
                float sum = 0;
                foreach (var v in span) sum += v;
                means[c] = sum / plane;
            }
            result[b * 3 + Array.IndexOf(means, means.Max())] = 2f;   // unnormalised on purpose
        }
        return result;
    }

    public float[] EmbedTexts(ReadOnlySpan<long> tokenIds, int batch)
    {
        var ids = Colours.Select(c => (long)Tokenizer.Vocab[c]).ToArray();
        var result = new float[batch * 3];
        for (int b = 0; b < batch; b++)
        {
            var row = tokenIds.Slice(b * ContextLength, ContextLength);
            foreach (var id in row)
            {
                int colour = Array.IndexOf(ids, id);
                if (colour >= 0) { result[b * 3 + colour] = 3f; break; }
            }
        }
        return result;
    }

    public void Dispose() { }

    /// <summary>A solid-colour PNG.</summary>
    public static byte[] SolidPng(byte r, byte g, byte b, int size = 12)
    {
        using var bitmap = new SKBitmap(size, size);
        bitmap.Erase(new SKColor(r, g, b));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
