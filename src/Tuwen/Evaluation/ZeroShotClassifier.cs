using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Evaluation;

/// <summary>
/// Zero-shot image classification as in Chinese-CLIP's zeroshot_evaluation: one weight vector per class, the
/// re-normalised mean of the normalised embeddings of that class's prompts; logits = 100 × image·weight
/// (a fixed 100, not the model's learned scale — it does not change the ranking, only the logits' size).
/// Ties are conservative, as in <see cref="RetrievalMetrics"/>: a class scoring exactly the same as the
/// true class is ranked above it.
/// </summary>
public sealed class ZeroShotClassifier : IDisposable
{
    public const float LogitScale = 100f;
    public const int DefaultChunkSize = 1024;

    private readonly Tensor _classWeights;

    /// <summary>Uses the given class weights [C,D] as they are (a copy is kept; the caller keeps its tensor).</summary>
    public ZeroShotClassifier(IReadOnlyList<string> classNames, Tensor classWeights)
    {
        FeatureSimilarity.RequireFloating2D(classWeights, nameof(classWeights));
        if (classNames.Count == 0) throw new ArgumentException("need at least one class", nameof(classNames));
        if (classWeights.shape[0] != classNames.Count)
            throw new ArgumentException($"{classNames.Count} class names but {classWeights.shape[0]} weight rows", nameof(classWeights));
        ClassNames = classNames.ToArray();
        // Detached from any dispose scope around the call: the classifier's lifetime, not the scope's, decides.
        _classWeights = classWeights.detach().clone().DetachFromDisposeScope();
    }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>[C,D]; owned by the classifier.</summary>
    public Tensor ClassWeights => _classWeights;

    /// <summary>
    /// Builds class weights by encoding every template filled with every class name. <paramref name="encodeText"/>
    /// gets the prompts of one class and returns [prompts, D]; its result is disposed here.
    /// </summary>
    public static ZeroShotClassifier Create(IReadOnlyList<string> classNames, IReadOnlyList<string> templates,
        Func<IReadOnlyList<string>, Tensor> encodeText)
    {
        if (templates.Count == 0) throw new ArgumentException("need at least one template", nameof(templates));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var rows = new List<Tensor>(classNames.Count);
        foreach (var className in classNames)
        {
            var prompts = templates.Select(t => ZeroShotPrompts.Fill(t, className)).ToArray();
            var embeddings = encodeText(prompts);
            if (embeddings.dim() != 2 || embeddings.shape[0] != prompts.Length)
                throw new ArgumentException(
                    $"encodeText returned shape [{string.Join(",", embeddings.shape)}] for {prompts.Length} prompts of \"{className}\"");
            // Normalised again although the contract says normalised: averaging raw vectors would let one
            // long embedding dominate the class weight, and normalising twice is harmless.
            var mean = nn.functional.normalize(embeddings, p: 2.0, dim: 1).mean([0]);
            rows.Add(nn.functional.normalize(mean, p: 2.0, dim: 0));
        }
        return new ZeroShotClassifier(classNames, stack(rows));
    }

    /// <summary>100 × image features [N,D] · class weightsᵀ → [N,C].</summary>
    public Tensor Logits(Tensor imageFeatures)
    {
        FeatureSimilarity.RequireFloating2D(imageFeatures, nameof(imageFeatures));
        if (imageFeatures.shape[1] != _classWeights.shape[1])
            throw new ArgumentException($"image feature width {imageFeatures.shape[1]} differs from class weight width {_classWeights.shape[1]}");
        return imageFeatures.matmul(_classWeights.t()).mul(LogitScale);
    }

    public ZeroShotResult Evaluate(Tensor imageFeatures, IReadOnlyList<int> labels, int chunkSize = DefaultChunkSize)
    {
        FeatureSimilarity.RequireFloating2D(imageFeatures, nameof(imageFeatures));
        return Rank(ClassNames, checked((int)imageFeatures.shape[0]), labels, chunkSize, imageFeatures.device,
            (start, count) => Logits(imageFeatures.narrow(0, start, count)));
    }

    /// <summary>Accuracy from ready-made class scores [N,C] (token-wise or probability-averaged classifiers).</summary>
    public static ZeroShotResult FromScores(IReadOnlyList<string> classNames, Tensor scores, IReadOnlyList<int> labels, int chunkSize = DefaultChunkSize)
    {
        FeatureSimilarity.RequireFloating2D(scores, nameof(scores));
        if (scores.shape[1] != classNames.Count)
            throw new ArgumentException($"{classNames.Count} class names but scores have {scores.shape[1]} columns", nameof(scores));
        return Rank(classNames, checked((int)scores.shape[0]), labels, chunkSize, scores.device, (start, count) => scores.narrow(0, start, count));
    }

    private static ZeroShotResult Rank(IReadOnlyList<string> classNames, int samples, IReadOnlyList<int> labels, int chunkSize, Device device,
        Func<int, int, Tensor> scoreRows)
    {
        if (chunkSize < 1) throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "chunk size must be at least 1");
        int classes = classNames.Count;
        if (samples == 0) throw new ArgumentException("no images");
        if (labels.Count != samples) throw new ArgumentException($"{labels.Count} labels for {samples} images", nameof(labels));
        for (int i = 0; i < samples; i++)
        {
            if (labels[i] < 0 || labels[i] >= classes)
                throw new ArgumentException($"labels[{i}] = {labels[i]} is outside [0, {classes})", nameof(labels));
        }

        int topK = Math.Min(5, classes);
        var ranks = new int[samples];
        using var noGrad = no_grad();
        using var labelTensor = tensor(labels.Select(l => (long)l).ToArray(), device: device);
        for (int start = 0; start < samples; start += chunkSize)
        {
            int count = Math.Min(chunkSize, samples - start);
            using var scope = NewDisposeScope();
            var logits = scoreRows(start, count);
            if (!logits.isfinite().all().item<bool>()) throw new ArgumentException("logits contain NaN or infinity");
            var trueLogit = logits.gather(1, labelTensor.narrow(0, start, count).unsqueeze(1));
            // Counts the true class itself, so this is the 1-based rank with ties counted against it.
            var chunkRanks = logits.ge(trueLogit).sum(1).to(ScalarType.Int32).cpu().data<int>().ToArray();
            Array.Copy(chunkRanks, 0, ranks, start, count);
        }

        var classSamples = new int[classes];
        var classHits = new int[classes];
        for (int i = 0; i < samples; i++)
        {
            classSamples[labels[i]]++;
            if (ranks[i] == 1) classHits[labels[i]]++;
        }
        return new ZeroShotResult(classNames.ToArray(), topK, samples,
            HitsAt1: ranks.Count(r => r == 1),
            HitsAtTopK: ranks.Count(r => r <= topK),
            ClassSamples: classSamples,
            ClassHitsAt1: classHits);
    }

    public void Dispose() => _classWeights.Dispose();
}
