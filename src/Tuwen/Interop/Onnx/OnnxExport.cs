using Tuwen.Models;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Interop.Onnx;

/// <summary>
/// Writes a dual encoder as an ONNX Runtime directory: image.onnx, text.onnx (each ending in the joint space,
/// unnormalised, as <see cref="DualEncoder.EncodeImage"/> / <see cref="DualEncoder.EncodeText"/>), vocab.txt and
/// onnx.json. TorchSharp has no ONNX export, so the graphs are built here from the modules' weights.
/// </summary>
public static class OnnxExport
{
    public const string ImageFile = "image.onnx", TextFile = "text.onnx", VocabFile = "vocab.txt";

    private static readonly string[] ImageTowers = ["vit", "resnet"];
    private static readonly string[] TextTowers = ["bert"];

    /// <summary>Refuses towers without an exporter, before a model is built from the weights.</summary>
    public static void CheckSupported(ModelConfig c)
    {
        if (!ImageTowers.Contains(c.Vision.Type))
            throw new TuwenException($"ONNX export supports image towers {string.Join(", ", ImageTowers)}; this model's vision.type is '{c.Vision.Type}'");
        if (!TextTowers.Contains(c.Text.Type))
            throw new TuwenException($"ONNX export supports text towers {string.Join(", ", TextTowers)}; this model's text.type is '{c.Text.Type}'");
        if (c.Vision.Type == "vit" && c.Vision.Stem != "patch")
            throw new TuwenException($"ONNX export supports the ViT 'patch' stem only; this model's vision.stem is '{c.Vision.Stem}'");
    }

    /// <summary>`tuwen export onnx`: a checkpoint (or run directory) → <paramref name="outDir"/>.</summary>
    public static OnnxManifest FromCheckpoint(string checkpointPath, string outDir)
    {
        var checkpoint = Checkpoint.Load(checkpointPath);
        CheckSupported(checkpoint.Model);
        using var loaded = LoadedModel.FromCheckpoint(checkpointPath, checkpoint);
        return Export(loaded.Model, checkpoint.Vocab, loaded.ContextLength, checkpoint.Directory, outDir);
    }

    public static OnnxManifest Export(DualEncoder model, IReadOnlyList<string> vocab, int contextLength, string source, string outDir)
    {
        var c = model.Config;
        CheckSupported(c);
        Directory.CreateDirectory(outDir);
        var weights = model.state_dict();
        var doc = $"exported by tuwen from {source}";
        ImageGraph(c, weights).Save(Path.Combine(outDir, ImageFile), doc);
        TextGraph(c, weights).Save(Path.Combine(outDir, TextFile), doc);
        File.WriteAllText(Path.Combine(outDir, VocabFile), string.Join('\n', vocab) + "\n");
        var manifest = new OnnxManifest
        {
            EmbedDim = c.EmbedDim, ImageSize = c.Vision.ImageSize, ContextLength = contextLength, SourceCheckpoint = source,
            Opset = OnnxGraph.Opset, VisionType = c.Vision.Type, TextType = c.Text.Type, ModelName = c.Name,
        };
        manifest.Save(outDir);
        return manifest;
    }

    public static OnnxGraph ImageGraph(ModelConfig c, IReadOnlyDictionary<string, Tensor> weights) => c.Vision.Type switch
    {
        "vit" => VitOnnxExporter.Build(c.Vision, c.EmbedDim, weights),
        "resnet" => ResNetOnnxExporter.Build(c.Vision, c.EmbedDim, weights),
        _ => throw new TuwenException($"ONNX export has no graph for vision.type '{c.Vision.Type}'"),
    };

    public static OnnxGraph TextGraph(ModelConfig c, IReadOnlyDictionary<string, Tensor> weights) =>
        c.Text.Type == "bert" ? BertOnnxExporter.Build(c.Text, weights)
        : throw new TuwenException($"ONNX export has no graph for text.type '{c.Text.Type}'");
}
