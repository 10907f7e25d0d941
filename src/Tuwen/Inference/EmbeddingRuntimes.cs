namespace Tuwen.Inference;

/// <summary>Opens an <see cref="IEmbeddingRuntime"/> by name ("torch": a Tuwen checkpoint or run directory;
/// "onnx": a directory written by `tuwen export onnx`). One registry, so a new runtime is one line.</summary>
public static class EmbeddingRuntimes
{
    private static readonly Dictionary<string, Func<string, IEmbeddingRuntime>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["torch"] = TorchEmbeddingRuntime.Open,
        ["onnx"] = dir => new OnnxEmbeddingRuntime(dir),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static void Register(string name, Func<string, IEmbeddingRuntime> open) => Factories[name] = open;

    public static IEmbeddingRuntime Open(string name, string path) =>
        Factories.TryGetValue(name, out var open) ? open(path)
        : throw new TuwenException($"unknown runtime '{name}' (known: {string.Join(", ", Factories.Keys)})");
}
