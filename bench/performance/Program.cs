// Tuwen side of the performance suite's measurements that are not training steps (those are
// bench/train-throughput's program). Each subcommand prints JSON lines for bench/performance/report.py.
//   matmul SECONDS_PER_SHAPE THREADS    best GFLOPS of square and transformer-shaped GEMMs, fp32 and bf16
//   flops MODEL_JSON BATCH              analytic FLOPs per pair (ModelFlops), forward and training
//   decode IMAGE_DIR COUNT              JPEG decode + resize to 224 + train augmentation on one thread, images/s
using System.Diagnostics;
using System.Text.Json;
using Tuwen.Data;
using Tuwen.Models;
using static TorchSharp.torch;

static void Emit(Dictionary<string, object> row) => Console.WriteLine(JsonSerializer.Serialize(row));

switch (args[0])
{
    case "matmul":
        Matmul(double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[2]));
        break;
    case "flops":
        var config = ModelConfig.Load(args[1]);
        var batch = int.Parse(args[2]);
        var flops = ModelFlops.PerPair(config);
        var logits = ModelFlops.ContrastiveLogitsPerPair(config.EmbedDim, batch);
        Emit(new()
        {
            ["model"] = config.Name, ["batch"] = batch, ["image_forward"] = flops.ImageForward, ["text_forward"] = flops.TextForward,
            ["logits_forward"] = logits, ["training_per_pair"] = 3 * (flops.Forward + logits),
        });
        break;
    case "decode":
        Decode(args[1], int.Parse(args[2]));
        break;
    default:
        throw new ArgumentException($"unknown subcommand {args[0]}");
}

// The shapes a ViT-B/16 step multiplies (197 tokens × batch 8 against the 768→3072 MLP and its transpose),
// and two squares; the best of them is the engine's practical peak for that dtype.
static void Matmul(double seconds, int threads)
{
    set_num_threads(threads);
    (int M, int K, int N)[] shapes = [(1024, 1024, 1024), (2048, 2048, 2048), (1576, 768, 3072), (1576, 3072, 768)];
    foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
    {
        double best = 0; var bestShape = "";
        foreach (var (m, k, n) in shapes)
        {
            using var a = randn(m, k).to(dtype);
            using var b = randn(k, n).to(dtype);
            for (var i = 0; i < 2; i++) using (a.mm(b)) { }
            var clock = Stopwatch.StartNew();
            var iterations = 0;
            while (clock.Elapsed.TotalSeconds < seconds || iterations < 3)
            {
                using (a.mm(b)) { }
                iterations++;
            }
            var gflops = 2.0 * m * k * n * iterations / clock.Elapsed.TotalSeconds / 1e9;
            if (gflops > best) { best = gflops; bestShape = $"{m}x{k}x{n}"; }
        }
        Emit(new() { ["engine"] = "tuwen (TorchSharp 0.107.0)", ["dtype"] = dtype == ScalarType.Float32 ? "fp32" : "bf16", ["gflops"] = best, ["shape"] = bestShape });
    }
}

static void Decode(string directory, int count)
{
    var files = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
        .Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase))
        .Order(StringComparer.Ordinal).ToArray();
    if (files.Length == 0) throw new ArgumentException($"no JPEGs under {directory}");
    var images = files.Select(File.ReadAllBytes).ToArray();
    // The quickstart recipe's augmentation: random resized crop (scale 0.6–1) to 224.
    var transform = ImageTransform.ForTraining(224, 0.6, 1.0);
    var rng = new Random(0);
    var pixels = new float[transform.Length];
    for (var i = 0; i < Math.Min(20, images.Length); i++) transform.Apply(images[i], pixels, rng);   // JIT, codec tables
    var cpu = Process.GetCurrentProcess();
    var cpuBefore = cpu.TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < count; i++) transform.Apply(images[i % images.Length], pixels, rng);
    var wall = clock.Elapsed.TotalSeconds;
    cpu.Refresh();
    var cpuSeconds = (cpu.TotalProcessorTime - cpuBefore).TotalSeconds;
    Emit(new()
    {
        ["images"] = count, ["distinct"] = images.Length, ["mean_kib"] = images.Average(b => b.Length) / 1024.0,
        ["per_s_wall"] = count / wall, ["per_cpu_s"] = count / cpuSeconds,
    });
}
