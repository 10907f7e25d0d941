using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tuwen.Models;

/// <summary>Image tower size. <c>Type</c> picks the tower from <see cref="TowerRegistry"/>.</summary>
public sealed record VisionConfig
{
    public string Type { get; init; } = "vit";
    public int ImageSize { get; init; } = 224;
    public int PatchSize { get; init; } = 16;
    /// <summary>Patch embedding: "patch" (one strided convolution, as CLIP) or "conv" (<see cref="ConvStem"/>).</summary>
    public string Stem { get; init; } = "patch";
    public int Width { get; init; } = 768;
    public int Layers { get; init; } = 12;
    public int Heads { get; init; } = 12;
    public double MlpRatio { get; init; } = 4.0;
    /// <summary>ViT MLP activation: "gelu" (erf) or "quick_gelu" (x·σ(1.702x), which OpenAI and Chinese-CLIP ViTs were trained with).</summary>
    public string Activation { get; init; } = "gelu";
    /// <summary>Blocks per stage of hierarchical towers (Swin depths, ResNet layers, the BriVL CNN backbone).</summary>
    public int[] StageDepths { get; init; } = [];
    /// <summary>Attention heads per stage (Swin).</summary>
    public int[] StageHeads { get; init; } = [];
    /// <summary>Swin's attention window, in tokens per side.</summary>
    public int WindowSize { get; init; } = 7;
    /// <summary>BriVL: regions per side of the fixed grid pooled from the CNN feature map (plus the whole image).</summary>
    public int RegionGrid { get; init; } = 6;
    /// <summary>Towers with a head on top of the backbone (BriVL): its transformer layers, heads and MLP width.</summary>
    public int HeadLayers { get; init; }
    public int HeadHeads { get; init; } = 4;
    public int HeadHidden { get; init; }
}

/// <summary>Text tower size (BERT-style). VocabSize is replaced by the run's vocab size when it differs.</summary>
public sealed record TextConfig
{
    public string Type { get; init; } = "bert";
    public int VocabSize { get; init; } = 21128;
    public int ContextLength { get; init; } = 52;
    public int Width { get; init; } = 768;
    public int Layers { get; init; } = 12;
    public int Heads { get; init; } = 12;
    public int IntermediateSize { get; init; } = 3072;
    public int MaxPositions { get; init; } = 512;
    public int TypeVocabSize { get; init; } = 2;
    /// <summary>Towers with a head on top of the encoder (BriVL): its transformer layers, heads and MLP width.</summary>
    public int HeadLayers { get; init; }
    public int HeadHeads { get; init; } = 4;
    public int HeadHidden { get; init; }
}

/// <summary>A dual-encoder size, stored as JSON (configs/models/NAME.json) and inside every checkpoint.</summary>
public sealed record ModelConfig
{
    public string Name { get; init; } = "custom";
    public int EmbedDim { get; init; } = 512;
    public VisionConfig Vision { get; init; } = new();
    public TextConfig Text { get; init; } = new();
    /// <summary>CLIP initialises the learnable temperature at 1/0.07 and clamps the scale at 100.</summary>
    public double LogitScaleInit { get; init; } = 1 / 0.07;
    public double LogitScaleMax { get; init; } = 100;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static ModelConfig Parse(string json, string source)
    {
        ModelConfig? config;
        try { config = JsonSerializer.Deserialize<ModelConfig>(json, Json); }
        catch (JsonException e) { throw new TuwenException($"bad model config {source}: {e.Message}"); }
        return (config ?? throw new TuwenException($"empty model config {source}")).Validate(source);
    }

    /// <summary>Loads a named config shipped in configs/models, or a JSON file path.</summary>
    public static ModelConfig Load(string nameOrPath)
    {
        var path = File.Exists(nameOrPath) ? nameOrPath : ConfigFiles.Find("models", nameOrPath);
        return Parse(File.ReadAllText(path), path);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public ModelConfig Validate(string source)
    {
        void Check(bool ok, string what) { if (!ok) throw new TuwenException($"bad model config {source}: {what}"); }
        Check(EmbedDim > 0, "embed_dim must be positive");
        // Checks of tower-specific keys live in the towers' constructors.
        if (Vision.Type == "vit")
        {
            Check(Vision.ImageSize % Vision.PatchSize == 0, "vision.image_size must be a multiple of vision.patch_size");
            Check(Vision.Width % Vision.Heads == 0, "vision.width must be a multiple of vision.heads");
            Check(Vision.Activation is "gelu" or "quick_gelu", $"vision.activation must be gelu or quick_gelu, not '{Vision.Activation}'");
        }
        Check(Text.Width % Text.Heads == 0, "text.width must be a multiple of text.heads");
        Check(Text.ContextLength >= 2 && Text.ContextLength <= Text.MaxPositions, "text.context_length must be in [2, max_positions]");
        Check(Text.VocabSize > 104, "text.vocab_size too small for the BERT special tokens");
        Check(LogitScaleInit > 0 && LogitScaleInit <= LogitScaleMax, "logit_scale_init must be in (0, logit_scale_max]");
        return this;
    }
}

/// <summary>Finds shipped JSON configs: next to the program (copied at build) or in the repository.</summary>
public static class ConfigFiles
{
    public static string Find(string kind, string name)
    {
        foreach (var root in Roots())
        {
            var p = Path.Combine(root, "configs", kind, name + ".json");
            if (File.Exists(p)) return p;
        }
        var known = Available(kind);
        throw new TuwenException($"unknown {kind[..^1]} config '{name}' (not a file; shipped: {string.Join(", ", known)})");
    }

    public static IReadOnlyList<string> Available(string kind) => Roots()
        .Select(r => Path.Combine(r, "configs", kind)).Where(Directory.Exists)
        .SelectMany(d => Directory.GetFiles(d, "*.json")).Select(Path.GetFileNameWithoutExtension).OfType<string>()
        .Distinct().Order(StringComparer.Ordinal).ToList();

    private static IEnumerable<string> Roots()
    {
        yield return AppContext.BaseDirectory;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (Directory.Exists(Path.Combine(d.FullName, "configs"))) yield return d.FullName;
    }
}
