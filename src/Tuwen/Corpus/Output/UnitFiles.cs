using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet.Serialization;
using Tuwen.Corpus.Pipeline;
using Tuwen.Corpus.Text;
using Tuwen.Data;

namespace Tuwen.Corpus.Output;

/// <summary>A kept sample's line in a unit's hash file: what the de-duplication pass and the report need.</summary>
public sealed record HashRecord(string Key, string Sha256, ulong DHash, ulong CaptionHash, int Width, int Height, int OriginalWidth, int OriginalHeight, int CaptionLength, string? Correlation);

/// <summary>
/// The files of one finished work unit under OUT/units/: unit-NNNNNN.tar (its kept samples as a webdataset
/// shard), .parquet (every candidate with status and reason), .hashes.jsonl (for de-duplication) and
/// .done.json (counts). Each is written to a temporary name and renamed; .done.json comes last and is the
/// only sign of completion, so a unit cut short by a kill is simply done again.
/// </summary>
public sealed class UnitFiles(string outputDirectory, long unit)
{
    private static readonly JsonSerializerOptions HashJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string UnitsDirectory(string output) => Path.Combine(output, "units");

    public long Unit { get; } = unit;
    private string Stem => Path.Combine(UnitsDirectory(outputDirectory), "unit-" + Unit.ToString("D6", CultureInfo.InvariantCulture));
    public string TarPath => Stem + ".tar";
    public string ParquetPath => Stem + ".parquet";
    public string HashesPath => Stem + ".hashes.jsonl";
    public string DonePath => Stem + ".done.json";

    public bool IsDone => File.Exists(DonePath);

    /// <summary>
    /// An exclusive lock on the unit for this process, or null when another process holds it: two workers
    /// started with the same index (a retried pod whose predecessor still runs) must not interleave the
    /// renames of one unit's files. The operating system releases the lock when a process dies.
    /// </summary>
    public IDisposable? TryClaim()
    {
        Directory.CreateDirectory(UnitsDirectory(outputDirectory));
        try
        {
            return new FileStream(Stem + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Write(IReadOnlyList<CandidateOutcome> outcomes, JsonObject summary)
    {
        Directory.CreateDirectory(UnitsDirectory(outputDirectory));
        File.Delete(DonePath);
        WriteTar(outcomes);
        var rows = outcomes.Select(MetadataRow.From).ToList();
        WriteAtomically(ParquetPath, stream => ParquetSerializer.SerializeAsync(rows, stream).GetAwaiter().GetResult());
        WriteAtomically(HashesPath, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            foreach (var o in outcomes.Where(o => o.Kept))
            {
                var image = o.Image!;
                var record = new HashRecord(o.Key, image.Sha256, image.DHash, CaptionFrequency.Hash(o.Caption!.Text), image.Width, image.Height,
                    image.OriginalWidth, image.OriginalHeight, new System.Globalization.StringInfo(o.Caption.Text).LengthInTextElements, o.Caption.Correlation);
                writer.WriteLine(JsonSerializer.Serialize(record, HashJson));
            }
        });
        WriteAtomically(DonePath, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(summary.ToJsonString());
        });
    }

    private void WriteTar(IReadOnlyList<CandidateOutcome> outcomes)
    {
        File.Delete(TarPath);
        var kept = outcomes.Where(o => o.Kept).ToList();
        if (kept.Count == 0) return;
        var temporary = Stem + ".tmp";
        if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        using (var writer = new ShardWriter(temporary, "unit", samplesPerShard: int.MaxValue))
        {
            foreach (var o in kept)
            {
                var metadata = MetadataRow.From(o).ToSampleMetadata();
                writer.Write(Sample.Create(o.Key, o.Image!.Bytes, o.Image.Extension, [o.Caption!.Text], metadata));
            }
        }
        File.Move(Path.Combine(temporary, ShardFormat.ShardFileName("unit", 0)), TarPath, overwrite: true);
        Directory.Delete(temporary, recursive: true);
    }

    public JsonObject ReadSummary()
        => JsonNode.Parse(File.ReadAllText(DonePath)) as JsonObject ?? throw new TuwenException($"{DonePath} is damaged; delete it to redo unit {Unit}");

    public IEnumerable<HashRecord> ReadHashes()
    {
        if (!File.Exists(HashesPath)) throw new TuwenException($"{HashesPath} is missing although the unit is marked done; delete {DonePath} to redo it");
        foreach (var line in File.ReadLines(HashesPath))
        {
            if (line.Length == 0) continue;
            yield return JsonSerializer.Deserialize<HashRecord>(line, HashJson) ?? throw new TuwenException($"{HashesPath}: empty record");
        }
    }

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
