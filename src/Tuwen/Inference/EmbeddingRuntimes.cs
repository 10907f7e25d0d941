using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Inference;

/// <summary>Opens an <see cref="IEmbeddingRuntime"/> by name ("torch": a Tuwen checkpoint or run directory;
/// "onnx": a directory written by `tuwen export onnx`). One registry, so a new runtime is one line.</summary>
public static class EmbeddingRuntimes
{
    private static readonly Dictionary<string, Func<string, Device?, IEmbeddingRuntime>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["torch"] = TorchEmbeddingRuntime.Open,
        ["onnx"] = (dir, device) => device is null || device.type == DeviceType.CPU ? new OnnxEmbeddingRuntime(dir)
            : throw new TuwenException($"--device {device}: the onnx runtime runs on the CPU here; use --runtime torch"),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static void Register(string name, Func<string, Device?, IEmbeddingRuntime> open) => Factories[name] = open;

    /// <summary>The named runtime over <paramref name="path"/>, running on <paramref name="device"/> (null: the CPU).</summary>
    public static IEmbeddingRuntime Open(string name, string path, Device? device = null) =>
        Factories.TryGetValue(name, out var open) ? open(path, device)
        : throw new TuwenException($"unknown runtime '{name}' (known: {string.Join(", ", Factories.Keys)})");
}
