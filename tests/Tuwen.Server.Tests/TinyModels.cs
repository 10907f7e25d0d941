using SkiaSharp;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Server.Tests;

/// <summary>
/// Real (random) checkpoints small enough to load in a blink: a CLIP one and an R2D2 one with cross encoders,
/// saved once per test run. Their vocab holds the characters of the test captions, so Chinese queries embed
/// through real tokens.
/// </summary>
public static class TinyModels
{
    public static readonly string[] Captions = ["笑脸", "红心", "猫脸", "披萨", "火箭", "下雨", "足球", "笑哭了"];

    private static readonly string Root = Directory.CreateTempSubdirectory("tuwen-server-tests-").FullName;
    private static readonly Lazy<string> ClipPath = new(() => Save("clip"));
    private static readonly Lazy<string> R2d2Path = new(() => Save("r2d2"));

    public static string Clip => ClipPath.Value;

    public static string R2d2 => R2d2Path.Value;

    private static ModelConfig Config(int vocab) => new()
    {
        Name = "server-test", EmbedDim = 16,
        Vision = new VisionConfig { Type = "vit", ImageSize = 32, PatchSize = 16, Width = 32, Layers = 1, Heads = 4 },
        Text = new TextConfig { VocabSize = vocab, ContextLength = 10, Width = 32, Layers = 1, Heads = 4, IntermediateSize = 64, MaxPositions = 16 },
    };

    private static List<string> Vocab()
    {
        var chars = Captions.SelectMany(c => c).Distinct().Select(c => c.ToString()).ToList();
        var vocab = Enumerable.Range(0, 120).Select(i => i switch
        {
            0 => "[PAD]", 100 => "[UNK]", 101 => "[CLS]", 102 => "[SEP]", 103 => "[MASK]", _ => $"t{i}",
        }).ToList();
        for (var i = 0; i < chars.Count; i++) vocab[1 + i] = chars[i];
        return vocab;
    }

    private static string Save(string objective)
    {
        lock (Root)
        {
            var dir = Path.Combine(Root, objective);
            var vocab = Vocab();
            var config = Config(vocab.Count);
            manual_seed(7);
            using var model = new DualEncoder(config);
            var recipe = new TrainConfig { Objective = objective };
            using var extra = ObjectiveRegistry.Create(objective, null, model);
            var tensors = model.state_dict().AsEnumerable();
            if (extra.Module is { } heads) tensors = tensors.Concat(heads.state_dict().Select(kv => KeyValuePair.Create("objective." + kv.Key, kv.Value)));
            Checkpoint.Save(dir, config, recipe, vocab, tensors.ToList(), [], new TrainState());
            return dir;
        }
    }

    /// <summary>A small PNG of one colour with a darker square whose place depends on the index.</summary>
    public static byte[] Png(int index, int size = 48)
    {
        using var bitmap = new SKBitmap(size, size);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColor.FromHsv(index * 360f / Captions.Length % 360, 80, 90));
        using var paint = new SKPaint { Color = SKColor.FromHsv(index * 47 % 360, 90, 40) };
        canvas.DrawRect(index % 3 * 14, index / 3 % 3 * 14, 18, 18, paint);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
