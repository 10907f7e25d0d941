using SkiaSharp;

namespace Tuwen.Search;

/// <summary>Small JPEG previews for result grids: longest side at most 256 pixels, never enlarged.</summary>
public static class Thumbnails
{
    public const int MaxSide = 256;

    /// <summary>The JPEG thumbnail of encoded image bytes, or null when they do not decode.</summary>
    public static byte[]? Make(byte[] imageBytes, int quality = 85)
    {
        // SKBitmap.Decode throws on bytes no codec claims; asking for a codec first turns that into "not an image".
        using var encoded = SKData.CreateCopy(imageBytes);
        using var codec = SKCodec.Create(encoded);
        if (codec == null) return null;
        using var original = SKBitmap.Decode(codec);
        if (original == null || original.Width < 1 || original.Height < 1) return null;
        double shrink = Math.Min(1.0, (double)MaxSide / Math.Max(original.Width, original.Height));
        int width = Math.Max(1, (int)Math.Round(original.Width * shrink)), height = Math.Max(1, (int)Math.Round(original.Height * shrink));
        using var resized = shrink < 1.0 ? original.Resize(new SKImageInfo(width, height), new SKSamplingOptions(SKCubicResampler.Mitchell)) : null;
        // JPEG has no alpha: flatten onto white (as the model's transform does), or transparent pixels turn black.
        var source = resized ?? original;
        using var flat = new SKBitmap(new SKImageInfo(source.Width, source.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(flat))
        {
            canvas.Clear(SKColors.White);
            canvas.DrawBitmap(source, 0, 0);
        }
        using var image = SKImage.FromBitmap(flat);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data?.ToArray();
    }
}
