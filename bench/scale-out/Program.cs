// All-reduce side of the scale-out bench: one data-parallel step's gradient exchange for a model config,
// timed under mpirun. Three measurements, each REPEATS times after one warm-up, every rank in lock-step:
// the bare MPI all-reduce of the whole gradient as one fp32 buffer, and GradientBuckets.Average() (what the
// trainer calls: copy into 25 MB buckets, reduce, scale, copy back) with fp32 and bf16 on the wire; plus the
// contrastive loss's all-gather of image and text features for a per-rank batch.
// Usage: mpirun -np N dotnet ScaleOut.dll MODEL_JSON [REPEATS=5] [GATHER_BATCH=128] → rank 0 prints one JSON line.
using System.Diagnostics;
using System.Text.Json;
using Tuwen.Distributed;
using Tuwen.Models;
using static TorchSharp.torch;

var config = ModelConfig.Load(args[0]);
var repeats = args.Length > 1 ? int.Parse(args[1]) : 5;
var gatherBatch = args.Length > 2 ? int.Parse(args[2]) : 128;
using var group = MpiProcessGroup.Start();
set_num_threads(Math.Max(1, Environment.ProcessorCount / group.LocalSize));
manual_seed(0);
using var model = new DualEncoder(config);
var parameters = model.parameters().Where(p => p.requires_grad).ToList();
long count = parameters.Sum(p => p.numel());

// Real gradients on every parameter (the cheapest graph that reaches them all), so Average() copies what
// the trainer's would.
using (var scope = NewDisposeScope())
{
    var loss = parameters.Select(p => p.square().sum()).Aggregate((a, b) => a + b);
    loss.backward();
}

// Median and best of REPEATS timed calls, each started together on every rank.
(double Median, double Best) Time(Action action)
{
    group.Barrier();
    action();
    var seconds = new List<double>();
    for (var i = 0; i < repeats; i++)
    {
        group.Barrier();
        var clock = Stopwatch.StartNew();
        action();
        seconds.Add(clock.Elapsed.TotalSeconds);
    }
    seconds.Sort();
    return (seconds[seconds.Count / 2], seconds[0]);
}

var rows = new List<Dictionary<string, object>>();
int n = group.WorldSize;
void Row(string what, string wire, long bytes, (double Median, double Best) t) => rows.Add(new Dictionary<string, object>
{
    ["what"] = what, ["wire"] = wire, ["bytes"] = bytes, ["median_s"] = t.Median, ["best_s"] = t.Best,
    // Ring all-reduce moves 2(N−1)/N of the payload through each rank's link: the "bus bandwidth" NCCL reports.
    ["bus_gb_per_s"] = n > 1 ? 2.0 * (n - 1) / n * bytes / t.Median / 1e9 : double.NaN,
});

var flat = new float[count];
for (var i = 0; i < flat.Length; i++) flat[i] = 1e-3f * (i % 97);
Row("MPI_Allreduce, one buffer", "fp32", count * 4, Time(() => group.AllReduceSum(flat.AsSpan())));
foreach (var wire in new[] { "fp32", "bf16" })
{
    using var buckets = new GradientBuckets(parameters, group, wire);
    Row($"GradientBuckets.Average ({buckets.Count} buckets of ≤ 25 MB)", wire, buckets.PayloadBytes, Time(buckets.Average));
    rows[^1]["buckets"] = buckets.Count;
}
// Features of both towers, gathered for the global-batch loss (ClipObjective with cross-worker negatives).
var local = new float[2 * gatherBatch * config.EmbedDim];
var all = new float[n * local.Length];
var gather = Time(() => group.AllGather(local, all));
rows.Add(new()
{
    ["what"] = $"AllGather of image + text features, {gatherBatch} pairs per rank", ["wire"] = "fp32",
    ["bytes"] = (long)all.Length * 4, ["median_s"] = gather.Median, ["best_s"] = gather.Best,
    // Ring all-gather moves (N−1)/N of the gathered result through each link.
    ["bus_gb_per_s"] = n > 1 ? (n - 1.0) / n * all.Length * 4 / gather.Median / 1e9 : double.NaN,
});

if (group.Rank == 0)
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["model"] = config.Name, ["world_size"] = n, ["threads_per_rank"] = get_num_threads(), ["repeats"] = repeats,
        ["parameters"] = count, ["tensors"] = parameters.Count, ["fp32_bytes"] = count * 4, ["bf16_bytes"] = count * 2,
        ["rows"] = rows,
    }, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
