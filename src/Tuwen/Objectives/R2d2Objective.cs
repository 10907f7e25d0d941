using TorchSharp;
using Tuwen.Data;
using Tuwen.Distributed;
using Tuwen.Evaluation;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Objectives;

/// <summary>
/// R2D2 (Zero): pre-ranking by the dual encoder's contrastive loss with target-guided distillation (soft targets
/// from an EMA teacher over the batch and a queue of its past features), ranking by two cross encoders trained
/// with image–text matching on the batch's hardest negatives, and feature-guided distillation (the student's
/// text→image encoder sees masked text and regresses the teacher's features on the unmasked text). Evaluation
/// re-ranks the dual encoder's top K with the cross encoders (<see cref="RerankScorer"/>).
/// </summary>
public sealed class R2d2Objective : IObjective
{
    /// <summary>BERT's [MASK]; special ids never masked: [PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103.</summary>
    public const long MaskId = 103;
    private static readonly long[] SpecialIds = [0, 100, 101, 102, 103];
    private static readonly Scalar Half = 0.5.ToScalar();

    private readonly DualEncoder model;
    private readonly R2d2Heads heads;
    private readonly List<(Tensor Image, Tensor Text)> pending = [];
    private R2d2TowerOutputs? towers;
    private DualEncoder? teacher;
    private R2d2Heads? teacherHeads;
    private MomentumQueue? imageQueue;
    private MomentumQueue? textQueue;
    private long step;
    private long forwards;

    public R2d2Objective(R2d2Options options, DualEncoder model)
    {
        Options = options;
        this.model = model;
        heads = R2d2Heads.For(model, options.CrossLayers);
    }

    public string Name => "r2d2";
    public R2d2Options Options { get; }
    public nn.Module Module => heads;
    public R2d2Heads Heads => heads;

    /// <summary>The EMA teacher (null until <see cref="Prepare"/> or <see cref="LoadState"/>).</summary>
    public DualEncoder? Teacher => teacher;
    public R2d2Heads? TeacherHeads => teacherHeads;
    public MomentumQueue? ImageQueue => imageQueue;
    public MomentumQueue? TextQueue => textQueue;

    public void Prepare(DualEncoder model) => EnsureTeacher();

    private void EnsureTeacher()
    {
        if (teacher != null) return;
        towers = new R2d2TowerOutputs(model);
        teacher = new DualEncoder(model.Config).to(model.Device);
        teacherHeads = R2d2Heads.For(teacher, Options.CrossLayers).to(model.Device);
        MomentumUpdate.CopyAndFreeze(teacher, model);
        MomentumUpdate.CopyAndFreeze(teacherHeads, heads);
        teacher.eval();
        teacherHeads.eval();
        imageQueue = new MomentumQueue(Options.QueueSize, model.Config.EmbedDim, randomInit: false, device: model.Device);
        textQueue = new MomentumQueue(Options.QueueSize, model.Config.EmbedDim, randomInit: false, device: model.Device);
    }

    public ObjectiveOutput Forward(DualEncoder model, Batch batch)
    {
        EnsureTeacher();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)(Options.Seed * 1_000_003L + forwards++));
        var ids = batch.TokenIds;
        var textMask = R2d2Heads.TextMask(ids);
        var image = towers!.Image(model, batch.Images);
        var text = towers.Text(model, ids);
        var imageGlobal = nn.functional.normalize(image.Global, dim: -1);
        var textGlobal = nn.functional.normalize(text.Global, dim: -1);
        var imageTokens = image.Tokens;
        var textHidden = text.Tokens;
        var scale = model.LogitScale();

        Tensor teacherImage, teacherText, teacherFeatures, teacherScale;
        using (no_grad())
        {
            var tImage = towers.Image(teacher!, batch.Images);
            var tText = towers.Text(teacher!, ids);
            teacherImage = nn.functional.normalize(tImage.Global, dim: -1);
            teacherText = nn.functional.normalize(tText.Global, dim: -1);
            teacherFeatures = teacherHeads!.TextImageFeatures(tText.Tokens, textMask, tImage.Tokens);
            teacherScale = teacher!.LogitScale();
        }
        // Data parallel: the queues take every rank's teacher features in rank order (one process's queue for the
        // global batch); the batch's own contrast stays within this rank.
        var world = CrossWorker.Group;
        pending.Add(world.WorldSize == 1 ? (teacherImage.detach().DetachFromDisposeScope(), teacherText.detach().DetachFromDisposeScope())
            : (CrossWorker.GatherDetached(teacherImage, world).DetachFromDisposeScope(), CrossWorker.GatherDetached(teacherText, world).DetachFromDisposeScope()));

        // Pre-ranking with target-guided distillation.
        var positives = PositivePairs(batch.Keys, ids.device);
        var tau = Options.TeacherTemperature ?? 1.0 / teacherScale.item<float>();
        using var queuedImages = imageQueue!.Valid;
        using var queuedTexts = textQueue!.Valid;
        var queueLogWeight = QueueLogWeights(textQueue);
        var i2t = DistilledContrastive(imageGlobal, cat([textGlobal, queuedTexts]), teacherImage, cat([teacherText, queuedTexts]), scale, positives, queueLogWeight, Options.Alpha, tau);
        var t2i = DistilledContrastive(textGlobal, cat([imageGlobal, queuedImages]), teacherText, cat([teacherImage, queuedImages]), scale, positives, queueLogWeight, Options.Alpha, tau);
        var gcpr = Scalars.Add(i2t, t2i).div_(Scalars.Two);

        // Ranking on the batch's hard negatives.
        Tensor imageForText, textForImage;
        using (no_grad())
        {
            using var sims = imageGlobal.detach().matmul(textGlobal.detach().t());
            using var logits = sims.mul(scale.detach());
            (imageForText, textForImage) = HardNegatives(logits, positives, Options.HardNegatives, generator);
        }
        var (textIndex, imageIndex, labels) = ItmPairs(imageForText, textForImage);
        using var itmLogits = heads.Itm(textHidden.index_select(0, textIndex), textMask.index_select(0, textIndex), imageTokens.index_select(0, imageIndex));
        var itm = ItmLoss(itmLogits, labels);

        // Feature-guided distillation: the student reads masked text, the teacher the full text.
        var masked = MaskTokens(ids, Options.MaskRatio, generator);
        var studentFeatures = heads.TextImageFeatures(model.Text.ForwardTokens(masked), textMask, imageTokens);
        var fgd = FeatureDistillation(studentFeatures, teacherFeatures, ids.ne(0));

        using var itmWeight = Options.ItmWeight.ToScalar();
        using var fgdWeight = Options.FgdWeight.ToScalar();
        var loss = gcpr.add(itm, itmWeight).add(fgd, fgdWeight);
        var metrics = new Dictionary<string, double>
        {
            ["gcpr"] = gcpr.item<float>(), ["itm"] = itm.item<float>(), ["fgd"] = fgd.item<float>(),
            ["acc_i2t"] = InBatchAccuracy(imageGlobal, textGlobal, positives), ["acc_t2i"] = InBatchAccuracy(textGlobal, imageGlobal, positives),
            ["itm_acc"] = R2d2Heads.MatchProbability(itmLogits).gt(Half).eq(labels.to(ScalarType.Bool)).to(ScalarType.Float32).mean().item<float>(),
            ["logit_scale"] = scale.item<float>(), ["queue"] = textQueue.Count,
        };
        return new ObjectiveOutput(loss.MoveToOuterDisposeScope(), metrics);
    }

    public void AfterStep(DualEncoder model)
    {
        EnsureTeacher();
        MomentumUpdate.Apply(teacher!, model, Options.Momentum);
        MomentumUpdate.Apply(teacherHeads!, heads, Options.Momentum);
        step++;
        // Enqueued here, not in Forward: the queue tensors took part in this step's graph.
        foreach (var (image, text) in pending)
        {
            using (image) imageQueue!.Enqueue(image, step);
            using (text) textQueue!.Enqueue(text, step);
        }
        pending.Clear();
    }

    public IReadOnlyDictionary<string, Tensor> State
    {
        get
        {
            if (teacher == null) return new Dictionary<string, Tensor>();
            var state = new Dictionary<string, Tensor>();
            foreach (var (name, t) in Tensors(teacher)) state["teacher.model." + name] = t;
            foreach (var (name, t) in Tensors(teacherHeads!)) state["teacher.heads." + name] = t;
            foreach (var (k, v) in imageQueue!.State("queue.image.").Concat(textQueue!.State("queue.text."))) state[k] = v;
            state["counters"] = tensor(new[] { step, forwards });
            return state;
        }
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        EnsureTeacher();
        Checkpoint(teacher!, state, "teacher.model.");
        Checkpoint(teacherHeads!, state, "teacher.heads.");
        imageQueue!.LoadState(state, "queue.image.");
        textQueue!.LoadState(state, "queue.text.");
        var counters = state.TryGetValue("counters", out var c) ? c.data<long>().ToArray() : throw new TuwenException("checkpoint lacks r2d2 counters");
        (step, forwards) = (counters[0], counters[1]);
    }

    private static void Checkpoint(nn.Module module, IReadOnlyDictionary<string, Tensor> state, string prefix) =>
        Training.Checkpoint.LoadInto(module, state, prefix);

    private static IEnumerable<(string Name, Tensor Tensor)> Tensors(nn.Module m) =>
        m.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(m.named_buffers().Select(b => (b.name, b.buffer)));

    public IPairScorer Scorer(DualEncoder model) => new RerankScorer(model, heads, Options.RerankK);

    /// <summary>[B,B] bool: pair (i, j) matches when rows i and j hold the same sample (all its captions are positives).</summary>
    public static Tensor PositivePairs(IReadOnlyList<string> keys, Device? device = null)
    {
        var b = keys.Count;
        var same = new bool[b * b];
        for (var i = 0; i < b; i++)
            for (var j = 0; j < b; j++) same[i * b + j] = keys[i] == keys[j];
        return tensor(same, [b, b], device: device);
    }

    /// <summary>
    /// For each text the image and for each image the text that scores highest among the non-matching ones
    /// (<see cref="HardNegativeMode.Hardest"/>), or one drawn with probability softmax(logits) over them
    /// (<see cref="HardNegativeMode.Sample"/>, R2D2's released code). logits [I, T] rows = images.
    /// A row without any non-matching candidate (only when every row shows the same image) has no true negative:
    /// it gets column 0 (hardest) or a uniform draw (sample).
    /// </summary>
    public static (Tensor ImageForText, Tensor TextForImage) HardNegatives(Tensor logits, Tensor positives, HardNegativeMode mode, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        using var ninf = float.NegativeInfinity.ToScalar();
        var masked = logits.masked_fill(positives, ninf);
        Tensor Pick(Tensor rows)
        {
            if (mode == HardNegativeMode.Hardest) return rows.argmax(1);
            var weights = rows.softmax(1).nan_to_num(0.0, 0.0, 0.0);
            // Rows with no negative (all −∞) would make multinomial fail; give them uniform weights.
            var empty = weights.sum(1, keepdim: true).eq(0);
            weights = weights.masked_fill(empty.expand_as(weights), Scalars.One);
            return multinomial(weights, 1, false, generator).squeeze(1);
        }
        var textForImage = Pick(masked);
        var imageForText = Pick(masked.t());
        return (imageForText.MoveToOuterDisposeScope(), textForImage.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The 3B ranking pairs as (text row, image row, label): B positives (i, i) → 1, then each text with its hard
    /// negative image (i, imageForText[i]) → 0, then each image with its hard negative text (textForImage[i], i) → 0.
    /// </summary>
    public static (Tensor TextIndex, Tensor ImageIndex, Tensor Labels) ItmPairs(Tensor imageForText, Tensor textForImage)
    {
        using var scope = NewDisposeScope();
        var b = imageForText.shape[0];
        var own = Scalars.Range(b, imageForText.device);
        var textIndex = cat([own, own, textForImage]);
        var imageIndex = cat([own, imageForText, own]);
        var labels = cat([ones(b, ScalarType.Int64, own.device), zeros(2 * b, ScalarType.Int64, own.device)]);
        return (textIndex.MoveToOuterDisposeScope(), imageIndex.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>½[CE(text side) + CE(image side)] on logits (one softmax, inside the cross-entropy), class 1 (match)
    /// weighted 2 to balance one positive against two negatives, as R2D2 does.</summary>
    public static Tensor ItmLoss(ItmLogits logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var weight = tensor(new float[] { 1, 2 }, device: labels.device);
        var t = nn.functional.cross_entropy(logits.TextSide, labels, weight);
        var i = nn.functional.cross_entropy(logits.ImageSide, labels, weight);
        return Scalars.Add(t, i).div_(Scalars.Two).MoveToOuterDisposeScope();
    }

    /// <summary>ỹ = α·y + (1−α)·softmax(teacherSims/τ + logWeights) row-wise. y, teacherSims [B, C]; logWeights [C] or null.</summary>
    public static Tensor SoftTargets(Tensor hard, Tensor teacherSims, double alpha, double tau, Tensor? logWeights = null)
    {
        using var scope = NewDisposeScope();
        using var invTau = (1.0 / tau).ToScalar();
        using var a = alpha.ToScalar();
        using var b = (1 - alpha).ToScalar();
        var teacherLogits = teacherSims.mul(invTau);
        if (logWeights is not null) teacherLogits = Scalars.Add(teacherLogits, logWeights);
        return hard.mul(a).add(teacherLogits.softmax(1), b).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Contrastive loss of queries against candidates (the batch's own, then the queue's) with soft targets:
    /// H(ỹ, softmax(scale · q·cᵀ)) averaged over queries. The hard targets spread each row's weight over its
    /// positives in the batch; queue entries are never positives.
    /// </summary>
    public static Tensor DistilledContrastive(Tensor queries, Tensor candidates, Tensor teacherQueries, Tensor teacherCandidates,
        Tensor scale, Tensor positives, Tensor? queueLogWeights, double alpha, double tau)
    {
        using var scope = NewDisposeScope();
        var b = queries.shape[0];
        var queued = candidates.shape[0] - b;
        var hard = positives.to(ScalarType.Float32);
        hard = hard.div(hard.sum(1, keepdim: true));
        if (queued > 0) hard = cat([hard, zeros(b, queued, device: hard.device)], 1);
        Tensor? logWeights = null;
        if (queueLogWeights is not null && queued > 0) logWeights = cat([zeros(b, device: hard.device), queueLogWeights]);
        Tensor teacherSims;
        using (no_grad()) teacherSims = teacherQueries.matmul(teacherCandidates.t());
        var targets = SoftTargets(hard, teacherSims, alpha, tau, logWeights);
        var logits = queries.matmul(candidates.t()).mul(scale);
        return nn.functional.log_softmax(logits, 1).mul(targets).sum(1).mean().neg().MoveToOuterDisposeScope();
    }

    /// <summary>log(decay^age) of each queued entry [Count] (age in steps since it was written); null when no decay.</summary>
    private Tensor? QueueLogWeights(MomentumQueue queue)
    {
        if (Options.QueueDecay >= 1 || queue.Count == 0) return null;
        using var steps = queue.Steps.narrow(0, 0, queue.Count);
        using var now = step.ToScalar();
        using var logDecay = Math.Log(Options.QueueDecay).ToScalar();
        return steps.neg().add(now).to(ScalarType.Float32).mul(logDecay);
    }

    /// <summary>
    /// Replaces round(ratio · n) (at least one when the ratio is positive) of each row's n real tokens by [MASK]:
    /// never padding, [CLS], [SEP] or [UNK]. Which ones is drawn from <paramref name="generator"/>.
    /// </summary>
    public static Tensor MaskTokens(Tensor ids, double ratio, Generator? generator)
    {
        using var scope = NewDisposeScope();
        using var special = tensor(SpecialIds, device: ids.device);
        var candidate = isin(ids, special).logical_not();
        if (ratio <= 0) return ids.clone().MoveToOuterDisposeScope();
        var real = candidate.sum(1).to(ScalarType.Float64);
        using var r = ratio.ToScalar();
        var count = real.mul(r).round().clamp_min(Scalars.One).minimum(real).to(ScalarType.Int64);
        // A random rank per position among the row's candidates: the `count` lowest are masked.
        using var two = 2.0.ToScalar();
        // Drawn on the CPU, where the generator lives, so the masked tokens are the same on every device.
        var keys = rand(ids.shape, generator: generator).to(ids.device).masked_fill(candidate.logical_not(), two);
        var rank = keys.argsort(1).argsort(1);
        var chosen = rank.lt(count.unsqueeze(1)).logical_and(candidate);
        using var mask = MaskId.ToScalar();
        return ids.masked_fill(chosen, mask).MoveToOuterDisposeScope();
    }

    /// <summary>Mean squared error between student and teacher features [B, L, W] over valid positions [B, L].</summary>
    public static Tensor FeatureDistillation(Tensor student, Tensor teacher, Tensor valid)
    {
        using var scope = NewDisposeScope();
        var squared = student.sub(teacher.detach()).square().mean(new long[] { 2 });
        var v = valid.to(ScalarType.Float32);
        return squared.mul(v).sum().div(v.sum().clamp_min(Scalars.One)).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var (image, text) in pending) { image.Dispose(); text.Dispose(); }
        pending.Clear();
        teacher?.Dispose();
        teacherHeads?.Dispose();
        imageQueue?.Dispose();
        textQueue?.Dispose();
        heads.Dispose();
    }

    /// <summary>Share of queries whose best in-batch candidate is one of their positives.</summary>
    private static double InBatchAccuracy(Tensor queries, Tensor candidates, Tensor positives)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var best = queries.matmul(candidates.t()).argmax(1, keepdim: true);
        return positives.gather(1, best).to(ScalarType.Float32).mean().item<float>();
    }
}
