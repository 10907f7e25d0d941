using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tuwen.Data;

/// <summary>
/// Conventions shared by <see cref="ShardWriter"/> and <see cref="ShardReader"/>: member names, shard file
/// names, key rules and the JSON style (indented only for stats, CJK written as is).
/// </summary>
public static class ShardFormat
{
    public const string StatsFileName = "stats.json";
    public const string CaptionsExtension = "txt";
    public const string MetadataExtension = "json";

    /// <summary>Image member extensions a reader accepts; the writer stores png and jpg only.</summary>
    public static IReadOnlyList<string> ImageExtensions { get; } = ["png", "jpg", "jpeg", "webp"];

    /// <summary>A sanity bound; keys above 94 ASCII bytes (or non-ASCII keys) cost a pax header per member.</summary>
    public const int MaxKeyLength = 200;

    // Relaxed escaping so that captions stay readable Chinese in the files instead of \uXXXX runs.
    internal static JsonSerializerOptions CompactJson { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    internal static JsonSerializerOptions IndentedJson { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };

    public static string ShardFileName(string name, int index) => $"{name}-{index:D6}.tar";

    /// <summary>Throws <see cref="TuwenException"/> unless the key can name webdataset members unambiguously.</summary>
    public static void ValidateKey(string key)
    {
        if (string.IsNullOrEmpty(key)) throw new TuwenException("sample key is empty");
        if (key.Length > MaxKeyLength) throw new TuwenException($"sample key longer than {MaxKeyLength} characters: {key}");
        foreach (var c in key)
        {
            // '.' would move the key/extension split, '/' and '\' would create directories on extraction.
            if (c is '.' or '/' or '\\' || char.IsControl(c) || char.IsWhiteSpace(c))
                throw new TuwenException($"sample key \"{key}\" must not contain '.', '/', '\\', spaces or control characters");
        }
    }

    /// <summary>Normalised image extension to store (jpeg becomes jpg), or a <see cref="TuwenException"/>.</summary>
    public static string StoredImageExtension(string extension)
    {
        var ext = extension.TrimStart('.').ToLowerInvariant();
        return ext switch
        {
            "png" => "png",
            "jpg" or "jpeg" => "jpg",
            _ => throw new TuwenException($"image extension \"{extension}\" is not stored in shards (use png or jpg)"),
        };
    }

    /// <summary>Splits a member name webdataset style: the key is everything up to the first '.' of the file name.</summary>
    public static (string Key, string Extension) SplitMemberName(string memberName)
    {
        var slash = memberName.LastIndexOf('/');
        var dot = memberName.IndexOf('.', slash + 1);
        return dot < 0 ? (memberName, "") : (memberName[..dot], memberName[(dot + 1)..].ToLowerInvariant());
    }
}
