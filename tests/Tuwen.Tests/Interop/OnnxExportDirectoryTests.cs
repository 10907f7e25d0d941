using Tuwen.Inference;
using Tuwen.Interop.Onnx;
using Tuwen.Models;
using Tuwen.Tests.Cli;
using Tuwen.Training;

namespace Tuwen.Tests.Interop;

public sealed class OnnxExportDirectoryTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("tuwen-onnx-dir-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    private static readonly ModelConfig Tiny = new()
    {
        Name = "onnx-test", EmbedDim = 16,
        Vision = new VisionConfig { Type = "vit", ImageSize = 32, PatchSize = 16, Width = 32, Layers = 1, Heads = 4 },
        Text = new TextConfig { VocabSize = 120, ContextLength = 10, Width = 32, Layers = 1, Heads = 4, IntermediateSize = 64, MaxPositions = 16 },
    };

    private string SaveCheckpoint(ModelConfig config)
    {
        var dir = Path.Combine(root, "ck-" + config.Vision.Type + "-" + config.Text.Type);
        using var model = new DualEncoder(config);
        Checkpoint.Save(dir, config, new TrainConfig(), OnnxExportParityTests.Exported.Vocab(config.Text.VocabSize), model.state_dict(), [], new TrainState());
        return dir;
    }

    [Fact]
    public void ManifestRoundTripsThroughOnnxJson()
    {
        var m = new OnnxManifest { EmbedDim = 512, ImageSize = 224, ContextLength = 52, SourceCheckpoint = "/x/ck", Opset = 17, VisionType = "vit", TextType = "bert", ModelName = "vit-b-16" };
        m.Save(root);
        Assert.Equal(m, OnnxManifest.Load(root));
        Assert.Contains("\"embed_dim\": 512", File.ReadAllText(Path.Combine(root, OnnxManifest.FileName)));
    }

    [Fact]
    public void ExportCommandWritesADirectoryTheOnnxRuntimeOpens()
    {
        var ck = SaveCheckpoint(Tiny);
        var outDir = Path.Combine(root, "export");
        var result = CliRunner.Run("export", "onnx", "--checkpoint", ck, "--out", outDir);
        Assert.True(result.ExitCode == 0, result.Err);
        Assert.Contains("opset 17", result.Out);
        var m = OnnxManifest.Load(outDir);
        Assert.Equal((16, 32, 10, 17L, "vit", "bert"), (m.EmbedDim, m.ImageSize, m.ContextLength, m.Opset, m.VisionType, m.TextType));
        Assert.Equal(Checkpoint.Resolve(ck), m.SourceCheckpoint);
        using var runtime = EmbeddingRuntimes.Open("onnx", outDir);
        Assert.Equal(("onnx", 16, 120), (runtime.Name, runtime.EmbedDim, runtime.Tokenizer.Vocab.Count));
        Assert.Equal(2 * 16, runtime.EmbedImages(new float[2 * 3 * 32 * 32], 2).Length);
        var error = Assert.Throws<TuwenException>(() => runtime.EmbedTexts(new long[7], 1));
        Assert.Contains("expected 10", error.Message);
    }

    [Theory]
    [InlineData("swin", "bert", "vision.type is 'swin'")]
    [InlineData("brivl", "bert", "vision.type is 'brivl'")]
    [InlineData("vit", "brivl", "text.type is 'brivl'")]
    public void UnsupportedTowersAreRefusedByName(string vision, string text, string message)
    {
        var config = Tiny with { Vision = Tiny.Vision with { Type = vision }, Text = Tiny.Text with { Type = text } };
        var error = Assert.Throws<TuwenException>(() => OnnxExport.CheckSupported(config));
        Assert.Contains(message, error.Message);
        Assert.Contains("ONNX export supports", error.Message);
    }

    [Fact]
    public void BadCheckpointAndIncompleteExportGiveOneLineErrors()
    {
        var notCheckpoint = Directory.CreateDirectory(Path.Combine(root, "empty")).FullName;
        var result = CliRunner.Run("export", "onnx", "--checkpoint", notCheckpoint, "--out", Path.Combine(root, "o"));
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: no checkpoint at", result.Err);

        var error = Assert.Throws<TuwenException>(() => EmbeddingRuntimes.Open("onnx", notCheckpoint));
        Assert.Contains("onnx.json is missing", error.Message);

        new OnnxManifest { EmbedDim = 8, ImageSize = 32, ContextLength = 10, Opset = 17 }.Save(notCheckpoint);
        error = Assert.Throws<TuwenException>(() => EmbeddingRuntimes.Open("onnx", notCheckpoint));
        Assert.Contains("missing vocab.txt", error.Message);

        File.WriteAllText(Path.Combine(notCheckpoint, OnnxExport.VocabFile), string.Join('\n', OnnxExportParityTests.Exported.Vocab(120)));
        File.WriteAllText(Path.Combine(notCheckpoint, OnnxExport.ImageFile), "not a model");
        File.WriteAllText(Path.Combine(notCheckpoint, OnnxExport.TextFile), "not a model");
        error = Assert.Throws<TuwenException>(() => EmbeddingRuntimes.Open("onnx", notCheckpoint));
        Assert.StartsWith("ONNX Runtime cannot load", error.Message);

        File.WriteAllText(Path.Combine(notCheckpoint, OnnxManifest.FileName), "{\"format\": \"tuwen-onnx-1\", \"embed_dim\": ");
        error = Assert.Throws<TuwenException>(() => OnnxManifest.Load(notCheckpoint));
        Assert.StartsWith("bad ", error.Message);
    }
}
