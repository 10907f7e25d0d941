using System.Text.Json.Nodes;
using TorchSharp;
using Tuwen.Data;
using Tuwen.Distributed;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Objectives;

/// <summary>
/// BriVL's cross-modal MoCo (WenLan). The dual encoder is the query encoder, trained by gradient; a momentum
/// (key) copy of it follows by EMA, θk ← m·θk + (1−m)·θq, after every optimizer step. Keys are the key encoder's
/// L2-normalised features of the batch, computed without gradient. Two queues of past keys serve as negatives:
/// text keys for image queries, image keys for text queries. For each query
/// logits = [q·k⁺, q·queue] / τ with the positive (the other modality's key of the same pair) at index 0, and
/// loss = L_i2t + L_t2i (BriVL sums, τ fixed at 0.07; the model's logit_scale is unused).
/// The step's keys are enqueued after the optimizer step — the queues are part of this step's autograd graph, so
/// they must not change before backward — and with gradient accumulation every micro-batch's keys are enqueued,
/// in order. Key weights and queues live in <see cref="State"/>, so a resumed run continues bit for bit.
/// Data parallel, queries contrast with this rank's keys and the shared queues (the loss is a mean over queries,
/// so averaged gradients are the global batch's), and the queues are fed every rank's keys.
/// Works with any towers. Evaluation uses the query encoder's global cosines (<see cref="Scorer"/> is null).
/// </summary>
public sealed class BrivlMocoObjective : IObjective
{
    public const string ObjectiveName = "brivl-moco";
    private static readonly string[] Known = ["momentum", "queue_size", "temperature"];

    private readonly ModelConfig config;
    private readonly List<(Tensor Image, Tensor Text)> pending = [];
    private DualEncoder? key;
    private MomentumQueue? imageQueue;
    private MomentumQueue? textQueue;
    private long steps;

    public BrivlMocoObjective(ModelConfig config, double momentum = 0.99, int queueSize = 4096, double temperature = 0.07)
    {
        if (momentum is < 0 or >= 1 || double.IsNaN(momentum)) throw new TuwenException($"brivl-moco: momentum must be in [0, 1), got {momentum}");
        if (queueSize < 1) throw new TuwenException($"brivl-moco: queue_size must be positive, got {queueSize}");
        if (!(temperature > 0)) throw new TuwenException($"brivl-moco: temperature must be positive, got {temperature}");
        this.config = config;
        Momentum = momentum;
        QueueSize = queueSize;
        Temperature = temperature;
    }

    /// <summary>Reads the recipe's objective_options strictly: unknown names and non-numbers are errors.</summary>
    public static BrivlMocoObjective FromOptions(JsonObject options, DualEncoder model)
    {
        var read = new ObjectiveOptions(ObjectiveName, options, Known);
        return new BrivlMocoObjective(model.Config, read.Number("momentum", 0.99), read.Int("queue_size", 4096), read.Number("temperature", 0.07));
    }

    public string Name => ObjectiveName;
    public double Momentum { get; }
    public int QueueSize { get; }
    public double Temperature { get; }

    /// <summary>Image keys (negatives for text queries); null until prepared or loaded.</summary>
    public MomentumQueue? ImageQueue => imageQueue;

    /// <summary>Text keys (negatives for image queries); null until prepared or loaded.</summary>
    public MomentumQueue? TextQueue => textQueue;

    /// <summary>The momentum encoder; null until prepared or loaded.</summary>
    public DualEncoder? KeyEncoder => key;

    /// <summary>Keys of the micro-batches since the last optimizer step, enqueued by <see cref="AfterStep"/>.</summary>
    public IReadOnlyList<(Tensor Image, Tensor Text)> PendingKeys => pending;

    public void Prepare(DualEncoder model)
    {
        Allocate(randomQueues: true, model.Device);
        MomentumUpdate.CopyAndFreeze(key!, model);
    }

    /// <summary>The key encoder and queues exist only for training, so a model loaded for evaluation stays cheap.</summary>
    private void Allocate(bool randomQueues, Device device)
    {
        if (key != null) return;
        key = new DualEncoder(config).to(device);
        // Train mode like MoCo's key encoder: BatchNorm towers normalise keys with the batch's statistics (its
        // running buffers are overwritten from the query encoder at each update anyway).
        key.train();
        foreach (var (_, p) in key.named_parameters()) p.requires_grad = false;
        // BriVL starts both queues as random unit vectors, so the first steps already have K negatives.
        imageQueue = new MomentumQueue(QueueSize, config.EmbedDim, randomQueues, device: device);
        textQueue = new MomentumQueue(QueueSize, config.EmbedDim, randomQueues, device: device);
    }

    public ObjectiveOutput Forward(DualEncoder model, Batch batch)
    {
        if (key is null || imageQueue is null || textQueue is null)
            throw new InvalidOperationException("brivl-moco: Prepare must run before Forward");
        var world = CrossWorker.Group;
        if (batch.Size * world.WorldSize > QueueSize)
            throw new TuwenException($"brivl-moco: queue_size ({QueueSize}) must be at least the batch size ({batch.Size * world.WorldSize})");
        using var scope = NewDisposeScope();
        var qImage = nn.functional.normalize(model.EncodeImage(batch.Images), dim: -1);
        var qText = nn.functional.normalize(model.EncodeText(batch.TokenIds), dim: -1);
        Tensor kImage, kText;
        using (no_grad())
        {
            kImage = nn.functional.normalize(key.EncodeImage(batch.Images), dim: -1).DetachFromDisposeScope();
            kText = nn.functional.normalize(key.EncodeText(batch.TokenIds), dim: -1).DetachFromDisposeScope();
        }
        // Data parallel: the queues take the global batch's keys in rank order, as one process would.
        pending.Add(world.WorldSize == 1 ? (kImage, kText)
            : (CrossWorker.GatherDetached(kImage, world).DetachFromDisposeScope(), CrossWorker.GatherDetached(kText, world).DetachFromDisposeScope()));
        using var imageNegatives = imageQueue.Valid;
        using var textNegatives = textQueue.Valid;
        var output = Compute(qImage, qText, kImage, kText, imageNegatives, textNegatives, Temperature);
        if (world.WorldSize > 1) { kImage.Dispose(); kText.Dispose(); }   // the queues hold the gathered copies
        var metrics = new Dictionary<string, double>(output.Metrics)
        {
            ["queue_fill"] = Fill(imageQueue),
        };
        return new ObjectiveOutput(output.Loss.MoveToOuterDisposeScope(), metrics);
    }

    /// <summary>
    /// The loss on given unit features (public so it can be checked by hand): L_i2t = CE([qI·kT⁺, qI·Q_Tᵀ]/τ, 0),
    /// L_t2i = CE([qT·kI⁺, qT·Q_Iᵀ]/τ, 0), loss = L_i2t + L_t2i. Metrics: in-batch accuracy of each query
    /// against the batch's keys of the other modality (is its own pair's key the closest?).
    /// </summary>
    public static ObjectiveOutput Compute(Tensor qImage, Tensor qText, Tensor kImage, Tensor kText, Tensor imageQueue, Tensor textQueue, double temperature)
    {
        using var scope = NewDisposeScope();
        using var invTau = (1.0 / temperature).ToScalar();
        var labels = zeros(qImage.shape[0], ScalarType.Int64, qImage.device);
        Tensor Loss(Tensor q, Tensor k, Tensor queue)
        {
            var positive = q.mul(k).sum([1], keepdim: true);                  // [B, 1]
            var logits = cat([positive, q.matmul(queue.t())], 1).mul(invTau);   // [B, 1+K]
            return nn.functional.cross_entropy(logits, labels);
        }
        var i2t = Loss(qImage, kText, textQueue);
        var t2i = Loss(qText, kImage, imageQueue);
        var loss = Scalars.Add(i2t, t2i);
        double InBatch(Tensor q, Tensor k)
        {
            using var _ = no_grad();
            var scores = q.matmul(k.t());
            return scores.argmax(1).eq(Scalars.Range(q.shape[0], q.device)).to(ScalarType.Float32).mean().item<float>();
        }
        var metrics = new Dictionary<string, double>
        {
            ["loss_i2t"] = i2t.item<float>(),
            ["loss_t2i"] = t2i.item<float>(),
            ["acc_i2t"] = InBatch(qImage, kText),
            ["acc_t2i"] = InBatch(qText, kImage),
        };
        return new ObjectiveOutput(loss.MoveToOuterDisposeScope(), metrics);
    }

    /// <summary>Fraction of queue rows that hold real keys rather than the random initialisation.</summary>
    private static double Fill(MomentumQueue queue)
    {
        using var written = queue.Steps.ge(Scalars.Zero);
        using var count = written.sum();
        return count.item<long>() / (double)queue.Capacity;
    }

    public void AfterStep(DualEncoder model)
    {
        if (key is null || imageQueue is null || textQueue is null) return;
        MomentumUpdate.Apply(key, model, Momentum);
        foreach (var (image, text) in pending)
        {
            imageQueue.Enqueue(image, steps);
            textQueue.Enqueue(text, steps);
            image.Dispose();
            text.Dispose();
        }
        pending.Clear();
        steps++;
    }

    /// <summary>momentum.* (key encoder parameters and buffers), image_queue.*, text_queue.*, and the step count.</summary>
    public IReadOnlyDictionary<string, Tensor> State
    {
        get
        {
            var state = new Dictionary<string, Tensor>();
            if (key is null || imageQueue is null || textQueue is null) return state;
            foreach (var (name, p) in key.named_parameters()) state["momentum." + name] = p;
            foreach (var (name, b) in key.named_buffers()) state["momentum." + name] = b;
            foreach (var (name, t) in imageQueue.State("image_queue.")) state[name] = t;
            foreach (var (name, t) in textQueue.State("text_queue.")) state[name] = t;
            state["steps"] = tensor(new[] { steps });
            return state;
        }
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        if (!state.ContainsKey("steps"))
            throw new TuwenException("the checkpoint has no brivl-moco state (momentum encoder and queues); was it trained with another objective?");
        Allocate(randomQueues: false, CPU);   // after Prepare a no-op; without it (a bare load) the state stays where it was read
        using (no_grad())
        {
            foreach (var (name, p) in key!.named_parameters()) p.copy_(Get(state, "momentum." + name));
            foreach (var (name, b) in key.named_buffers()) b.copy_(Get(state, "momentum." + name));
        }
        imageQueue!.LoadState(state, "image_queue.");
        textQueue!.LoadState(state, "text_queue.");
        steps = Get(state, "steps").data<long>()[0];
    }

    private static Tensor Get(IReadOnlyDictionary<string, Tensor> state, string name) =>
        state.TryGetValue(name, out var t) ? t : throw new TuwenException($"the checkpoint lacks brivl-moco state tensor '{name}'");

    public void Dispose()
    {
        foreach (var (image, text) in pending) { image.Dispose(); text.Dispose(); }
        pending.Clear();
        key?.Dispose();
        imageQueue?.Dispose();
        textQueue?.Dispose();
    }
}
