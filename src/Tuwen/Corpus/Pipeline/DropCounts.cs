using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Tuwen.Corpus.Pipeline;

/// <summary>Counts by reason ("text.too_short", "download.http_404" …); safe to add to from many threads.</summary>
public sealed class DropCounts
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Add(string reason, long count = 1) => _counts.AddOrUpdate(reason, count, (_, c) => c + count);

    public long Total => _counts.Values.Sum();

    public long this[string reason] => _counts.GetValueOrDefault(reason);

    public IReadOnlyDictionary<string, long> Snapshot() => _counts.ToDictionary(kv => kv.Key, kv => kv.Value);

    public void AddAll(DropCounts other)
    {
        foreach (var (reason, count) in other._counts) Add(reason, count);
    }

    public JsonObject ToJson()
    {
        var json = new JsonObject();
        foreach (var (reason, count) in _counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json[reason] = count;
        return json;
    }

    public static DropCounts FromJson(JsonNode? node)
    {
        var counts = new DropCounts();
        if (node is JsonObject obj)
        {
            foreach (var (reason, value) in obj)
                if (value is not null) counts.Add(reason, value.GetValue<long>());
        }
        return counts;
    }
}
