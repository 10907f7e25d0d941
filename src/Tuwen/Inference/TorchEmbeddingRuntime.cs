using Tuwen.Models;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Inference;

/// <summary>
/// <see cref="IEmbeddingRuntime"/> on TorchSharp over a <see cref="LoadedModel"/>: global features of the dual
/// encoder at the checkpoint's precision (the objective's pair scorer, if any, is not used — a feature is one
/// vector per input).
/// </summary>
public sealed class TorchEmbeddingRuntime : IEmbeddingRuntime
{
    private readonly LoadedModel _loaded;
    private readonly bool _ownsModel;
    private readonly WeightCastCache _weights = new();

    /// <param name="ownsModel">Dispose <paramref name="loaded"/> with the runtime.</param>
    public TorchEmbeddingRuntime(LoadedModel loaded, bool ownsModel = false)
    {
        _loaded = loaded;
        _ownsModel = ownsModel;
        loaded.Model.eval();
    }

    /// <summary>Loads a checkpoint or run directory onto <paramref name="device"/> (default: the CPU).</summary>
    public static TorchEmbeddingRuntime Open(string checkpointPath, Device? device = null) =>
        new(LoadedModel.FromCheckpoint(checkpointPath, device: device), ownsModel: true);

    /// <summary>The model the features come from (for callers that also want its tensors directly).</summary>
    public LoadedModel Loaded => _loaded;

    public string Name => "torch";
    public int EmbedDim => _loaded.Model.Config.EmbedDim;
    public int ImageSize => _loaded.Model.Config.Vision.ImageSize;
    public int ContextLength => _loaded.ContextLength;
    public Text.BertTokenizer Tokenizer => _loaded.Tokenizer;

    public float[] EmbedImages(ReadOnlySpan<float> pixels, int batch)
    {
        long perImage = 3L * ImageSize * ImageSize;
        if (batch < 1 || pixels.Length != batch * perImage)
            throw new ArgumentException($"{pixels.Length} floats are not {batch} images of 3×{ImageSize}×{ImageSize}", nameof(pixels));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var autocast = Autocast.Enable(_loaded.Precision, _weights);
        var images = tensor(pixels.ToArray(), [batch, 3, ImageSize, ImageSize], device: _loaded.Model.Device);
        return ToArray(_loaded.Model.EncodeImage(images));
    }

    public float[] EmbedTexts(ReadOnlySpan<long> tokenIds, int batch)
    {
        if (batch < 1 || tokenIds.Length != batch * ContextLength)
            throw new ArgumentException($"{tokenIds.Length} token ids are not {batch} rows of {ContextLength}", nameof(tokenIds));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var autocast = Autocast.Enable(_loaded.Precision, _weights);
        var ids = tensor(tokenIds.ToArray(), [batch, ContextLength], device: _loaded.Model.Device);
        return ToArray(_loaded.Model.EncodeText(ids));
    }

    private static float[] ToArray(Tensor features) => features.to(ScalarType.Float32).contiguous().cpu().data<float>().ToArray();

    public void Dispose()
    {
        _weights.Dispose();
        if (_ownsModel) _loaded.Dispose();
    }
}
