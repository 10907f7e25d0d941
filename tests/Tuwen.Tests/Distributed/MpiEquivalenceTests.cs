using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Tests.Cli;
using Tuwen.Tests.Data;
using Tuwen.Training;

namespace Tuwen.Tests.Distributed;

/// <summary>
/// Data parallelism changes where the work runs, not what is computed: 2 and 3 MPI processes with global batch
/// B end with the parameters of one process with batch B after the same steps (same seed, real Flickr8K-CN
/// images, data_split=samples so every world size sees the same global batches). Tolerance: fp32 sums in a
/// different order (per-rank matmuls, the all-reduce) — 2e-5 on parameters that the four steps move by ~4e-3.
/// </summary>
public class MpiEquivalenceTests : IDisposable
{
    private const float Tolerance = 2e-5f;
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private string WriteFlickrShards() => TrainFixtures.WriteFlickrShards(temp.Combine("flickr"), 48);

    private string MicroModel() => TrainFixtures.MicroModel(temp.Path);

    /// <summary>Recipe keys shared by every run: a constant learning rate, so a run of 2 steps resumed to 4 follows
    /// the same schedule as a run of 4.</summary>
    private string[] Recipe(string objective, int steps, params string[] extra) =>
    [
        "--set", $"model={MicroModel()}", "--set", $"objective={objective}", "--set", $"steps={steps}", "--set", "batch_size=12",
        "--set", "warmup_steps=0", "--set", "lr=1e-3", "--set", "min_lr=1e-3", "--set", "precision=fp32", "--set", "log_every=1",
        "--set", "data_split=samples", "--set", "workers=1", .. extra.SelectMany(e => new[] { "--set", e }),
    ];

    private string OneProcess(string data, string name, string objective, int steps, params string[] extra)
    {
        var run = temp.Combine(name);
        var r = CliRunner.Run(["train", "--data", data, "--out", run, .. Recipe(objective, steps, extra)]);
        Assert.True(r.ExitCode == 0, r.Err);
        return run;
    }

    private string Ranks(int processes, string data, string name, string objective, int steps, string? resume = null, params string[] extra)
    {
        var run = temp.Combine(name);
        string[] args = ["train", "--launcher", "mpi", "--data", data, "--out", run, .. Recipe(objective, steps, extra)];
        if (resume != null) args = [.. args, "--resume", resume];
        var r = MpiRun.Tuwen(processes, args);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains($"data parallel: {processes} processes", r.Output);
        return run;
    }

    private static (float MaxDiff, float MaxMove) Compare(string runA, string runB, string init)
    {
        var a = Checkpoint.Load(runA).ModelTensors;
        var b = Checkpoint.Load(runB).ModelTensors;
        var start = Checkpoint.Load(init).ModelTensors;
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        float maxDiff = 0, maxMove = 0;
        foreach (var (name, ta) in a)
        {
            if (!ta.is_floating_point()) continue;
            using var d = (ta - b[name]).abs().max();
            using var m = (ta - start[name]).abs().max();
            maxDiff = Math.Max(maxDiff, d.item<float>());
            maxMove = Math.Max(maxMove, m.item<float>());
        }
        return (maxDiff, maxMove);
    }

    /// <summary>Largest difference of AdamW's first gradient moments, relative to the tensor's largest moment
    /// (at least 1e-3 of the largest of all: some gradients are zero up to rounding, e.g. attention key biases,
    /// to which softmax is blind). Adam's step is blind to a uniform scale of the gradients, so parameters alone
    /// would miss a wrongly scaled gradient; the moments (the running mean of the gradients) see it.</summary>
    private static double MomentDifference(string runA, string runB)
    {
        var a = Checkpoint.Load(runA).TrainerTensors.Where(kv => kv.Key.StartsWith("adamw.exp_avg.", StringComparison.Ordinal)).ToList();
        var b = Checkpoint.Load(runB).TrainerTensors;
        float Max(TorchSharp.torch.Tensor t) { using var m = t.abs().max(); return m.item<float>(); }
        var floor = 1e-3 * a.Max(kv => Max(kv.Value));
        var worst = 0.0;
        foreach (var (name, ta) in a)
        {
            using var d = ta - b[name];
            worst = Math.Max(worst, Max(d) / Math.Max(floor, Max(ta)));
        }
        return worst;
    }

    private static double[] Logged(string run, string key) =>
        File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)![key]!.GetValue<double>()).ToArray();

    private static void AssertSameLog(string name, string runA, string runB)
    {
        foreach (var key in new[] { "loss", "grad_norm" })
        {
            var (one, other) = (Logged(runA, key), Logged(runB, key));
            Assert.Equal(one.Length, other.Length);
            for (var i = 0; i < one.Length; i++)
                Assert.True(Math.Abs(one[i] - other[i]) <= 1e-4 * Math.Max(1, Math.Abs(one[i])), $"{name}: {key} at step {i + 1}: {one[i]} vs {other[i]}");
        }
    }

    [Fact]
    public void ClipOnTwoAndThreeProcessesMatchesOneProcessAndResumesOnAnotherWorldSize()
    {
        var data = WriteFlickrShards();
        var init = OneProcess(data, "init", "clip", 1, "lr=1e-12", "min_lr=1e-12");   // ≈ the initial parameters
        var single = OneProcess(data, "single", "clip", 4);
        var two = Ranks(2, data, "two", "clip", 4);
        var three = Ranks(3, data, "three", "clip", 4);
        // 2 steps on 2 processes, then resumed on 3 to step 4.
        var half = Ranks(2, data, "half", "clip", 2);
        var resumed = Ranks(3, data, "half", "clip", 4, resume: half);

        foreach (var (name, run) in new[] { ("2 processes", two), ("3 processes", three), ("2 then 3 processes", resumed) })
        {
            var (diff, move) = Compare(single, run, init);
            Assert.True(diff < Tolerance, $"{name}: parameters differ from one process's by up to {diff:G3}");
            Assert.True(move > 100 * Tolerance, $"training moved parameters by only {move:G3}: the comparison would not see a difference");
            var moments = MomentDifference(single, run);
            Assert.True(moments < 1e-3, $"{name}: gradient moments differ from one process's by up to {moments:P3} of their size");
            AssertSameLog(name, single, run);
        }
        Assert.Equal(48, Checkpoint.Load(resumed).State.PairsSeen);
        Assert.Equal(48, Checkpoint.Load(resumed).State.SamplesInEpoch);
    }

    [Fact]
    public void BrivlMocoOnTwoProcessesFeedsTheQueuesFromTheGlobalBatch()
    {
        var data = WriteFlickrShards();
        var init = OneProcess(data, "init", "brivl-moco", 1, "lr=1e-12", "min_lr=1e-12", "objective_options.queue_size=36");
        var single = OneProcess(data, "single", "brivl-moco", 4, "objective_options.queue_size=36");
        var two = Ranks(2, data, "two", "brivl-moco", 4, null, "objective_options.queue_size=36");
        var (diff, move) = Compare(single, two, init);
        Assert.True(diff < Tolerance, $"parameters differ from one process's by up to {diff:G3}");
        Assert.True(move > 100 * Tolerance, $"training moved parameters by only {move:G3}");
        var moments = MomentDifference(single, two);
        Assert.True(moments < 1e-3, $"gradient moments differ from one process's by up to {moments:P3} of their size");
        AssertSameLog("brivl-moco", single, two);
        // The queues hold the same keys in the same rows: every rank's keys, in rank order.
        var q1 = Checkpoint.Load(single).TrainerTensors;
        var q2 = Checkpoint.Load(two).TrainerTensors;
        foreach (var name in new[] { "objective.image_queue.features", "objective.text_queue.features", "objective.image_queue.steps" })
        {
            using var d = (q1[name] - q2[name]).abs().max().to(TorchSharp.torch.ScalarType.Float32);
            Assert.True(d.item<float>() < 1e-4, $"{name} differs by {d.item<float>()}");
        }
    }
}
