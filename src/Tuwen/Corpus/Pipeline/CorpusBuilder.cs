using System.Diagnostics;
using Tuwen.Corpus.Download;
using Tuwen.Corpus.Images;
using Tuwen.Corpus.Output;
using Tuwen.Corpus.Sources;
using Tuwen.Corpus.Text;

namespace Tuwen.Corpus.Pipeline;

/// <summary>What one worker did.</summary>
public sealed record WorkerResult(CorpusPlan Plan, WorkerSlot Slot, long UnitsOwned, long UnitsRun, long UnitsAlreadyDone, long Candidates, long Kept, DropCounts Drops, TimeSpan Elapsed);

/// <summary>
/// One worker of `tuwen corpus build`: counts caption frequencies over the whole input (every worker does, so
/// all take the same decisions without talking to each other), then processes the work units it owns that
/// are not finished yet, two at a time. Killing it loses at most the units in flight, which the next run redoes.
/// </summary>
public sealed class CorpusBuilder(CorpusBuildOptions options)
{
    private const int UnitsInFlight = 2;

    /// <summary>Progress: (candidates done, candidates to do, status).</summary>
    public async Task<WorkerResult> RunWorkerAsync(Action<long, long, string>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        var slot = new WorkerSlot(options.ShardIndex, options.ShardCount);
        var sources = new SourceSet(options.Inputs, options.UrlColumn, options.CaptionColumn);
        var counting = new TextPipeline(options, frequency: null);
        var frequency = new CaptionFrequency();
        progress?.Invoke(0, 0, $"reading {sources.Files.Count} input files to number candidates and count captions");
        long total = 0;
        foreach (var candidate in sources.Enumerate(cancel))
        {
            if (options.MaxCaptionRepeats > 0) frequency.AddImage(counting.CountedTexts(candidate.Texts));
            total++;
        }
        var plan = new CorpusPlan(sources.Fingerprint(), options.ContentFingerprint(), total, options.UnitSize, options);
        plan.Ensure(options.Output);

        var owned = Enumerable.Range(0, (int)plan.Units).Where(u => slot.Owns(u)).ToList();
        var todo = owned.Where(u => !new UnitFiles(options.Output, u).IsDone).ToHashSet();
        var toProcess = todo.Sum(u => plan.CandidatesIn(u));
        long done = 0, kept = 0;
        var drops = new DropCounts();
        progress?.Invoke(0, toProcess, $"{todo.Count} of {owned.Count} units to do");

        using var downloader = new ImageDownloader(options);
        using var relevance = options.RelevanceModel is null ? null : RelevanceFilter.Load(options.RelevanceModel, options.RelevanceThreshold);
        var processor = new UnitProcessor(options, new TextPipeline(options, frequency), downloader, new ImageProcessor(options), relevance);
        var progressLock = new Lock();
        processor.CandidateDone += outcome =>
        {
            // Progress views are not thread-safe, and candidates finish on many threads.
            lock (progressLock)
            {
                var n = ++done;
                if (outcome.Kept) kept++;
                else drops.Add(outcome.DropReason ?? "unknown");
                var rate = n / Math.Max(0.001, clock.Elapsed.TotalSeconds);
                progress?.Invoke(n, toProcess, $"kept {kept}, dropped {n - kept}, {rate:0} candidates/s");
            }
        };
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = UnitsInFlight, CancellationToken = cancel };
        await Parallel.ForEachAsync(UnitsToDo(sources, plan, todo, cancel), parallel,
            async (unit, ct) => await processor.ProcessAsync(unit.Index, unit.Candidates, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return new WorkerResult(plan, slot, owned.Count, todo.Count, owned.Count - todo.Count, done, kept, drops, clock.Elapsed);
    }

    /// <summary>The unfinished owned units with their candidates, read lazily in input order.</summary>
    private static IEnumerable<(long Index, List<Candidate> Candidates)> UnitsToDo(SourceSet sources, CorpusPlan plan, HashSet<int> todo, CancellationToken cancel)
    {
        if (todo.Count == 0) yield break;
        var last = todo.Max();
        List<Candidate>? current = null;
        long currentUnit = -1;
        foreach (var candidate in sources.Enumerate(cancel))
        {
            var unit = candidate.Index / plan.UnitSize;
            if (unit > last) break;
            if (unit != currentUnit)
            {
                if (current is not null) yield return (currentUnit, current);
                currentUnit = unit;
                current = todo.Contains((int)unit) ? new List<Candidate>(plan.UnitSize) : null;
            }
            current?.Add(candidate);
        }
        if (current is not null) yield return (currentUnit, current);
    }
}
