using Tuwen.Interop.ChineseClip;
using Tuwen.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Tuwen.Tests.Interop;

/// <summary>
/// The fixtures under Fixtures/parity were made by bench/cnclip-interop/make_parity_fixtures.py running Chinese-CLIP's
/// own code (upstream 31863c7): small random models of each released architecture, their .pt checkpoints, the
/// pixels its image_transform made from the PNGs, token ids, and its encode_image / encode_text outputs (fp32).
/// </summary>
internal static class ParityFixtures
{
    public const double Tolerance = 1e-4;

    /// <summary>The five released Chinese-CLIP pairs: ViT-B/16, ViT-L/14, ViT-L/14@336 (+ RoBERTa-wwm-ext-base),
    /// ViT-H/14 (+ RoBERTa-wwm-ext-large), RN50 (+ RBT3).</summary>
    public static TheoryData<string> Architectures => new() { "vit-b-16", "vit-l-14", "vit-l-14-336", "vit-h-14", "rn50" };

    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Interop", "Fixtures", "parity", name);

    /// <summary>The head widths the fixtures were built with (scaled down from 64 / 80 so the models stay small).</summary>
    public static ChineseClipImportOptions Options(string architecture) => architecture switch
    {
        "vit-h-14" => new() { VisionHeadWidth = 10, TextHeadWidth = 8 },
        "rn50" => new() { VisionHeadWidth = 32, TextHeadWidth = 8 },
        _ => new() { VisionHeadWidth = 8, TextHeadWidth = 8 },
    };

    public static Dictionary<string, Tensor> Reference(string architecture) => SafeTensors.Load(Path(architecture + ".ref.safetensors"));

    public static string[] Images { get; } = ["img0.png", "img1.png", "img2.png"];

    /// <summary>Max |a − b| over all elements, after checking the shapes agree.</summary>
    public static double MaxAbsDiff(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var d = (actual.to(ScalarType.Float32) - expected).abs().max();
        return d.item<float>();
    }

    public static double AssertClose(ITestOutputHelper output, string what, Tensor actual, Tensor expected)
    {
        var diff = MaxAbsDiff(actual, expected);
        output.WriteLine($"{what}: max abs diff {diff:E2}");
        Assert.True(diff <= Tolerance, $"{what}: max abs diff {diff:E3} > {Tolerance:E0}");
        return diff;
    }
}
