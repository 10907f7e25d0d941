using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Evaluation;

/// <summary>
/// Hands out blocks of the text×image score matrix so that the full matrix never has to exist at once.
/// Returned blocks belong to the caller's dispose scope.
/// </summary>
internal abstract class SimilaritySource : IDisposable
{
    public abstract int Texts { get; }
    public abstract int Images { get; }
    public abstract Device Device { get; }

    /// <summary>Scores of texts [start, start+count) against every image: [count, Images].</summary>
    public abstract Tensor TextRows(int start, int count);

    /// <summary>Scores of images [start, start+count) against every text: [count, Texts].</summary>
    public abstract Tensor ImageRows(int start, int count);

    public virtual void Dispose() { }
}

/// <summary>Dot products of (normally L2-normalised) features, computed block by block.</summary>
internal sealed class FeatureSimilarity : SimilaritySource
{
    private readonly Tensor _text;
    private readonly Tensor _image;

    public FeatureSimilarity(Tensor textFeatures, Tensor imageFeatures)
    {
        RequireFloating2D(textFeatures, nameof(textFeatures));
        RequireFloating2D(imageFeatures, nameof(imageFeatures));
        if (textFeatures.shape[1] != imageFeatures.shape[1])
            throw new ArgumentException(
                $"feature widths differ: text {textFeatures.shape[1]}, image {imageFeatures.shape[1]}");
        if (textFeatures.dtype != imageFeatures.dtype)
            throw new ArgumentException($"feature dtypes differ: text {textFeatures.dtype}, image {imageFeatures.dtype}");
        if (textFeatures.device_type != imageFeatures.device_type || textFeatures.device_index != imageFeatures.device_index)
            throw new ArgumentException("text and image features are on different devices");
        _text = textFeatures;
        _image = imageFeatures;
    }

    public override int Texts => checked((int)_text.shape[0]);
    public override int Images => checked((int)_image.shape[0]);
    public override Device Device => _text.device;

    public override Tensor TextRows(int start, int count) => _text.narrow(0, start, count).matmul(_image.t());
    public override Tensor ImageRows(int start, int count) => _image.narrow(0, start, count).matmul(_text.t());

    internal static void RequireFloating2D(Tensor tensor, string name)
    {
        if (tensor.dim() != 2) throw new ArgumentException($"{name} must be 2-D, got shape [{string.Join(",", tensor.shape)}]", name);
        if (!tensor.is_floating_point()) throw new ArgumentException($"{name} must be floating point, got {tensor.dtype}", name);
    }
}

/// <summary>A ready-made [Texts, Images] score matrix, for tests and for scorers that are not dot products.</summary>
internal sealed class MatrixSimilarity : SimilaritySource
{
    private readonly Tensor _scores;
    private readonly bool _ownsScores;

    public MatrixSimilarity(Tensor scores, bool ownsScores)
    {
        FeatureSimilarity.RequireFloating2D(scores, nameof(scores));
        _scores = scores;
        _ownsScores = ownsScores;
    }

    public override int Texts => checked((int)_scores.shape[0]);
    public override int Images => checked((int)_scores.shape[1]);
    public override Device Device => _scores.device;

    public override Tensor TextRows(int start, int count) => _scores.narrow(0, start, count);
    public override Tensor ImageRows(int start, int count) => _scores.narrow(1, start, count).t();

    public override void Dispose()
    {
        if (_ownsScores) _scores.Dispose();
    }
}

/// <summary>Separate [T, I] and [I, T] score matrices, for scorers whose two directions differ (re-ranking).</summary>
internal sealed class TwoWaySimilarity : SimilaritySource
{
    private readonly Tensor _textToImage;
    private readonly Tensor _imageToText;

    public TwoWaySimilarity(Tensor textToImage, Tensor imageToText)
    {
        FeatureSimilarity.RequireFloating2D(textToImage, nameof(textToImage));
        FeatureSimilarity.RequireFloating2D(imageToText, nameof(imageToText));
        if (textToImage.shape[0] != imageToText.shape[1] || textToImage.shape[1] != imageToText.shape[0])
            throw new ArgumentException($"score shapes [{string.Join(",", textToImage.shape)}] and [{string.Join(",", imageToText.shape)}] are not transposes of each other");
        _textToImage = textToImage;
        _imageToText = imageToText;
    }

    public override int Texts => checked((int)_textToImage.shape[0]);
    public override int Images => checked((int)_textToImage.shape[1]);
    public override Device Device => _textToImage.device;

    public override Tensor TextRows(int start, int count) => _textToImage.narrow(0, start, count);
    public override Tensor ImageRows(int start, int count) => _imageToText.narrow(0, start, count);
}
