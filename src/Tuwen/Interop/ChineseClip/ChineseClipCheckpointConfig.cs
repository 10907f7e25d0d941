using System.Text.RegularExpressions;
using Tuwen.Models;

namespace Tuwen.Interop.ChineseClip;

/// <summary>
/// What a state_dict's shapes cannot tell: attention heads (they split a width without changing any shape).
/// Chinese-CLIP fixes them per architecture: ViT heads = width / 64 except ViT-H (width 1280), which uses head
/// width 80; ResNet attention-pool heads = width·32 / 64; every RoBERTa text tower has head width 64.
/// </summary>
public sealed record ChineseClipImportOptions
{
    /// <summary>Vision head width; null: 80 for a 1280-wide ViT (ViT-H/14), else 64.</summary>
    public int? VisionHeadWidth { get; init; }
    /// <summary>Text head width; null: 64.</summary>
    public int? TextHeadWidth { get; init; }
    public int ContextLength { get; init; } = 52;
}

/// <summary>Infers the Tuwen <see cref="ModelConfig"/> of a Chinese-CLIP state_dict (its own key names) from tensor shapes.</summary>
public static partial class ChineseClipCheckpointConfig
{
    public static ModelConfig Infer(IReadOnlyDictionary<string, long[]> shapes, ChineseClipImportOptions? options = null, string source = "checkpoint")
    {
        options ??= new ChineseClipImportOptions();
        long[] Shape(string key) => shapes.TryGetValue(key, out var s) ? s
            : throw new TuwenException($"{source} is not a Chinese-CLIP checkpoint: it has no '{key}'");
        VisionConfig vision;
        int embedDim;
        if (shapes.ContainsKey("visual.class_embedding"))
            (vision, embedDim) = InferViT(Shape, shapes.Keys, options, source);
        else if (shapes.ContainsKey("visual.attnpool.c_proj.weight"))
            (vision, embedDim) = InferResNet(Shape, shapes.Keys, options, source);
        else
            throw new TuwenException($"{source} is not a Chinese-CLIP checkpoint: it has neither visual.class_embedding (ViT) nor visual.attnpool.c_proj.weight (ResNet)");

        var words = Shape("bert.embeddings.word_embeddings.weight");
        var width = (int)words[1];
        var textHeadWidth = options.TextHeadWidth ?? 64;
        var text = new TextConfig
        {
            VocabSize = (int)words[0],
            Width = width,
            Layers = CountIndexed(shapes.Keys, BertLayerKey()),
            Heads = Heads(width, textHeadWidth, "text", source),
            IntermediateSize = (int)Shape("bert.encoder.layer.0.intermediate.dense.weight")[0],
            MaxPositions = (int)Shape("bert.embeddings.position_embeddings.weight")[0],
            TypeVocabSize = (int)Shape("bert.embeddings.token_type_embeddings.weight")[0],
            ContextLength = options.ContextLength,
        };
        var textProjection = Shape("text_projection");
        if (textProjection[0] != width || textProjection[1] != embedDim)
            throw new TuwenException($"{source}: text_projection is [{string.Join(",", textProjection)}], expected [{width},{embedDim}]");
        var config = new ModelConfig { EmbedDim = embedDim, Vision = vision, Text = text };
        return (config with { Name = PublishedName(config) }).Validate(source);
    }

    static (VisionConfig, int) InferViT(Func<string, long[]> shape, IEnumerable<string> keys, ChineseClipImportOptions options, string source)
    {
        var conv = shape("visual.conv1.weight");                       // [width, 3, patch, patch]
        var width = (int)conv[0];
        var patch = (int)conv[2];
        var positions = shape("visual.positional_embedding")[0];
        var grid = (int)Math.Round(Math.Sqrt(positions - 1));
        if (grid * grid + 1 != positions) throw new TuwenException($"{source}: visual.positional_embedding has {positions} rows, not a square grid plus the class token");
        var headWidth = options.VisionHeadWidth ?? (width == 1280 ? 80 : 64);
        var hidden = shape("visual.transformer.resblocks.0.mlp.c_fc.weight")[0];
        var vision = new VisionConfig
        {
            Type = "vit",
            ImageSize = grid * patch,
            PatchSize = patch,
            Width = width,
            Layers = CountIndexed(keys, ViTBlockKey()),
            Heads = Heads(width, headWidth, "vision", source),
            MlpRatio = (double)hidden / width,
            Activation = "quick_gelu",
        };
        return (vision, (int)shape("visual.proj")[1]);
    }

    static (VisionConfig, int) InferResNet(Func<string, long[]> shape, IEnumerable<string> keys, ChineseClipImportOptions options, string source)
    {
        var width = (int)shape("visual.conv3.weight")[0];
        var depths = keys.Select(k => ResNetBlockKey().Match(k)).Where(m => m.Success)
            .Select(m => (Stage: int.Parse(m.Groups[1].Value), Block: int.Parse(m.Groups[2].Value)))
            .GroupBy(x => x.Stage).OrderBy(g => g.Key).Select(g => g.Max(x => x.Block) + 1).ToArray();
        var cells = shape("visual.attnpool.positional_embedding")[0] - 1;
        var side = (int)Math.Round(Math.Sqrt(cells));
        if (side * side != cells) throw new TuwenException($"{source}: visual.attnpool.positional_embedding has {cells + 1} rows, not a square grid plus the mean token");
        var channels = (int)shape("visual.attnpool.k_proj.weight")[0];
        var vision = new VisionConfig
        {
            Type = "resnet",
            ImageSize = side * (2 << depths.Length),
            Width = width,
            StageDepths = depths,
            Heads = Heads(channels, options.VisionHeadWidth ?? 64, "vision", source),
        };
        return (vision, (int)shape("visual.attnpool.c_proj.weight")[0]);
    }

    static int Heads(int width, int headWidth, string tower, string source)
    {
        if (headWidth < 1 || width % headWidth != 0)
            throw new TuwenException($"{source}: {tower} width {width} is not a multiple of head width {headWidth} (pass --{tower}-head-width: Chinese-CLIP uses 64, 80 for ViT-H)");
        return width / headWidth;
    }

    static int CountIndexed(IEnumerable<string> keys, Regex pattern)
    {
        var indices = keys.Select(k => pattern.Match(k)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).ToHashSet();
        return indices.Count == 0 ? 0 : indices.Max() + 1;
    }

    /// <summary>The released architecture these sizes are, as its configs/models name, or "cnclip-custom".</summary>
    static string PublishedName(ModelConfig c)
    {
        var text = (c.Text.Width, c.Text.Layers) switch
        {
            (768, 12) => "roberta-base",
            (1024, 24) => "roberta-large",
            (768, 3) => "rbt3",
            _ => null,
        };
        var vision = (c.Vision.Type, c.Vision.Width, c.Vision.Layers, c.Vision.PatchSize, c.Vision.ImageSize) switch
        {
            ("vit", 768, 12, 16, 224) => "vit-b-16",
            ("vit", 1024, 24, 14, 224) => "vit-l-14",
            ("vit", 1024, 24, 14, 336) => "vit-l-14-336",
            ("vit", 1280, 32, 14, 224) => "vit-h-14",
            ("resnet", 64, _, _, 224) when c.Vision.StageDepths.SequenceEqual([3, 4, 6, 3]) => "rn50",
            _ => null,
        };
        return vision != null && text != null ? $"cnclip-{vision}" : "cnclip-custom";
    }

    [GeneratedRegex(@"^bert\.encoder\.layer\.(\d+)\.")]
    private static partial Regex BertLayerKey();

    [GeneratedRegex(@"^visual\.transformer\.resblocks\.(\d+)\.")]
    private static partial Regex ViTBlockKey();

    [GeneratedRegex(@"^visual\.layer(\d+)\.(\d+)\.")]
    private static partial Regex ResNetBlockKey();
}
