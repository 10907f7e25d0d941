namespace Tuwen.Corpus.Download;

/// <summary>Image formats recognised by their first bytes: servers label images text/html and HTML image/jpeg.</summary>
public static class ContentSniffer
{
    private static ReadOnlySpan<byte> Png => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>"jpg", "png", "gif", "webp", "bmp", or null when the bytes start like no image format.</summary>
    public static string? ImageFormat(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return "jpg";
        if (data.Length >= 8 && data[..8].SequenceEqual(Png)) return "png";
        if (data.Length >= 6 && (data[..6].SequenceEqual("GIF87a"u8) || data[..6].SequenceEqual("GIF89a"u8))) return "gif";
        if (data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8)) return "webp";
        if (data.Length >= 2 && data[0] == 'B' && data[1] == 'M') return "bmp";
        return null;
    }
}
