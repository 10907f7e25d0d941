using System.Text.Json.Nodes;
using Parquet.Serialization;
using Tuwen.Corpus.Dedup;
using Tuwen.Corpus.Pipeline;
using Tuwen.Data;

namespace Tuwen.Corpus.Output;

/// <summary>What the merge pass wrote.</summary>
public sealed record MergeResult(string Directory, long Candidates, long Samples, DropCounts Drops, IReadOnlyList<string> Shards, string ReportPath);

/// <summary>
/// The second pass, after all workers: de-duplicates across the whole corpus from the units' hash files,
/// then copies the surviving samples, in key order, into the final shards NAME-NNNNNN.tar with a metadata
/// Parquet beside each, stats.json (drops by reason across all stages) and report.html. It reads only unit
/// files, so it can be re-run at any time and gives the same result.
/// </summary>
public static class CorpusMerger
{
    public static MergeResult Run(string output, Action<long, long, string>? progress = null, CancellationToken cancel = default)
    {
        var plan = CorpusPlan.Read(output);
        var options = plan.Options;
        var units = Enumerable.Range(0, (int)plan.Units).Select(u => new UnitFiles(output, u)).ToList();
        var missing = units.Where(u => !u.IsDone).Select(u => u.Unit).ToList();
        if (missing.Count > 0)
        {
            var shown = string.Join(", ", missing.Take(10)) + (missing.Count > 10 ? " …" : "");
            throw new TuwenException($"{missing.Count} of {units.Count} work units are not finished ({shown}); run the workers again (same command), then this pass");
        }

        var drops = new DropCounts();
        long candidates = 0, strong = 0, weak = 0;
        foreach (var unit in units)
        {
            var summary = unit.ReadSummary();
            drops.AddAll(DropCounts.FromJson(summary["dropped"]));
            candidates += (long?)summary["candidates"] ?? 0;
        }

        var dedup = new CorpusDeduplicator(options);
        var duplicates = new HashSet<string>(StringComparer.Ordinal);
        var duplicateRows = new List<DuplicateRow>();
        var histograms = new CorpusReport.Histograms();
        long keptCount = 0;
        foreach (var unit in units)
        {
            cancel.ThrowIfCancellationRequested();
            foreach (var record in unit.ReadHashes())
            {
                if (dedup.Check(record) is { } reason)
                {
                    drops.Add(reason);
                    duplicates.Add(record.Key);
                    duplicateRows.Add(new DuplicateRow { Key = record.Key, Reason = reason, Sha256 = record.Sha256, DHash = record.DHash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture) });
                    continue;
                }
                keptCount++;
                histograms.Add(record);
                if (record.Correlation == "weak") weak++; else strong++;
            }
        }

        foreach (var stale in Directory.EnumerateFiles(output, options.Name + "-*.parquet*")) File.Delete(stale);
        WriteParquetFile(Path.Combine(output, DuplicatesFileName), duplicateRows);
        var writer = new ShardWriter(output, options.Name, options.SamplesPerShard);
        var rows = new List<MetadataRow>();
        var shardIndex = 0;
        var grid = new List<Sample>();
        long written = 0;
        try
        {
            foreach (var unit in units.Where(u => File.Exists(u.TarPath)))
            {
                foreach (var sample in ShardReader.Read([unit.TarPath]))
                {
                    cancel.ThrowIfCancellationRequested();
                    if (duplicates.Contains(sample.Key)) continue;
                    writer.Write(sample);
                    written++;
                    rows.Add(MetadataRow.FromSampleMetadata(sample.Key, sample.Captions[0], sample.Metadata));
                    if (grid.Count < CorpusReport.GridSize) grid.Add(sample);
                    if (rows.Count == options.SamplesPerShard) WriteParquet(output, options.Name, shardIndex++, rows);
                    progress?.Invoke(written, keptCount, "writing shards");
                }
            }
            if (rows.Count > 0) WriteParquet(output, options.Name, shardIndex, rows);
            writer.Extra["candidates"] = candidates;
            writer.Extra["kept"] = written;
            writer.Extra["dropped_total"] = drops.Total;
            writer.Extra["dropped"] = drops.ToJson();
            writer.Extra["correlation"] = new JsonObject { ["strong"] = strong, ["weak"] = weak };
            writer.Extra["units"] = plan.Units;
            writer.Extra["unit_size"] = plan.UnitSize;
            writer.Extra["settings"] = System.Text.Json.JsonSerializer.SerializeToNode(options with { Output = "", Inputs = [] }, CorpusBuildOptions.Json);
        }
        finally
        {
            writer.Dispose();
        }
        if (written != keptCount) throw new InvalidOperationException($"merge wrote {written} samples but the hash files list {keptCount}");
        var reportPath = Path.Combine(output, "report.html");
        CorpusReport.Write(reportPath, options.Name, candidates, drops, histograms, grid);
        return new MergeResult(output, candidates, written, drops, writer.ShardPaths, reportPath);
    }

    /// <summary>The samples the de-duplication pass dropped, with the reason: their rows in units/ predate that pass.</summary>
    public const string DuplicatesFileName = "duplicates.parquet";

    private static void WriteParquet(string output, string name, int shardIndex, List<MetadataRow> rows)
    {
        WriteParquetFile(Path.Combine(output, Path.ChangeExtension(ShardFormat.ShardFileName(name, shardIndex), ".parquet")), rows);
        rows.Clear();
    }

    private static void WriteParquetFile<T>(string path, List<T> rows)
    {
        var temporary = path + ".tmp";
        using (var stream = File.Create(temporary)) ParquetSerializer.SerializeAsync(rows, stream).GetAwaiter().GetResult();
        File.Move(temporary, path, overwrite: true);
    }
}
