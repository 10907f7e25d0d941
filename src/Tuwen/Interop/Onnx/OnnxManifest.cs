using System.Text.Json;

namespace Tuwen.Interop.Onnx;

/// <summary>
/// onnx.json next to image.onnx / text.onnx / vocab.txt: what a runtime needs to feed the graphs without the
/// checkpoint (sizes), and where they came from.
/// </summary>
public sealed record OnnxManifest
{
    public const string FileName = "onnx.json";
    public const string CurrentFormat = "tuwen-onnx-1";

    public string Format { get; init; } = CurrentFormat;
    public int EmbedDim { get; init; }
    public int ImageSize { get; init; }
    public int ContextLength { get; init; }
    public string SourceCheckpoint { get; init; } = "";
    public long Opset { get; init; }
    public string VisionType { get; init; } = "";
    public string TextType { get; init; } = "";
    public string ModelName { get; init; } = "";

    public void Save(string dir) => File.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, Models.ModelConfig.Json) + "\n");

    public static OnnxManifest Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new TuwenException($"{dir} is not an ONNX export: {FileName} is missing (write one with `tuwen export onnx`)");
        OnnxManifest? m;
        try { m = JsonSerializer.Deserialize<OnnxManifest>(File.ReadAllText(path), Models.ModelConfig.Json); }
        catch (JsonException e) { throw new TuwenException($"bad {path}: {e.Message}"); }
        if (m is null) throw new TuwenException($"bad {path}: empty");
        if (m.Format != CurrentFormat) throw new TuwenException($"{path} has format '{m.Format}', this Tuwen reads '{CurrentFormat}'");
        if (m.EmbedDim <= 0 || m.ImageSize <= 0 || m.ContextLength < 2)
            throw new TuwenException($"bad {path}: embed_dim, image_size and context_length must be positive");
        return m;
    }
}
