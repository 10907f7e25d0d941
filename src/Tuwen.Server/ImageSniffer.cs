namespace Tuwen.Server;

/// <summary>Recognises uploads by their first bytes, never by a client-given name or content type.</summary>
public static class ImageSniffer
{
    /// <summary>"image/jpeg", "image/png", "image/gif", "image/webp", or null for anything else.</summary>
    public static string? ContentType(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) return "image/jpeg";
        if (bytes.Length >= 8 && bytes[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) return "image/png";
        if (bytes.Length >= 6 && (bytes[..6].SequenceEqual("GIF87a"u8) || bytes[..6].SequenceEqual("GIF89a"u8))) return "image/gif";
        if (bytes.Length >= 12 && bytes[..4].SequenceEqual("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8)) return "image/webp";
        return null;
    }

    /// <summary>Checks an upload's size and kind; throws <see cref="ApiRejection"/> with the reason otherwise.</summary>
    public static void Require(byte[] bytes, int maxBytes, string field)
    {
        if (bytes.Length == 0) throw ApiRejection.BadRequest($"{field}: the image is empty");
        if (bytes.Length > maxBytes)
            throw new ApiRejection(StatusCodes.Status413PayloadTooLarge, $"{field}: the image has {bytes.Length} bytes, more than the limit of {maxBytes}");
        if (ContentType(bytes) == null) throw new ApiRejection(StatusCodes.Status415UnsupportedMediaType, $"{field}: not a JPEG, PNG, GIF or WebP image");
    }
}
