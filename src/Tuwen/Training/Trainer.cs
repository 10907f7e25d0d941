using TorchSharp;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Distributed;
using Tuwen.Models;
using Tuwen.Objectives;
using static TorchSharp.torch;

namespace Tuwen.Training;

/// <summary>Batches for training, epoch by epoch, from any position: the trainer's only view of data.</summary>
public interface ITrainData
{
    long SamplesPerEpoch { get; }

    /// <summary>Batches of epoch <paramref name="epoch"/> after its first <paramref name="skip"/> samples, in a
    /// fixed order for a given seed; the consumer disposes each batch.</summary>
    IEnumerable<Batch> Epoch(int epoch, long skip);
}

public sealed record TrainProgress(long Step, long TotalSteps, int Epoch, double Loss, double Lr, double PairsPerSecond, IReadOnlyDictionary<string, double> Metrics);

/// <param name="DataWaitFraction">Share of this run's step time spent waiting for the loader's next batch
/// (0 = the input pipeline never stalled the model).</param>
public sealed record TrainResult(TrainState State, string CheckpointDir, string MetricsPath, double PairsPerSecond, bool Cancelled,
    double DataWaitFraction = 0);

/// <summary>
/// The training loop (nanoGPT-sized on purpose): AdamW with decoupled decay, warm-up + cosine, gradient
/// clipping, gradient accumulation, bf16 matmuls on request, periodic atomic checkpoints, metrics.jsonl.
/// Determinism: the model is initialised under the recipe's seed by the caller, the data order and
/// augmentation derive from (seed, epoch, position), and nothing in the step draws random numbers, so a run
/// resumed from a checkpoint continues exactly as the uninterrupted run would.
/// Data parallel (a <see cref="IProcessGroup"/> of W ranks): every rank runs this loop on its slice of the global
/// batch; replicas start from rank 0's tensors, gradients are averaged in buckets before clipping, so every
/// rank takes the same optimizer step; contrastive objectives see the global batch through
/// <see cref="CrossWorker"/>; only rank 0 writes checkpoints and metrics.
/// </summary>
public sealed class Trainer
{
    private readonly TrainConfig recipe;
    private readonly DualEncoder model;
    private readonly IObjective objective;
    private readonly IReadOnlyList<string> vocab;
    private readonly string runDir;
    private readonly IProcessGroup group;
    private readonly Device? device;

    /// <param name="group">The data-parallel job this trainer is a rank of; null = one process.</param>
    /// <param name="device">Where the model lives; each batch is moved there (null: batches stay where the data
    /// source made them, the CPU for the loader).</param>
    public Trainer(TrainConfig recipe, DualEncoder model, IObjective objective, IReadOnlyList<string> vocab, string runDir,
        IProcessGroup? group = null, Device? device = null)
    {
        this.recipe = recipe; this.model = model; this.objective = objective; this.vocab = vocab; this.runDir = runDir;
        this.group = group ?? SingleProcess.Instance;
        this.device = device;
    }

    private bool Writes => group.Rank == 0;

    public string CheckpointDir => Path.Combine(runDir, "checkpoint");
    public string MetricsPath => Path.Combine(runDir, "metrics.jsonl");

    public long TotalSteps(ITrainData data) => recipe.Steps > 0 ? recipe.Steps
        : Math.Max(1, (long)Math.Ceiling(recipe.Epochs * data.SamplesPerEpoch / (double)(recipe.BatchSize * recipe.AccumSteps)));

    public TrainResult Run(ITrainData data, Checkpoint? resume = null, Action<TrainProgress>? progress = null, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(runDir);
        MallocTuning.KeepFreedMemory();
        var total = TotalSteps(data);
        var schedule = new LrSchedule(recipe.Lr, recipe.MinLr, recipe.WarmupSteps, (int)total);
        model.train();
        objective.Prepare(model);
        using var optimizer = new AdamW(objective.TrainableParameters(model), recipe.Beta1, recipe.Beta2, recipe.Eps, recipe.WeightDecay);
        var state = new TrainState { Seed = recipe.Seed };
        if (resume != null)
        {
            Checkpoint.LoadInto(model, resume.ModelTensors);
            if (objective.Module is { } extra) Checkpoint.LoadInto(extra, resume.ModelTensors, "objective.");
            optimizer.LoadState(resume.TrainerTensors);
            objective.LoadState(resume.TrainerTensors.Where(kv => kv.Key.StartsWith("objective.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["objective.".Length..], kv => kv.Value));
            if (resume.TrainerTensors.TryGetValue("rng.torch", out var rng)) random.set_rng_state(rng);
            state = resume.State;
        }
        SyncReplicas();
        if (Writes) TruncateMetrics(state.Step);
        using var crossWorker = CrossWorker.Enable(group);
        using var buckets = new GradientBuckets(objective.TrainableParameters(model).Select(p => p.Parameter), group,
            recipe.AllreduceDtype, recipe.AllreduceBucketMb);

        var dtype = Autocast.Parse(recipe.Precision);
        using var checkpointing = ActivationCheckpoint.Enable(recipe.GradCheckpointing);
        var clock = Stopwatch.StartNew();
        double trainSeconds = state.TrainSeconds, windowSeconds = 0, windowWait = 0, windowReduce = 0, runSeconds = 0, runWait = 0;
        long windowPairs = 0;
        var epoch = state.Epoch;
        var position = state.SamplesInEpoch;
        var lastMetrics = new Dictionary<string, double>(state.LastMetrics);
        var cancelled = false;
        using var batches = Stream(data, epoch, position).GetEnumerator();
        var gradientCache = GradientCache.For(recipe, objective);   // null unless contrastive_micro_batch > 0

        while (state.Step < total)
        {
            // One process stops at once; a job stops together after the step in which a rank saw the request.
            if (cancelled || (group.WorldSize == 1 && cancel.IsCancellationRequested)) { cancelled = true; break; }
            var stepStart = clock.Elapsed.TotalSeconds;
            var lr = schedule.At(state.Step);
            optimizer.ZeroGrad();
            double lossSum = 0;
            var pairs = 0;
            var metricSums = new Dictionary<string, double>();
            for (var micro = 0; micro < recipe.AccumSteps; micro++)
            {
                var waitStart = clock.Elapsed.TotalSeconds;
                var more = batches.MoveNext();
                var waited = clock.Elapsed.TotalSeconds - waitStart;
                windowWait += waited; runWait += waited;
                if (!more) throw new TuwenException("the training data produced no batches (too few samples for one batch?)");
                var (batch, e, pos) = batches.Current;
                batch = batch.MovedTo(device);   // --device: the loader builds batches in CPU memory
                using (batch)
                using (var scope = NewDisposeScope())
                using (Autocast.Enable(dtype))
                {
                    // Gradient caching backpropagates each micro-batch itself; otherwise one backward of the loss.
                    var output = gradientCache?.ForwardBackward(model, batch, recipe.AccumSteps) ?? objective.Forward(model, batch);
                    if (gradientCache is null && recipe.AccumSteps == 1) output.Loss.backward();
                    else if (gradientCache is null)
                    {
                        using var share = (1.0 / recipe.AccumSteps).ToScalar();
                        output.Loss.mul(share).backward();
                    }
                    lossSum += output.Loss.item<float>();
                    foreach (var (k, v) in output.Metrics) metricSums[k] = metricSums.GetValueOrDefault(k) + v;
                    pairs += batch.Size;
                }
                (epoch, position) = (e, pos);
            }
            var reduceStart = clock.Elapsed.TotalSeconds;
            buckets.Average();
            windowReduce += clock.Elapsed.TotalSeconds - reduceStart;
            var gradNorm = optimizer.ClipGradNorm(recipe.GradClip);
            optimizer.Step(lr);
            objective.AfterStep(model);

            // One small all-reduce: the job's mean loss and metrics, its pairs, and whether any rank was
            // cancelled (all ranks must leave the loop after the same step, or the others wait forever).
            (lossSum, pairs, cancelled) = JobTotals(metricSums, lossSum, pairs, cancel.IsCancellationRequested);
            var seconds = clock.Elapsed.TotalSeconds - stepStart;
            trainSeconds += seconds; windowSeconds += seconds; runSeconds += seconds; windowPairs += pairs;
            var loss1 = lossSum / recipe.AccumSteps;
            lastMetrics = metricSums.ToDictionary(kv => kv.Key, kv => kv.Value / recipe.AccumSteps);
            lastMetrics["loss"] = loss1;
            lastMetrics["grad_norm"] = gradNorm;
            lastMetrics["data_wait_frac"] = Math.Round(windowWait / Math.Max(1e-9, windowSeconds), 4);
            if (group.WorldSize > 1)
            {
                lastMetrics["world_size"] = group.WorldSize;
                lastMetrics["allreduce_frac"] = Math.Round(windowReduce / Math.Max(1e-9, windowSeconds), 4);
            }
            state = state with
            {
                Step = state.Step + 1, Epoch = epoch, SamplesInEpoch = position, PairsSeen = state.PairsSeen + pairs,
                TrainSeconds = trainSeconds, LastMetrics = lastMetrics,
            };
            var pps = windowPairs / Math.Max(1e-9, windowSeconds);
            if (Writes) progress?.Invoke(new TrainProgress(state.Step, total, epoch, loss1, lr, pps, lastMetrics));
            if (state.Step % recipe.LogEvery == 0 || state.Step == total)
            {
                if (Writes) AppendMetrics(state, lr, pps);
                windowPairs = 0; windowSeconds = 0; windowWait = 0; windowReduce = 0;
            }
            if (state.Step % recipe.SaveEvery == 0 && state.Step < total && Writes) Save(optimizer, state);
        }
        if (Writes) Save(optimizer, state);
        group.Barrier();   // the checkpoint exists for every rank once Run returns
        var overall = state.PairsSeen / Math.Max(1e-9, trainSeconds);
        return new TrainResult(state, CheckpointDir, MetricsPath, overall, cancelled, runWait / Math.Max(1e-9, runSeconds));
    }

    /// <summary>An endless stream of (batch, epoch, samples of that epoch consumed after it).</summary>
    private static IEnumerable<(Batch Batch, int Epoch, long Position)> Stream(ITrainData data, int epoch, long skip)
    {
        while (true)
        {
            var position = skip;
            var any = false;
            foreach (var batch in data.Epoch(epoch, skip))
            {
                any = true;
                // The loader counts skipped (corrupt) samples too; synthetic sources may leave it at 0.
                position = batch.SamplesConsumed > 0 ? batch.SamplesConsumed : position + batch.Size;
                yield return (batch, epoch, position);
            }
            if (!any && skip == 0) yield break;
            epoch++;
            skip = 0;
        }
    }

    /// <summary>Sums (loss, metrics, cancelled) over the ranks and averages them; pairs are summed.</summary>
    private (double Loss, int Pairs, bool Cancelled) JobTotals(Dictionary<string, double> metrics, double loss, int pairs, bool cancelled)
    {
        if (group.WorldSize == 1) return (loss, pairs, cancelled);
        var keys = metrics.Keys.Order(StringComparer.Ordinal).ToArray();
        var values = keys.Select(k => metrics[k]).Append(loss).Append(pairs).Append(cancelled ? 1 : 0).ToArray();
        group.AllReduceSum(values);
        for (var i = 0; i < keys.Length; i++) metrics[keys[i]] = values[i] / group.WorldSize;
        return (values[keys.Length] / group.WorldSize, (int)values[keys.Length + 1], values[keys.Length + 2] > 0);
    }

    /// <summary>Everything a replica must share with rank 0: parameters, buffers, the objective's modules and state.</summary>
    private void SyncReplicas()
    {
        if (group.WorldSize == 1) return;
        ReplicaSync.FromRankZero(group, model.parameters().Concat(model.buffers())
            .Concat(objective.Module?.parameters() ?? []).Concat(objective.Module?.buffers() ?? []));
        var state = objective.State;
        if (state.Count == 0) return;
        ReplicaSync.FromRankZero(group, state.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value));
        // State may hand out copies (step counters): load what rank 0 sent.
        if (group.Rank != 0) objective.LoadState(state);
    }

    private void Save(AdamW optimizer, TrainState state)
    {
        var modelTensors = model.named_parameters().Select(p => KeyValuePair.Create(p.name, (Tensor)p.parameter))
            .Concat(model.named_buffers().Select(b => KeyValuePair.Create(b.name, b.buffer)));
        if (objective.Module is { } extra)
            modelTensors = modelTensors.Concat(extra.named_parameters().Select(p => KeyValuePair.Create("objective." + p.name, (Tensor)p.parameter)))
                .Concat(extra.named_buffers().Select(b => KeyValuePair.Create("objective." + b.name, b.buffer)));
        using var rng = random.get_rng_state();
        var trainer = optimizer.State().Concat(objective.State.Select(kv => KeyValuePair.Create("objective." + kv.Key, kv.Value)))
            .Append(KeyValuePair.Create("rng.torch", rng));
        Checkpoint.Save(CheckpointDir, model.Config, recipe, vocab, modelTensors.ToList(), trainer.ToList(), state);
    }

    private void AppendMetrics(TrainState state, double lr, double pairsPerSecond)
    {
        var line = new JsonObject
        {
            ["step"] = state.Step, ["epoch"] = state.Epoch, ["lr"] = lr,
            ["pairs_per_s"] = Math.Round(pairsPerSecond, 1), ["train_s"] = Math.Round(state.TrainSeconds, 2),
        };
        foreach (var (k, v) in state.LastMetrics) line[k] = v;
        File.AppendAllText(MetricsPath, line.ToJsonString() + "\n");
    }

    /// <summary>On resume, drop log lines from after the checkpoint so the log matches the parameters.</summary>
    private void TruncateMetrics(long step)
    {
        if (!File.Exists(MetricsPath)) return;
        var keep = File.ReadAllLines(MetricsPath).Where(l =>
        {
            try { return JsonNode.Parse(l)?["step"]?.GetValue<long>() <= step; } catch (JsonException) { return false; }
        });
        File.WriteAllLines(MetricsPath, step == 0 ? [] : keep);
    }
}
