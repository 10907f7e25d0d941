using System.CommandLine;
using Tuwen.Corpus.Output;
using Tuwen.Corpus.Pipeline;

namespace Tuwen.Cli.Commands;

/// <summary>
/// `tuwen corpus build` (web pages / URL lists → filtered, de-duplicated shards) and `tuwen corpus dedup`
/// (the merge pass after several workers). Flags override single keys of an optional --config JSON file.
/// </summary>
public static class CorpusBuildCommand
{
    private sealed class Flags
    {
        private readonly List<(Option Option, Func<CorpusBuildOptions, ParseResult, CorpusBuildOptions> Apply)> _all = [];

        public IEnumerable<Option> Options => _all.Select(a => a.Option);

        public void Add<T>(string name, string description, Func<CorpusBuildOptions, T, CorpusBuildOptions> apply)
        {
            var option = new Option<T>(name) { Description = description };
            _all.Add((option, (o, p) =>
            {
                var result = p.GetResult(option);
                if (result is null || result.Implicit) return o;
                return apply(o, p.GetValue(option)!);
            }));
        }

        public CorpusBuildOptions Apply(CorpusBuildOptions options, ParseResult parse)
            => _all.Aggregate(options, (o, a) => a.Apply(o, parse));
    }

    public static Command CreateBuild()
    {
        var inputs = new Argument<string[]>("inputs") { Description = "URL lists (.tsv .csv .jsonl .txt [.gz], .parquet), directories of saved .html pages, .warc[.gz] files", Arity = ArgumentArity.ZeroOrMore };
        var config = new Option<string?>("--config") { Description = "JSON file of settings (snake_case keys as in stats.json \"settings\"); flags override it" };
        var workerOnly = new Option<bool>("--no-merge") { Description = "only process this worker's units; run `tuwen corpus dedup` after all workers" };
        var flags = new Flags();
        flags.Add<string>("--out", "output directory (shards, stats.json, report.html, units/)", (o, v) => o with { Output = v });
        flags.Add<string>("--name", "dataset name (shard files NAME-000000.tar)", (o, v) => o with { Name = v });
        flags.Add<string>("--url-column", "URL column of URL lists (default url)", (o, v) => o with { UrlColumn = v });
        flags.Add<string>("--caption-column", "caption column of URL lists (default caption)", (o, v) => o with { CaptionColumn = v });
        flags.Add<int>("--unit-size", "candidates per work unit, the grain of restarts and worker split (default 1000)", (o, v) => o with { UnitSize = v });
        flags.Add<int>("--shard-size", "samples per output shard (default 1000)", (o, v) => o with { SamplesPerShard = v });
        flags.Add<string>("--correlation", "captions from strong texts (caption/alt/title/figcaption), weak (nearby text, page title) or both", (o, v) => o with { Correlation = ParseEnum<Correlation>("--correlation", v) });
        flags.Add<int>("--min-length", "shortest caption in characters (default 2)", (o, v) => o with { MinLength = v });
        flags.Add<int>("--max-length", "longest caption in characters (default 64)", (o, v) => o with { MaxLength = v });
        flags.Add<int>("--max-caption-repeats", "drop captions found on more images than this (default 10; 0 = off)", (o, v) => o with { MaxCaptionRepeats = v });
        flags.Add<bool>("--allow-non-chinese", "keep captions without Chinese characters", (o, v) => o with { RequireChinese = !v });
        flags.Add<string>("--sensitive-words", "file of words (one a line) whose captions are dropped", (o, v) => o with { SensitiveWordsFile = v });
        flags.Add<string>("--privacy", "phone numbers, e-mail, ID numbers: mask (default), drop or keep", (o, v) => o with { Privacy = ParseEnum<PrivacyAction>("--privacy", v) });
        flags.Add<bool>("--traditional-to-simplified", "convert Traditional characters to Simplified (built-in table of common characters)", (o, v) => o with { TraditionalToSimplified = v });
        flags.Add<int>("--concurrency", "downloads in flight per unit (default 64)", (o, v) => o with { Concurrency = v });
        flags.Add<int>("--per-host", "downloads in flight per host (default 4)", (o, v) => o with { PerHostConcurrency = v });
        flags.Add<int>("--per-host-delay-ms", "minimum gap between requests to one host (default 0)", (o, v) => o with { PerHostDelayMs = v });
        flags.Add<double>("--timeout", "seconds per attempt, headers and body (default 10)", (o, v) => o with { TimeoutSeconds = v });
        flags.Add<int>("--retries", "retries after timeouts, resets, 5xx and 429 (default 2)", (o, v) => o with { Retries = v });
        flags.Add<int>("--retry-delay-ms", "first back-off delay, doubled each retry (default 1000)", (o, v) => o with { RetryBaseDelayMs = v });
        flags.Add<long>("--max-bytes", "largest image body in bytes (default 20 MiB)", (o, v) => o with { MaxBodyBytes = v });
        flags.Add<int>("--max-redirects", "redirects followed (default 5)", (o, v) => o with { MaxRedirects = v });
        flags.Add<bool>("--ignore-robots", "do not read robots.txt (only for sites you own)", (o, v) => o with { RespectRobots = !v });
        flags.Add<string>("--user-agent", "User-Agent header", (o, v) => o with { UserAgent = v });
        flags.Add<bool>("--allow-private-network", "allow loopback/private addresses (tests and your own servers only)", (o, v) => o with { AllowPrivateNetwork = v });
        flags.Add<int>("--min-side", "drop images with a side shorter than this (default 200)", (o, v) => o with { MinSide = v });
        flags.Add<double>("--max-aspect-ratio", "drop images longer than this times their width or height (default 3)", (o, v) => o with { MaxAspectRatio = v });
        flags.Add<long>("--max-pixels", "decompression-bomb guard: refuse headers claiming more pixels (default 50M)", (o, v) => o with { MaxPixels = v });
        flags.Add<string>("--resize", "no, keep_ratio, center_crop or border (default)", (o, v) => o with { ResizeMode = ParseEnum<ResizeMode>("--resize", v) });
        flags.Add<int>("--image-size", "resize target in pixels (default 256)", (o, v) => o with { ImageSize = v });
        flags.Add<string>("--format", "jpg (default) or png", (o, v) => o with { EncodeFormat = v });
        flags.Add<int>("--quality", "JPEG quality (default 95)", (o, v) => o with { EncodeQuality = v });
        flags.Add<bool>("--no-dedup-exact", "keep byte-identical images", (o, v) => o with { DedupExact = !v });
        flags.Add<bool>("--no-dedup-perceptual", "keep near-identical images", (o, v) => o with { DedupPerceptual = !v });
        flags.Add<bool>("--no-dedup-pairs", "keep repeated (image, caption) pairs", (o, v) => o with { DedupPairs = !v });
        flags.Add<int>("--perceptual-threshold", "difference-hash bits two images may differ by and still be duplicates (default 3)", (o, v) => o with { PerceptualThreshold = v });
        flags.Add<string>("--relevance-model", "checkpoint whose image–caption cosine filters pairs", (o, v) => o with { RelevanceModel = v });
        flags.Add<double>("--relevance-threshold", "lowest cosine kept (default 0.2)", (o, v) => o with { RelevanceThreshold = v });
        var shardIndex = new Option<int?>("--shard-index") { Description = "this worker's index (default $JOB_COMPLETION_INDEX, $SLURM_ARRAY_TASK_ID, or 0)" };
        var shardCount = new Option<int?>("--shard-count") { Description = "number of workers (default $TUWEN_SHARD_COUNT, $SLURM_ARRAY_TASK_COUNT, or 1)" };

        var command = new Command("build", "Build a Wukong/WuDaoMM-style image–text corpus from URL lists, saved pages and WARC files") { inputs, config, workerOnly, shardIndex, shardCount };
        foreach (var option in flags.Options) command.Add(option);
        command.SetAction((p, cancel) =>
        {
            var options = p.GetValue(config) is { } configPath ? CorpusBuildOptions.Load(configPath) : new CorpusBuildOptions();
            options = flags.Apply(options, p);
            if (p.GetValue(inputs) is { Length: > 0 } given) options = options with { Inputs = given };
            var slot = WorkerSlot.Resolve(p.GetValue(shardIndex), p.GetValue(shardCount));
            options = options with { ShardIndex = slot.Index, ShardCount = slot.Count };
            options.Validate();
            var worker = ProgressView.Run($"corpus worker {slot.Index}/{slot.Count}",
                report => new CorpusBuilder(options).RunWorkerAsync(report, cancel).GetAwaiter().GetResult());
            Console.WriteLine($"worker {slot.Index}/{slot.Count}: {worker.UnitsRun} units processed, {worker.UnitsAlreadyDone} already done (of {worker.UnitsOwned} owned, {worker.Plan.Units} in all); "
                + $"{worker.Candidates} candidates, {worker.Kept} kept in {worker.Elapsed.TotalSeconds:0.0} s");
            if (slot.Count > 1 || p.GetValue(workerOnly))
            {
                Console.WriteLine($"after all workers have finished: tuwen corpus dedup {options.Output}");
                return 0;
            }
            PrintMerge(Merge(options.Output, cancel));
            return 0;
        });
        return command;
    }

    public static Command CreateDedup()
    {
        var output = new Argument<string>("dir") { Description = "the --out directory of the workers" };
        var command = new Command("dedup", "After all workers: de-duplicate across the whole corpus and write the final shards, stats.json and report.html") { output };
        command.SetAction((p, cancel) =>
        {
            PrintMerge(Merge(CliApp.RequireDirectory(p.GetValue(output), "corpus build directory"), cancel));
            return 0;
        });
        return command;
    }

    /// <summary>snake_case names as in the JSON config ("keep_ratio"), case-insensitive.</summary>
    private static T ParseEnum<T>(string flag, string value) where T : struct, Enum
    {
        var wanted = value.Replace("_", "").Replace("-", "");
        foreach (var name in Enum.GetNames<T>())
            if (name.Equals(wanted, StringComparison.OrdinalIgnoreCase)) return Enum.Parse<T>(name);
        var names = Enum.GetNames<T>().Select(n => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(n));
        throw new TuwenException($"{flag} {value}: expected one of {string.Join(", ", names)}");
    }

    private static MergeResult Merge(string output, CancellationToken cancel)
        => ProgressView.Run("corpus merge", report => CorpusMerger.Run(output, report, cancel));

    private static void PrintMerge(MergeResult result)
    {
        Console.WriteLine($"{result.Candidates} candidates → {result.Samples} samples in {result.Shards.Count} shards ({result.Drops.Total} dropped)");
        foreach (var (reason, count) in result.Drops.Snapshot().OrderByDescending(kv => kv.Value).Take(12))
            Console.WriteLine($"  {reason,-32} {count,9}");
        Console.WriteLine($"wrote {result.Directory} (stats.json, report: {result.ReportPath})");
    }
}
