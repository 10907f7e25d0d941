using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Tuwen.Corpus.Images;
using Tuwen.Corpus.Output;
using Tuwen.Corpus.Pipeline;
using Tuwen.Tests.Corpus.Web;

// Corpus pipeline throughput on a loopback web server: decode + resize images/s on one core and on all cores,
// and samples/s end to end (read URL list, download, check, resize, write units, de-duplicate, write shards).
// Baseline: img2dataset's published 1,350 images/s on 16 cores (≈ 84 per core). Goal: ≥ 250 images/s/core.
// Usage: CorpusBench RESULTS_DIR [IMAGES=2000] [WIDTH=640] [HEIGHT=480]
var resultsDir = args.Length > 0 ? args[0] : ".";
var count = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000;
var width = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 640;
var height = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 480;
const int Size = 224;
const double BaselinePerCore = 1350.0 / 16;
var cores = Environment.ProcessorCount;
// Other work on a shared machine takes cores from the bench; the load average says how much.
static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
var loadBefore = LoadAverage();

Console.Error.WriteLine($"generating {count} JPEGs of {width}×{height} …");
var images = new byte[count][];
Parallel.For(0, count, i => images[i] = TestImages.Jpeg(i, width, height));
var meanKb = images.Average(b => b.Length) / 1024.0;

var options = new CorpusBuildOptions { ImageSize = Size, ResizeMode = ResizeMode.CenterCrop };
var processor = new ImageProcessor(options);
for (var i = 0; i < 50; i++) processor.Process(images[i]);   // warm-up (JIT, codec tables)

var clock = Stopwatch.StartNew();
foreach (var image in images) processor.Process(image);
var oneCore = count / clock.Elapsed.TotalSeconds;

clock.Restart();
Parallel.ForEach(images, new ParallelOptions { MaxDegreeOfParallelism = cores }, image => processor.Process(image));
var allCores = count / clock.Elapsed.TotalSeconds;

await using var server = await LoopbackServer.StartAsync();
var work = Path.Combine(Path.GetTempPath(), "tuwen-corpus-bench-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(work);
try
{
    var tsv = Path.Combine(work, "urls.tsv");
    File.WriteAllLines(tsv, ["url\tcaption", .. Enumerable.Range(0, count).Select(i => server.Url($"/img/{i}.jpg?w={width}&h={height}") + $"\t第{i}张测试图片")]);
    var build = options with
    {
        Inputs = [tsv], Output = Path.Combine(work, "out"), AllowPrivateNetwork = true, PerHostConcurrency = 64, Concurrency = 64,
        UnitSize = 500, SamplesPerShard = 1000,
    };
    // The server holds every image already (generated above), so the run measures the pipeline, not generation.
    clock.Restart();
    var worker = await new CorpusBuilder(build).RunWorkerAsync();
    var workerSeconds = clock.Elapsed.TotalSeconds;
    var merge = CorpusMerger.Run(build.Output);
    var totalSeconds = clock.Elapsed.TotalSeconds;
    // Random test pictures may come within the perceptual threshold of one another; nothing else may be lost.
    var nearCopies = merge.Drops["dedup.perceptual"];
    if (merge.Samples + nearCopies != count) throw new InvalidOperationException($"expected {count} samples, got {merge.Samples}: {merge.Drops.ToJson().ToJsonString()}");
    var endToEnd = count / totalSeconds;
    var workerRate = count / workerSeconds;

    var commit = Git("rev-parse --short HEAD");
    var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "?";
    var date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    string R(double v) => v.ToString("0", CultureInfo.InvariantCulture);
    string X(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
    var md = $"""
        # corpus ({date}, commit {commit}, {cores} cores, {cpu})

        Loopback web server (Kestrel on 127.0.0.1, same machine) serving {count} distinct JPEGs of {width}×{height}
        (mean {meanKb:0} KiB); resize to {Size}×{Size} center crop, JPEG q95. Baseline: img2dataset's published
        1,350 images/s on 16 cores ≈ {BaselinePerCore:0} per core (downloading from the internet; ours from loopback).

        | measure | images/s | per core | ratio per core vs img2dataset ({BaselinePerCore:0}/core) |
        |---|---:|---:|---:|
        | decode + resize + encode, 1 thread | {R(oneCore)} | {R(oneCore)} | {X(oneCore / BaselinePerCore)} |
        | decode + resize + encode, {cores} threads | {R(allCores)} | {R(allCores / cores)} | {X(allCores / cores / BaselinePerCore)} |
        | end to end, workers only (download → checks → resize → unit files) | {R(workerRate)} | {R(workerRate / cores)} | {X(workerRate / cores / BaselinePerCore)} |
        | end to end incl. dedup + final shards + report | {R(endToEnd)} | {R(endToEnd / cores)} | {X(endToEnd / cores / BaselinePerCore)} |

        Goal ≥ 250 images/s/core at {Size} px. The loopback server runs in the same process and shares the cores,
        so the end-to-end rows include the server's work too. {merge.Samples} samples written ({nearCopies} generated
        pictures fell within the perceptual-duplicate threshold of another and were dropped as such). Load average (1/5/15 min) before: {loadBefore},
        after: {LoadAverage()} (a load above {cores} would mean other processes took cores from the bench).

        Command: `bench/corpus/run.sh {count} {width} {height}`
        """;
    Console.WriteLine(md);
    File.WriteAllText(Path.Combine(resultsDir, "corpus.md"), md + "\n");
    var json = new JsonObject
    {
        ["bench"] = "corpus", ["date"] = date, ["commit"] = commit, ["nproc"] = cores, ["cpu"] = cpu,
        ["images"] = count, ["width"] = width, ["height"] = height, ["size"] = Size,
        ["baseline"] = "img2dataset 1350 images/s on 16 cores", ["baseline_per_core"] = Math.Round(BaselinePerCore, 1),
        ["decode_resize_1_thread"] = Math.Round(oneCore, 1), ["decode_resize_all_threads"] = Math.Round(allCores, 1),
        ["end_to_end_workers"] = Math.Round(workerRate, 1), ["end_to_end_total"] = Math.Round(endToEnd, 1),
        ["load_before"] = loadBefore, ["load_after"] = LoadAverage(),
    };
    File.WriteAllText(Path.Combine(resultsDir, "corpus.json"), json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
}
finally
{
    Directory.Delete(work, recursive: true);
}

static string Git(string arguments)
{
    try
    {
        using var git = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = git.StandardOutput.ReadToEnd().Trim();
        git.WaitForExit();
        return output.Length > 0 ? output : "?";
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return "?";
    }
}
