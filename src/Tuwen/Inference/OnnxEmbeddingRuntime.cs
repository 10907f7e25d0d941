using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tuwen.Interop.Onnx;
using Tuwen.Text;

namespace Tuwen.Inference;

/// <summary>
/// ONNX Runtime on a directory written by `tuwen export onnx` (image.onnx, text.onnx, vocab.txt, onnx.json).
/// The callers' spans are pinned and handed to ORT as tensors without copies, and ORT writes the features
/// straight into the returned array. Both graphs have a symbolic batch axis, so any batch size runs on one file.
/// </summary>
public sealed class OnnxEmbeddingRuntime : IEmbeddingRuntime
{
    private readonly InferenceSession image;
    private readonly InferenceSession text;
    private readonly OnnxManifest manifest;

    /// <param name="threads">ORT intra-op threads; null: one per core (inter-op parallelism stays off: these graphs are chains).</param>
    public OnnxEmbeddingRuntime(string dir, int? threads = null)
    {
        if (!Directory.Exists(dir)) throw new TuwenException($"ONNX export directory not found: {dir}");
        manifest = OnnxManifest.Load(dir);
        var vocabPath = Require(dir, OnnxExport.VocabFile);
        Tokenizer = new BertTokenizer(Vocab.Load(vocabPath));
        using var options = new SessionOptions
        {
            IntraOpNumThreads = Math.Max(1, threads ?? Environment.ProcessorCount),
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        // Idle ORT workers would otherwise spin for a while after each run, taking cores from the decoder threads
        // and libtorch in the same process (and from neighbours on a shared machine); batches are long enough that
        // waking them costs nothing measurable.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        image = Open(Require(dir, OnnxExport.ImageFile), options);
        try { text = Open(Require(dir, OnnxExport.TextFile), options); }
        catch { image.Dispose(); throw; }
    }

    public string Name => "onnx";
    public int EmbedDim => manifest.EmbedDim;
    public int ImageSize => manifest.ImageSize;
    public int ContextLength => manifest.ContextLength;
    public BertTokenizer Tokenizer { get; }
    public OnnxManifest Manifest => manifest;

    public unsafe float[] EmbedImages(ReadOnlySpan<float> pixels, int batch)
    {
        long side = ImageSize;
        Check(pixels.Length, batch, 3 * side * side, "pixels", $"[batch, 3, {side}, {side}]");
        fixed (float* p = pixels)
            return Run(image, "images", (IntPtr)p, pixels.Length * sizeof(float), TensorElementType.Float, [batch, 3, side, side], batch);
    }

    public unsafe float[] EmbedTexts(ReadOnlySpan<long> tokenIds, int batch)
    {
        Check(tokenIds.Length, batch, ContextLength, "token ids", $"[batch, {ContextLength}]");
        fixed (long* p = tokenIds)
            return Run(text, "token_ids", (IntPtr)p, tokenIds.Length * sizeof(long), TensorElementType.Int64, [batch, ContextLength], batch);
    }

    public void Dispose()
    {
        image.Dispose();
        text.Dispose();
    }

    private float[] Run(InferenceSession session, string inputName, IntPtr data, long bytes, TensorElementType type, long[] shape, int batch)
    {
        var features = new float[(long)batch * EmbedDim];
        if (batch == 0) return features;
        using var input = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, type, shape, data, bytes);
        using var output = OrtValue.CreateTensorValueFromMemory(features, [batch, EmbedDim]);
        using var runOptions = new RunOptions();
        session.Run(runOptions, [inputName], [input], ["features"], [output]);
        return features;
    }

    private static void Check(long length, int batch, long perItem, string what, string layout)
    {
        if (batch < 0 || length != batch * perItem)
            throw new TuwenException($"{what}: {length} values for batch {batch}, expected {batch * perItem} ({layout})");
    }

    private static string Require(string dir, string file)
    {
        var path = Path.Combine(dir, file);
        return File.Exists(path) ? path : throw new TuwenException($"ONNX export {dir} is missing {file}");
    }

    private static InferenceSession Open(string path, SessionOptions options)
    {
        try { return new InferenceSession(path, options); }
        catch (OnnxRuntimeException e) { throw new TuwenException($"ONNX Runtime cannot load {path}: {e.Message}"); }
    }
}
