using Tuwen.Corpus.Images;
using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Corpus.Pipeline;

/// <summary>
/// LAION-style relevance filter: the cosine similarity of a Tuwen model's image and caption embeddings, pairs
/// under the threshold dropped. Scores are written to the metadata either way. One unit at a time: the model
/// runs on all cores already.
/// </summary>
public sealed class RelevanceFilter : IDisposable
{
    private readonly LoadedModel _model;
    private readonly ModelEvaluator _evaluator;
    private readonly ImageTransform _transform;
    private readonly Lock _lock = new();

    public RelevanceFilter(LoadedModel model, double threshold)
    {
        _model = model;
        Threshold = threshold;
        _evaluator = new ModelEvaluator(model.Model, model.Encode, model.ContextLength, model.Precision, batchSize: 64);
        _transform = ImageTransform.ForEval(model.Model.Config.Vision.ImageSize);
    }

    public double Threshold { get; }

    public static RelevanceFilter Load(string checkpoint, double threshold) => new(LoadedModel.FromCheckpoint(checkpoint), threshold);

    /// <summary>Cosine similarity of each (image, caption) pair.</summary>
    public float[] Score(IReadOnlyList<(ProcessedImage Image, string Caption)> pairs)
    {
        if (pairs.Count == 0) return [];
        var pixels = new float[pairs.Count * _transform.Length];
        for (var i = 0; i < pairs.Count; i++) _transform.Apply(pairs[i].Image.Bytes).CopyTo(pixels, i * _transform.Length);
        lock (_lock)
        {
            using var scope = NewDisposeScope();
            using var images = tensor(pixels, [pairs.Count, 3, _transform.Size, _transform.Size]);
            var imageFeatures = _evaluator.EncodeImages(images);
            var textFeatures = _evaluator.EncodeTexts(pairs.Select(p => p.Caption).ToList());
            var cosine = (imageFeatures * textFeatures).sum(1).to(ScalarType.Float32);
            return cosine.data<float>().ToArray();
        }
    }

    public void Dispose() => _model.Dispose();
}
