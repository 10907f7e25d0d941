using System.Text.Json.Nodes;

namespace Tuwen.Data;

/// <summary>
/// One image–text sample, the unit every stage passes on: a key unique within its dataset, the encoded
/// image bytes as found (PNG/JPEG, never re-encoded without need), one or more captions, and free-form
/// metadata (source, style, labels, correlation strength …). In a shard it is stored as the webdataset
/// members KEY.{png|jpg}, KEY.txt (captions, one per line) and KEY.json (metadata plus "captions").
/// </summary>
public sealed record Sample(string Key, byte[] Image, string ImageExtension, IReadOnlyList<string> Captions, JsonObject Metadata)
{
    public static Sample Create(string key, byte[] image, string imageExtension, IReadOnlyList<string> captions, JsonObject? metadata = null)
        => new(key, image, imageExtension.TrimStart('.').ToLowerInvariant(), captions, metadata ?? new JsonObject());
}
