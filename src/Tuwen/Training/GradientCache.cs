using TorchSharp;
using Tuwen.Data;
using Tuwen.Distributed;
using Tuwen.Models;
using Tuwen.Objectives;
using static TorchSharp.torch;

namespace Tuwen.Training;

/// <summary>
/// Gradient caching (GradCache, Gao et al. 2021; open_clip's accum_freq): a contrastive step over a batch
/// too large to keep every activation. (1) Embed the batch micro-batch by micro-batch without autograd
/// graphs; (2) compute the full-batch loss and its gradients with respect to the features
/// (<see cref="ChunkedClipLoss"/>, memory linear in the batch); (3) re-embed each micro-batch with its graph
/// and backpropagate its slice of the feature gradients; the temperature's gradient goes in once. The
/// parameters' gradients are the full-batch loss's, at the activation memory of one micro-batch and about
/// one extra forward pass. Exact for the towers here, which draw no random numbers (no dropout); a tower
/// with batch normalisation (ResNet) normalises each micro-batch by its own statistics, as it would under
/// plain accumulation.
/// Only objectives whose loss is a function of the global features alone can be cached: "clip". Not
/// "brivl-moco" (queues and momentum encoders are updated from the forward), "r2d2" (hard negatives feed a
/// cross encoder), "filip" / "reduced-token" (token-wise similarities), "lit" (its own locked-tower forward).
/// </summary>
public sealed class GradientCache
{
    public static readonly IReadOnlyList<string> SupportedObjectives = ["clip"];

    public GradientCache(int microBatch, int chunkSize)
    {
        if (microBatch < 1) throw new TuwenException($"contrastive_micro_batch must be at least 1 (got {microBatch})");
        MicroBatch = microBatch;
        ChunkSize = chunkSize > 0 ? chunkSize : microBatch;
    }

    public int MicroBatch { get; }
    public int ChunkSize { get; }

    /// <summary>The recipe's gradient cache, or null when contrastive_micro_batch is 0 (off).</summary>
    public static GradientCache? For(TrainConfig recipe, IObjective objective)
    {
        if (recipe.ContrastiveMicroBatch == 0) return null;
        return objective is ClipObjective clip ? new GradientCache(recipe.ContrastiveMicroBatch, clip.ChunkSize)
            : throw new TuwenException(Unsupported(objective.Name));
    }

    public static string Unsupported(string objective) =>
        $"contrastive_micro_batch (gradient caching) works with objective {string.Join(", ", SupportedObjectives)}, not '{objective}' (set it to 0)";

    /// <summary>Forward and backward of one batch; gradients are accumulated into the parameters, scaled by
    /// 1/<paramref name="accumSteps"/>. The returned loss carries no graph.</summary>
    public ObjectiveOutput ForwardBackward(DualEncoder model, Batch batch, int accumSteps = 1)
    {
        using var scope = NewDisposeScope();
        var n = batch.Size;
        var slices = Enumerable.Range(0, (n + MicroBatch - 1) / MicroBatch)
            .Select(k => (Start: (long)k * MicroBatch, Length: (long)Math.Min(MicroBatch, n - k * MicroBatch))).ToList();

        Tensor image, text;
        using (no_grad())
        {
            var parts = slices.Select(s => model.forward(batch.Images.narrow(0, s.Start, s.Length), batch.TokenIds.narrow(0, s.Start, s.Length))).ToList();
            image = cat(parts.Select(p => p.Image).ToList(), 0);
            text = cat(parts.Select(p => p.Text).ToList(), 0);
            foreach (var p in parts) p.Dispose();
        }
        var logitScale = model.LogitScale();
        // Data parallel: the loss and its feature gradients over the global batch; this rank backpropagates its
        // own rows, times the world size because the trainer averages gradients (see CrossWorker).
        var group = CrossWorker.Group;
        var offset = (long)group.Rank * n;
        if (group.WorldSize > 1) (image, text) = (CrossWorker.GatherDetached(image, group), CrossWorker.GatherDetached(text, group));
        using var gradients = ChunkedClipLoss.Compute(image, text, logitScale, ChunkSize);
        using var world = ((double)group.WorldSize).ToScalar();
        if (group.WorldSize > 1) { gradients.ImageGrad.mul_(world); gradients.TextGrad.mul_(world); }
        using var share = (1.0 / accumSteps).ToScalar();
        if (accumSteps != 1)
        {
            gradients.ImageGrad.mul_(share); gradients.TextGrad.mul_(share); gradients.ScaleGrad.mul_(share);
        }

        foreach (var (start, length) in slices)
        {
            using var micro = NewDisposeScope();
            using var features = model.forward(batch.Images.narrow(0, start, length), batch.TokenIds.narrow(0, start, length));
            // ⟨features, ∂L/∂features⟩ backpropagates exactly that slice of the feature gradients.
            var surrogate = Scalars.Add((features.Image * gradients.ImageGrad.narrow(0, offset + start, length)).sum(),
                (features.Text * gradients.TextGrad.narrow(0, offset + start, length)).sum());
            surrogate.backward();
        }
        (logitScale * gradients.ScaleGrad).sum().backward();

        var metrics = gradients.Metrics(logitScale);
        return new ObjectiveOutput(gradients.Loss.clone().MoveToOuterDisposeScope(), metrics);
    }
}
