namespace Tuwen.Data;

/// <summary>
/// Image formats recognised by their first bytes, never by a file name or a declared content type: servers
/// label images text/html, uploads carry any name, datasets hold whatever was scraped. One place for the
/// corpus downloader, the dataset readers and the search server.
/// </summary>
public static class ImageFormats
{
    /// <summary>"jpg", "png", "gif", "webp", "bmp", or null when the bytes start like no image format.</summary>
    public static string? Sniff(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return "jpg";
        // Prefixes, not whole signatures: enough to tell the formats apart; a damaged file is the decoder's to refuse.
        if (data.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G'])) return "png";
        if (data.StartsWith("GIF8"u8)) return "gif";
        if (data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8)) return "webp";
        if (data.Length >= 2 && data[0] == 'B' && data[1] == 'M') return "bmp";
        return null;
    }

    /// <summary>The MIME type of a format <see cref="Sniff"/> returns.</summary>
    public static string ContentType(string format) => format switch
    {
        "jpg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        _ => "application/octet-stream",
    };
}
