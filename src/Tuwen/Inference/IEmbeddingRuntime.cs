namespace Tuwen.Inference;

/// <summary>
/// Something that turns pre-processed images and token ids into joint-space features: TorchSharp on a
/// loaded checkpoint, or ONNX Runtime on an exported graph. Bulk embedding, evaluation outputs and the
/// search index take this, so the runtime is a command-line choice, not a code path.
/// </summary>
public interface IEmbeddingRuntime : IDisposable
{
    /// <summary>Name shown in progress and written to metadata ("torch", "onnx").</summary>
    string Name { get; }

    /// <summary>Size of one feature vector.</summary>
    int EmbedDim { get; }

    /// <summary>Square input side the image tower expects (pixels).</summary>
    int ImageSize { get; }

    /// <summary>Token positions per text (the checkpoint's context length).</summary>
    int ContextLength { get; }

    /// <summary>The tokenizer of the model's own vocab (texts → ids for <see cref="EmbedTexts"/>).</summary>
    Text.BertTokenizer Tokenizer { get; }

    /// <summary>
    /// Normalised RGB images, row-major [batch, 3, ImageSize, ImageSize] → unnormalised features
    /// [batch, EmbedDim], row-major fp32.
    /// </summary>
    float[] EmbedImages(ReadOnlySpan<float> pixels, int batch);

    /// <summary>Token ids [batch, ContextLength] (padding 0) → unnormalised features [batch, EmbedDim].</summary>
    float[] EmbedTexts(ReadOnlySpan<long> tokenIds, int batch);
}
