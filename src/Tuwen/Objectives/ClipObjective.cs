using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Distributed;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Objectives;

/// <summary>
/// CLIP's symmetric InfoNCE: logits = scale · image·textᵀ over the batch, the i-th image's positive is the
/// i-th text; loss = (CE over rows + CE over columns) / 2.
/// Option <c>chunk_size</c> (default 0 = the plain B×B loss): compute the loss and its feature gradients
/// <see cref="ChunkedClipLoss">in blocks of that many rows</see>, memory linear in the batch. The recipe's
/// contrastive_micro_batch (gradient caching) uses the chunked form too, in blocks of chunk_size or else of
/// the micro-batch. Data parallel, the loss is over the global batch (cross-worker negatives, <see cref="CrossWorker"/>).
/// </summary>
public sealed class ClipObjective : IObjective
{
    public static readonly IReadOnlyList<string> KnownOptions = ["chunk_size"];

    public ClipObjective(int chunkSize = 0)
    {
        if (chunkSize < 0) throw new TuwenException($"clip: chunk_size must be >= 0 (0 = the plain full-matrix loss), not {chunkSize}");
        ChunkSize = chunkSize;
    }

    public static ClipObjective FromOptions(JsonObject options) =>
        new(new ObjectiveOptions("clip", options, KnownOptions).Int("chunk_size", 0));

    public string Name => "clip";

    /// <summary>Rows of logits per block of the chunked loss; 0 = the plain loss over the full matrix.</summary>
    public int ChunkSize { get; }

    public ObjectiveOutput Forward(DualEncoder model, Batch batch)
    {
        using var features = model.forward(batch.Images, batch.TokenIds);
        // Data parallel: the global batch's features, this rank's slice with its gradient (identity for one process).
        using var image = CrossWorker.Gather(features.Image);
        using var text = CrossWorker.Gather(features.Text);
        if (ChunkSize == 0) return Compute(image, text, features.LogitScale);
        using var chunked = ChunkedClipLoss.Compute(image, text, features.LogitScale, ChunkSize);
        return new ObjectiveOutput(chunked.Attach(image, text, features.LogitScale), chunked.Metrics(features.LogitScale));
    }

    /// <summary>The loss on given normalised features; public so it can be checked by hand and reused.</summary>
    public static ObjectiveOutput Compute(Tensor image, Tensor text, Tensor logitScale)
    {
        using var scope = NewDisposeScope();
        var logitsPerImage = logitScale * image.matmul(text.t());
        var labels = Scalars.Range(image.shape[0], image.device);
        var loss = Scalars.Add(nn.functional.cross_entropy(logitsPerImage, labels), nn.functional.cross_entropy(logitsPerImage.t(), labels)).div_(Scalars.Two);
        var metrics = new Dictionary<string, double>
        {
            ["acc_i2t"] = logitsPerImage.argmax(1).eq(labels).to(ScalarType.Float32).mean().item<float>(),
            ["acc_t2i"] = logitsPerImage.argmax(0).eq(labels).to(ScalarType.Float32).mean().item<float>(),
            ["logit_scale"] = logitScale.item<float>(),
        };
        return new ObjectiveOutput(loss.MoveToOuterDisposeScope(), metrics);
    }

    public void Dispose() { }
}
