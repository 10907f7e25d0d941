using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuwen.Data;

/// <summary>One shard as listed in stats.json.</summary>
public sealed record ShardStats(string File, long Samples, long Bytes);

/// <summary>
/// The content of a dataset directory's stats.json: shard list with sample counts, totals (bytes = shard
/// files on disk) and an "extra" object the writer of the dataset fills (counts by style, drops by reason …).
/// </summary>
public sealed record DatasetStats(string Name, IReadOnlyList<ShardStats> Shards, long Samples, long Captions, long Bytes, JsonObject Extra)
{
    public JsonObject ToJson()
    {
        var shards = new JsonArray();
        foreach (var shard in Shards)
            shards.Add(new JsonObject { ["file"] = shard.File, ["samples"] = shard.Samples, ["bytes"] = shard.Bytes });
        return new JsonObject
        {
            ["name"] = Name,
            ["shards"] = shards,
            ["samples"] = Samples,
            ["captions"] = Captions,
            ["bytes"] = Bytes,
            ["extra"] = Extra.DeepClone(),
        };
    }

    /// <summary>Writes stats.json through a temporary file and a rename, so a reader never sees half of it.</summary>
    public void WriteAtomically(string datasetDirectory)
    {
        AtomicFile.WriteText(Path.Combine(datasetDirectory, ShardFormat.StatsFileName), w => w.Write(ToJson().ToJsonString(ShardFormat.IndentedJson) + "\n"));
    }

    /// <summary>Reads DIR/stats.json (or the stats.json beside a shard file); null when there is none.</summary>
    public static DatasetStats? TryRead(string datasetDirOrShard)
    {
        var directory = File.Exists(datasetDirOrShard) ? Path.GetDirectoryName(Path.GetFullPath(datasetDirOrShard))! : datasetDirOrShard;
        var path = Path.Combine(directory, ShardFormat.StatsFileName);
        if (!File.Exists(path)) return null;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path))?.AsObject()
                ?? throw new TuwenException($"{path} is empty");
            var shards = new List<ShardStats>();
            foreach (var node in root["shards"]?.AsArray() ?? [])
            {
                var shard = node!.AsObject();
                shards.Add(new ShardStats(
                    (string?)shard["file"] ?? throw new TuwenException($"{path}: a shard without \"file\""),
                    (long?)shard["samples"] ?? 0,
                    (long?)shard["bytes"] ?? 0));
            }
            return new DatasetStats(
                (string?)root["name"] ?? "",
                shards,
                (long?)root["samples"] ?? shards.Sum(s => s.Samples),
                (long?)root["captions"] ?? 0,
                (long?)root["bytes"] ?? shards.Sum(s => s.Bytes),
                root["extra"]?.DeepClone().AsObject() ?? new JsonObject());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new TuwenException($"{path} is not a valid stats file: {e.Message}", e);
        }
    }

    /// <summary>Like <see cref="TryRead"/> but a missing stats.json is a <see cref="TuwenException"/>.</summary>
    public static DatasetStats Read(string datasetDirOrShard)
        => TryRead(datasetDirOrShard) ?? throw new TuwenException($"no {ShardFormat.StatsFileName} in {datasetDirOrShard}");
}
