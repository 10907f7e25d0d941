using TorchSharp;
using Tuwen.Inference;
using Tuwen.Interop.Onnx;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Tests.Interop;

/// <summary>
/// The exported graphs run by ONNX Runtime against the TorchSharp towers they were built from (an independent
/// implementation of the same forward pass): ≤ 1e-4 max abs at batch 1, 3 and 8 from one exported file each.
/// </summary>
public class OnnxExportParityTests
{
    private const double Tolerance = 1e-4;
    private static readonly int[] Batches = [1, 3, 8];

    private static readonly TextConfig SmallText = new()
    {
        VocabSize = 160, ContextLength = 12, Width = 32, Layers = 2, Heads = 4, IntermediateSize = 64, MaxPositions = 16,
    };

    private static ModelConfig Vit(int patch, int imageSize, string activation) => new()
    {
        EmbedDim = 24,
        Vision = new VisionConfig { Type = "vit", ImageSize = imageSize, PatchSize = patch, Width = 32, Layers = 2, Heads = 4, Activation = activation },
        Text = SmallText,
    };

    private static ModelConfig ResNet() => new()
    {
        EmbedDim = 24,
        Vision = new VisionConfig { Type = "resnet", ImageSize = 32, Width = 8, StageDepths = [1, 2], Heads = 4 },
        Text = SmallText,
    };

    [Theory]
    [InlineData(16, 32, "gelu")]
    [InlineData(16, 48, "quick_gelu")]
    [InlineData(14, 28, "quick_gelu")]
    [InlineData(14, 42, "gelu")]
    public void VitImageTowerMatchesTorchSharpAtEveryBatchSize(int patch, int imageSize, string activation) =>
        CheckImages(Vit(patch, imageSize, activation));

    [Fact]
    public void ModifiedResNetImageTowerMatchesTorchSharpAtEveryBatchSize() => CheckImages(ResNet());

    [Fact]
    public void BertTextTowerMatchesTorchSharpWithMixedPaddingAtEveryBatchSize()
    {
        using var export = Exported.Of(Vit(16, 32, "gelu"));
        var context = SmallText.ContextLength;
        foreach (var batch in Batches)
        {
            var generator = new Generator((ulong)batch + 7);
            using var ids = randint(104, SmallText.VocabSize, [batch, context], dtype: ScalarType.Int64, generator: generator);
            ids[.., 0] = tensor(101L);
            // Row r keeps 2 + (r·5 mod (L−1)) tokens: lengths 2, 7, 12 (no padding), 6, … — every row a different mask.
            for (var r = 0; r < batch; r++)
            {
                var kept = 2 + r * 5 % (context - 1);
                if (kept < context) ids[r, kept..] = tensor(0L);
            }
            var flat = ids.data<long>().ToArray();
            var ours = export.Runtime.EmbedTexts(flat, batch);
            using var reference = export.Model.EncodeText(ids);
            AssertClose(reference, ours, $"text batch {batch}");
        }
    }

    [Fact]
    public void TextGraphAcceptsOtherLengthsThanTheContextLength()
    {
        using var export = Exported.Of(Vit(16, 32, "gelu"));
        using var ids = tensor(new long[] { 101, 140, 105, 0, 0, 101, 140, 0, 0, 0 }, [2, 5]);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(Path.Combine(export.Dir, OnnxExport.TextFile));
        using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(ids.data<long>().ToArray(), [2, 5]);
        using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
        using var results = session.Run(runOptions, ["token_ids"], [input], ["features"]);
        using var reference = export.Model.EncodeText(ids);
        AssertClose(reference, results[0].GetTensorDataAsSpan<float>().ToArray(), "text length 5");
    }

    private static void CheckImages(ModelConfig config)
    {
        using var export = Exported.Of(config);
        var side = config.Vision.ImageSize;
        foreach (var batch in Batches)
        {
            using var images = randn([batch, 3, side, side], generator: new Generator((ulong)batch));
            var ours = export.Runtime.EmbedImages(images.data<float>().ToArray(), batch);
            using var reference = export.Model.EncodeImage(images);
            AssertClose(reference, ours, $"{config.Vision.Type} batch {batch}");
        }
    }

    private static void AssertClose(Tensor reference, float[] ours, string what)
    {
        var expected = reference.data<float>().ToArray();
        Assert.Equal(expected.Length, ours.Length);
        var maxAbs = expected.Zip(ours, (a, b) => Math.Abs(a - b)).Max();
        var scale = expected.Max(Math.Abs);
        Assert.True(scale > 0.1, $"{what}: reference features are degenerate (max |x| {scale})");
        Assert.True(maxAbs <= Tolerance, $"{what}: max abs difference {maxAbs:E2} > {Tolerance:E0} (features up to {scale:F3})");
    }

    /// <summary>A model with every parameter and BN statistic randomised (so a swapped weight, bias, mean or
    /// variance shows), exported to a temporary directory and opened with the "onnx" runtime.</summary>
    internal sealed class Exported : IDisposable
    {
        public required DualEncoder Model { get; init; }
        public required IEmbeddingRuntime Runtime { get; init; }
        public required string Dir { get; init; }

        public static Exported Of(ModelConfig config)
        {
            manual_seed(42);
            var model = new DualEncoder(config);
            Randomise(model);
            model.eval();
            var dir = Directory.CreateTempSubdirectory("tuwen-onnx-").FullName;
            OnnxExport.Export(model, Vocab(config.Text.VocabSize), config.Text.ContextLength, "test", dir);
            return new Exported { Model = model, Runtime = EmbeddingRuntimes.Open("onnx", dir), Dir = dir };
        }

        /// <summary>A BERT-layout vocab of <paramref name="size"/> tokens (special tokens at BERT's ids).</summary>
        public static List<string> Vocab(int size) => Enumerable.Range(0, size).Select(i => i switch
        {
            0 => "[PAD]", 100 => "[UNK]", 101 => "[CLS]", 102 => "[SEP]", 103 => "[MASK]", _ => $"t{i}",
        }).ToList();

        private static void Randomise(DualEncoder model)
        {
            using var _ = no_grad();
            using var spread = 0.2.ToScalar();
            using var half = 0.5.ToScalar();
            foreach (var (name, p) in model.named_parameters())
            {
                using var noise = randn_like(p).mul_(spread);
                p.add_(noise);
            }
            foreach (var (name, b) in model.named_buffers())
            {
                if (name.EndsWith("running_mean", StringComparison.Ordinal)) { using var n = randn_like(b).mul_(spread); b.copy_(n); }
                if (name.EndsWith("running_var", StringComparison.Ordinal)) { using var n = rand_like(b).add_(half); b.copy_(n); }
            }
        }

        public void Dispose()
        {
            Runtime.Dispose();
            Model.Dispose();
            Directory.Delete(Dir, true);
        }
    }
}
