using Tuwen.Data;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Evaluation;

/// <summary>What to classify validation images into: class names, prompt templates, and the metadata key
/// holding each image's class name.</summary>
public sealed record ZeroShotTask(string Dataset, IReadOnlyList<string> ClassNames, IReadOnlyList<string> Templates, string LabelKey);

/// <summary>
/// Runs a dual encoder over an <see cref="EvalSet"/>: normalised features for every image and caption in
/// batches without gradients, then retrieval (captions ↔ images) and, when asked, zero-shot classification.
/// </summary>
public sealed class ModelEvaluator(DualEncoder model, Func<string, long[]> encodeText, int contextLength, ScalarType? precision, int batchSize = 256)
{
    /// <summary>An evaluator for a loaded model that scores pairs the way its training objective does, or by
    /// global-feature cosine when <paramref name="objectiveScoring"/> is false.</summary>
    public static ModelEvaluator For(Training.LoadedModel loaded, bool objectiveScoring = true, int batchSize = 256) =>
        new(loaded.Model, loaded.Encode, loaded.ContextLength, loaded.Precision, batchSize) { Scorer = objectiveScoring ? loaded.Scorer : null };

    public DualEncoder Model => model;
    public int ContextLength => contextLength;
    public ScalarType? Precision => precision;
    public int BatchSize => batchSize;

    /// <summary>Scores retrieval (and possibly zero-shot) pairs instead of global-feature cosines; null = cosines.</summary>
    public IPairScorer? Scorer { get; init; }

    /// <summary>A CPU input batch (images of an EvalSet, a narrowed slice) on the model's device.</summary>
    public Tensor OnModelDevice(Tensor input) => input.to(model.Device);

    /// <summary>Token ids [texts, context] for a list of texts, on the model's device.</summary>
    public Tensor TokenIds(IReadOnlyList<string> texts)
    {
        var ids = new long[texts.Count * contextLength];
        for (var i = 0; i < texts.Count; i++) encodeText(texts[i]).AsSpan(0, contextLength).CopyTo(ids.AsSpan(i * contextLength));
        return tensor(ids, [texts.Count, contextLength], device: model.Device);
    }

    /// <summary>
    /// Runs <paramref name="run"/>(start, count) over [0, <paramref name="total"/>) in batches of <see cref="BatchSize"/>
    /// without gradients and concatenates the results along dim 0; each batch's temporaries are freed as it ends.
    /// The caller decides the precision (wrap the call in Autocast.Enable when wanted).
    /// </summary>
    public Tensor InBatches(long total, Func<long, long, Tensor> run)
    {
        if (total < 1) throw new ArgumentOutOfRangeException(nameof(total), total, "nothing to run");
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (long start = 0; start < total; start += batchSize)
        {
            using var scope = NewDisposeScope();
            parts.Add(run(start, Math.Min(batchSize, total - start)).MoveToOuterDisposeScope());
        }
        if (parts.Count == 1) return parts[0];
        var all = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }

    public Tensor EncodeImages(Tensor images)
    {
        using var weights = new WeightCastCache();
        using var _ = Autocast.Enable(precision, weights);
        return InBatches(images.shape[0], (start, n) => nn.functional.normalize(model.EncodeImage(OnModelDevice(images.narrow(0, start, n))), dim: -1));
    }

    public Tensor EncodeTexts(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) return zeros(0, model.Config.EmbedDim, device: model.Device);
        using var weights = new WeightCastCache();
        using var _ = Autocast.Enable(precision, weights);
        return InBatches(texts.Count, (start, n) =>
        {
            using var ids = TokenIds(texts.Skip((int)start).Take((int)n).ToList());
            return nn.functional.normalize(model.EncodeText(ids), dim: -1);
        });
    }

    public sealed record Features(Tensor Images, Tensor Texts) : IDisposable
    {
        public void Dispose() { Images.Dispose(); Texts.Dispose(); }
    }

    public Features Encode(EvalSet set) => WithEvalMode(() => new Features(EncodeImages(set.Images), EncodeTexts(set.Captions)));

    private T WithEvalMode<T>(Func<T> run)
    {
        var wasTraining = model.training;
        model.eval();
        try { return run(); }
        finally { if (wasTraining) model.train(); }
    }

    public EvaluationReport Evaluate(string label, string datasetName, EvalSet set, ZeroShotTask? zeroShot, Features? features = null)
    {
        var owned = features == null;
        features ??= Encode(set);
        try
        {
            RetrievalResult retrieval;
            if (Scorer == null) retrieval = RetrievalMetrics.FromFeatures(features.Texts, features.Images, set.CaptionImage);
            else
            {
                var (t2i, i2t) = WithEvalMode(() => { using var _ = no_grad(); return Scorer.Retrieval(this, set, features); });
                using (t2i) using (i2t) retrieval = RetrievalMetrics.FromScores(t2i, i2t, set.CaptionImage);
            }
            ZeroShotResult? zs = null;
            if (zeroShot != null)
            {
                var classIndex = zeroShot.ClassNames.Select((name, i) => (name, i)).DistinctBy(c => c.name).ToDictionary(c => c.name, c => c.i);
                var labels = set.Metadata.Select((m, i) =>
                {
                    var name = m[zeroShot.LabelKey]?.GetValue<string>()
                        ?? throw new TuwenException($"image {set.Keys[i]} has no '{zeroShot.LabelKey}' in its metadata");
                    return classIndex.TryGetValue(name, out var index) ? index
                        : throw new TuwenException($"image {set.Keys[i]}: class '{name}' is not among the zero-shot classes");
                }).ToArray();
                zs = WithEvalMode(() =>
                {
                    using var _ = no_grad();
                    using var scores = Scorer?.ZeroShot(this, set.Images, zeroShot);
                    if (scores is not null) return ZeroShotClassifier.FromScores(zeroShot.ClassNames, scores, labels);
                    using var classifier = ZeroShotClassifier.Create(zeroShot.ClassNames, zeroShot.Templates, EncodeTexts);
                    return classifier.Evaluate(features.Images, labels);
                });
            }
            return new EvaluationReport(label, retrieval, zs) { RetrievalDataset = datasetName, ZeroShotDataset = zeroShot?.Dataset, Scoring = Scorer?.Name };
        }
        finally
        {
            if (owned) features.Dispose();
        }
    }
}
