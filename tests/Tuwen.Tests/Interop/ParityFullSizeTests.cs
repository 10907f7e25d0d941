using System.IO.Compression;
using System.Text.Json;
using Tuwen.Interop.ChineseClip;
using Tuwen.Models;
using Xunit.Abstractions;

namespace Tuwen.Tests.Interop;

/// <summary>
/// The five released Chinese-CLIP state_dicts at full size, as names and shapes only (fullsize-shapes.json.gz, made
/// by make_parity_fixtures.py from cn_clip's own model_configs): the inferred configs are the published sizes and
/// equal the shipped configs/models/cnclip-*.json, and the key mapping covers every key both ways — checked on a
/// miniature of the same depth, so no full-size model is allocated.
/// </summary>
public class ParityFullSizeTests(ITestOutputHelper output)
{
    static readonly Lazy<Dictionary<string, Dictionary<string, long[]>>> Listing = new(() =>
    {
        using var gz = new GZipStream(File.OpenRead(ParityFixtures.Path("fullsize-shapes.json.gz")), CompressionMode.Decompress);
        return JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, long[]>>>(gz)!;
    });

    [Theory]
    //          architecture    embed type      image patch vwidth vlayers vheads twidth tlayers theads tinter
    [InlineData("vit-b-16", 512, "vit", 224, 16, 768, 12, 12, 768, 12, 12, 3072)]
    [InlineData("vit-l-14", 768, "vit", 224, 14, 1024, 24, 16, 768, 12, 12, 3072)]
    [InlineData("vit-l-14-336", 768, "vit", 336, 14, 1024, 24, 16, 768, 12, 12, 3072)]
    [InlineData("vit-h-14", 1024, "vit", 224, 14, 1280, 32, 16, 1024, 24, 16, 4096)]
    [InlineData("rn50", 1024, "resnet", 224, 0, 64, 0, 32, 768, 3, 12, 3072)]
    public void InfersThePublishedSizes(string architecture, int embed, string type, int image, int patch, int vWidth, int vLayers, int vHeads,
        int tWidth, int tLayers, int tHeads, int tIntermediate)
    {
        var c = ChineseClipCheckpointConfig.Infer(Listing.Value[architecture]);
        output.WriteLine(c.ToJson());
        Assert.Equal($"cnclip-{architecture}", c.Name);
        Assert.Equal(embed, c.EmbedDim);
        Assert.Equal(type, c.Vision.Type);
        Assert.Equal(image, c.Vision.ImageSize);
        Assert.Equal(vWidth, c.Vision.Width);
        Assert.Equal(vHeads, c.Vision.Heads);
        if (type == "vit")
        {
            Assert.Equal(patch, c.Vision.PatchSize);
            Assert.Equal(vLayers, c.Vision.Layers);
            Assert.Equal(4.0, c.Vision.MlpRatio);
            Assert.Equal("quick_gelu", c.Vision.Activation);
        }
        else Assert.Equal([3, 4, 6, 3], c.Vision.StageDepths);
        Assert.Equal((tWidth, tLayers, tHeads, tIntermediate, 21128, 512, 52), (c.Text.Width, c.Text.Layers, c.Text.Heads, c.Text.IntermediateSize, c.Text.VocabSize, c.Text.MaxPositions, c.Text.ContextLength));
        Assert.Equal(ModelConfig.Load($"cnclip-{architecture}"), c, ModelConfigComparer.Instance);
    }

    [Theory]
    [MemberData(nameof(ParityFixtures.Architectures), MemberType = typeof(ParityFixtures))]
    public void KeyMappingCoversEveryReleasedKey(string architecture)
    {
        var keys = Listing.Value[architecture].Keys.Where(k => !k.StartsWith("bert.pooler.", StringComparison.Ordinal)).ToHashSet();
        var full = ChineseClipCheckpointConfig.Infer(Listing.Value[architecture]);
        // Same depth and layout, tiny widths: the names are the full model's, the memory is not.
        var mini = full with
        {
            EmbedDim = 8,
            Vision = full.Vision.Type == "vit"
                ? full.Vision with { Width = 8, Heads = 2, ImageSize = full.Vision.PatchSize }
                : full.Vision with { Width = 2, Heads = 1, ImageSize = 32 },
            Text = full.Text with { Width = 8, Heads = 2, IntermediateSize = 8, VocabSize = 120, MaxPositions = 52 },
        };
        using var model = new DualEncoder(mini);
        var mapped = model.named_parameters().Select(p => p.name).Concat(model.named_buffers().Select(b => b.name))
            .Select(ChineseClipCheckpoint.SourceName).ToHashSet();
        Assert.Empty(keys.Except(mapped));
        Assert.Empty(mapped.Except(keys));
        output.WriteLine($"{architecture}: {keys.Count} keys mapped");
    }
}

/// <summary>Configs compare by their JSON (records with arrays do not compare by value).</summary>
internal sealed class ModelConfigComparer : IEqualityComparer<ModelConfig>
{
    public static readonly ModelConfigComparer Instance = new();
    public bool Equals(ModelConfig? x, ModelConfig? y) => x?.ToJson() == y?.ToJson();
    public int GetHashCode(ModelConfig obj) => obj.ToJson().GetHashCode();
}
