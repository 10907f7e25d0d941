using Tuwen.Data;

namespace Tuwen.Server;

/// <summary>Recognises uploads by their first bytes, never by a client-given name or content type.</summary>
public static class ImageSniffer
{
    /// <summary>"image/jpeg", "image/png", "image/gif", "image/webp", or null for anything else (BMP included: not accepted as an upload).</summary>
    public static string? ContentType(ReadOnlySpan<byte> bytes) =>
        ImageFormats.Sniff(bytes) is { } format and not "bmp" ? ImageFormats.ContentType(format) : null;

    /// <summary>Checks an upload's size and kind; throws <see cref="ApiRejection"/> with the reason otherwise.</summary>
    public static void Require(byte[] bytes, int maxBytes, string field)
    {
        if (bytes.Length == 0) throw ApiRejection.BadRequest($"{field}: the image is empty");
        if (bytes.Length > maxBytes)
            throw new ApiRejection(StatusCodes.Status413PayloadTooLarge, $"{field}: the image has {bytes.Length} bytes, more than the limit of {maxBytes}");
        if (ContentType(bytes) == null) throw new ApiRejection(StatusCodes.Status415UnsupportedMediaType, $"{field}: not a JPEG, PNG, GIF or WebP image");
    }
}
