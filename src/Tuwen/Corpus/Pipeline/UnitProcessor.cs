using System.Diagnostics;
using System.Text.Json.Nodes;
using Tuwen.Corpus.Download;
using Tuwen.Corpus.Images;
using Tuwen.Corpus.Output;
using Tuwen.Corpus.Sources;
using Tuwen.Corpus.Text;

namespace Tuwen.Corpus.Pipeline;

/// <summary>
/// Takes one work unit through the stages — texts, download, image checks and resizing, optional relevance —
/// with up to N candidates in flight, and writes its files. Outcomes keep the input order, so a unit's
/// output does not depend on which download finished first.
/// </summary>
public sealed class UnitProcessor(CorpusBuildOptions options, TextPipeline texts, ImageDownloader downloader, ImageProcessor images, RelevanceFilter? relevance)
{
    /// <summary>Raised after each candidate; the argument is its outcome.</summary>
    public event Action<CandidateOutcome>? CandidateDone;

    /// <summary>The unit's summary, or null when another process holds the unit (a duplicate worker) or finished it meanwhile.</summary>
    public async Task<JsonObject?> ProcessAsync(long unit, IReadOnlyList<Candidate> candidates, CancellationToken cancel)
    {
        var files = new UnitFiles(options.Output, unit);
        using var claim = files.TryClaim();
        if (claim is null || files.IsDone) return null;
        var clock = Stopwatch.StartNew();
        var outcomes = new CandidateOutcome[candidates.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancel };
        await Parallel.ForEachAsync(Enumerable.Range(0, candidates.Count), parallel, async (i, ct) =>
        {
            outcomes[i] = await ProcessOneAsync(candidates[i], ct).ConfigureAwait(false);
            if (relevance is null) CandidateDone?.Invoke(outcomes[i]);
        }).ConfigureAwait(false);
        if (relevance is not null)
        {
            ApplyRelevance(outcomes);
            foreach (var outcome in outcomes) CandidateDone?.Invoke(outcome);
        }
        cancel.ThrowIfCancellationRequested();
        var summary = Summarize(unit, outcomes, clock.Elapsed);
        files.Write(outcomes, summary);
        return summary;
    }

    private async Task<CandidateOutcome> ProcessOneAsync(Candidate candidate, CancellationToken cancel)
    {
        var outcome = new CandidateOutcome(candidate);
        if (candidate.Item.Error is { } sourceError) return outcome with { DropReason = sourceError };
        var (caption, textReason) = texts.Choose(candidate.Texts);
        if (caption is null) return outcome with { DropReason = textReason };
        outcome = outcome with { Caption = caption };
        var download = await downloader.DownloadAsync(candidate.Url, cancel).ConfigureAwait(false);
        outcome = outcome with { Attempts = download.Attempts, FinalUrl = download.FinalUrl };
        if (download.Body is null) return outcome with { DropReason = download.DropReason ?? "download.failed" };
        outcome = outcome with { DownloadedBytes = download.Body.Length };
        ProcessedImage? image;
        string? imageReason;
        try
        {
            (image, imageReason) = images.Process(download.Body);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            // One image the codec library chokes on must not end a day-long crawl; it is counted like any drop.
            (image, imageReason) = (null, "image.codec_error");
        }
        return image is null ? outcome with { DropReason = imageReason } : outcome with { Image = image };
    }

    private void ApplyRelevance(CandidateOutcome[] outcomes)
    {
        var kept = Enumerable.Range(0, outcomes.Length).Where(i => outcomes[i].Kept).ToList();
        var scores = relevance!.Score(kept.Select(i => (outcomes[i].Image!, outcomes[i].Caption!.Text)).ToList());
        for (var k = 0; k < kept.Count; k++)
        {
            var i = kept[k];
            var score = Math.Round(scores[k], 4);
            outcomes[i] = score < relevance.Threshold
                ? outcomes[i] with { Relevance = score, DropReason = "relevance.below_threshold" }
                : outcomes[i] with { Relevance = score };
        }
    }

    private static JsonObject Summarize(long unit, CandidateOutcome[] outcomes, TimeSpan elapsed)
    {
        var drops = new DropCounts();
        foreach (var o in outcomes.Where(o => !o.Kept)) drops.Add(o.DropReason ?? "unknown");
        var kept = outcomes.Where(o => o.Kept).ToList();
        return new JsonObject
        {
            ["unit"] = unit,
            ["candidates"] = outcomes.Length,
            ["kept"] = kept.Count,
            ["strong"] = kept.Count(o => o.Caption!.Strong),
            ["weak"] = kept.Count(o => !o.Caption!.Strong),
            ["downloads"] = outcomes.Count(o => o.Attempts > 0),
            ["attempts"] = outcomes.Sum(o => o.Attempts),
            ["downloaded_bytes"] = outcomes.Sum(o => o.DownloadedBytes),
            ["seconds"] = Math.Round(elapsed.TotalSeconds, 3),
            ["dropped"] = drops.ToJson(),
        };
    }
}
