using System.Security.Cryptography;
using SkiaSharp;
using Tuwen.Corpus.Pipeline;

namespace Tuwen.Corpus.Images;

/// <summary>An accepted image as stored: encoded bytes, sizes before and after resizing, and its hashes.</summary>
public sealed record ProcessedImage(byte[] Bytes, string Extension, int Width, int Height, int OriginalWidth, int OriginalHeight, string Sha256, ulong DHash);

/// <summary>
/// Checks and resizes downloaded images. Size, aspect ratio and the decompression-bomb pixel limit are read
/// from the header, before any pixel is decoded; JPEGs are decoded directly at a reduced scale when the
/// target is much smaller (the codec skips most of the work), then resampled bilinearly onto a white canvas
/// (with mipmaps when more than a halving is left), so transparent images come out as they look on a page.
/// Pixels stay in the platform's native byte order from decoder to encoder: converting to RGBA and back cost
/// more than the resampling. Partially decodable images are rejected. Thread-safe: it holds only settings.
/// </summary>
public sealed class ImageProcessor(CorpusBuildOptions options)
{
    // After a DCT-scaled decode at most a halving is left, which bilinear handles; cubic cost 3× the whole resize.
    private static readonly SKSamplingOptions Bilinear = new(SKFilterMode.Linear, SKMipmapMode.None);
    private static readonly SKSamplingOptions Mipmapped = new(SKFilterMode.Linear, SKMipmapMode.Linear);
    private static readonly SKColorType Native = SKImageInfo.PlatformColorType;

    public (ProcessedImage? Image, string? DropReason) Process(byte[] data)
    {
        using var encoded = SKData.CreateCopy(data);
        using var codec = SKCodec.Create(encoded);
        if (codec is null) return (null, "image.corrupt");
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width <= 0 || height <= 0) return (null, "image.corrupt");
        if ((long)width * height > options.MaxPixels) return (null, "image.too_many_pixels");
        if (Math.Min(width, height) < options.MinSide) return (null, "image.too_small");
        if ((double)Math.Max(width, height) / Math.Min(width, height) > options.MaxAspectRatio) return (null, "image.aspect_ratio");

        var layout = ResizeLayout.For(options.ResizeMode, width, height, options.ImageSize);
        using var bitmap = Decode(codec, layout.DrawWidth, layout.DrawHeight);
        if (bitmap is null) return (null, "image.corrupt");
        var dhash = DifferenceHash.Compute(bitmap);
        var sha = Convert.ToHexStringLower(SHA256.HashData(data));
        var originalFormat = codec.EncodedFormat;
        if (options.ResizeMode == ResizeMode.No && originalFormat is SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Png)
        {
            // Nothing to change: keep the downloaded bytes rather than lose quality to a second JPEG pass.
            var ext = originalFormat == SKEncodedImageFormat.Jpeg ? "jpg" : "png";
            return (new ProcessedImage(data, ext, width, height, width, height, sha, dhash), null);
        }
        var bytes = Render(bitmap, layout);
        return (new ProcessedImage(bytes, options.EncodeFormat, layout.Width, layout.Height, width, height, sha, dhash), null);
    }

    /// <summary>Decodes at the smallest scale the codec offers that still covers the drawn size; null when decoding fails.</summary>
    private static SKBitmap? Decode(SKCodec codec, int drawWidth, int drawHeight)
    {
        var info = codec.Info;
        var scale = Math.Max((float)drawWidth / info.Width, (float)drawHeight / info.Height);
        var size = new SKSizeI(info.Width, info.Height);
        if (scale < 1)
        {
            var scaled = codec.GetScaledDimensions(scale);
            if (scaled.Width >= drawWidth && scaled.Height >= drawHeight && scaled.Width > 0) size = scaled;
        }
        var target = new SKImageInfo(size.Width, size.Height, Native, SKAlphaType.Premul);
        var bitmap = new SKBitmap(target);
        var result = codec.GetPixels(target, bitmap.GetPixels());
        if (result == SKCodecResult.InvalidScale && size != new SKSizeI(info.Width, info.Height))
        {
            bitmap.Dispose();
            target = new SKImageInfo(info.Width, info.Height, Native, SKAlphaType.Premul);
            bitmap = new SKBitmap(target);
            result = codec.GetPixels(target, bitmap.GetPixels());
        }
        // IncompleteInput means a truncated file decoded half-grey: worse than no sample.
        if (result == SKCodecResult.Success) return bitmap;
        bitmap.Dispose();
        return null;
    }

    private byte[] Render(SKBitmap bitmap, ResizeLayout layout)
    {
        using var surface = SKSurface.Create(new SKImageInfo(layout.Width, layout.Height, Native, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"cannot allocate a {layout.Width}×{layout.Height} canvas");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        var sampling = layout.DrawWidth * 2 < bitmap.Width || layout.DrawHeight * 2 < bitmap.Height ? Mipmapped : Bilinear;
        using (var image = SKImage.FromBitmap(bitmap))
            canvas.DrawImage(image, SKRect.Create(layout.OffsetX, layout.OffsetY, layout.DrawWidth, layout.DrawHeight), sampling);
        using var snapshot = surface.Snapshot();
        var format = options.EncodeFormat == "png" ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg;
        using var data = snapshot.Encode(format, options.EncodeQuality);
        return data.ToArray();
    }
}

/// <summary>Output canvas size and where the scaled image lands on it, per img2dataset resize mode.</summary>
internal readonly record struct ResizeLayout(int Width, int Height, int DrawWidth, int DrawHeight, int OffsetX, int OffsetY)
{
    public static ResizeLayout For(ResizeMode mode, int width, int height, int size)
    {
        switch (mode)
        {
            case ResizeMode.KeepRatio:
            {
                var scale = (double)size / Math.Min(width, height);
                var (w, h) = (Scaled(width, scale), Scaled(height, scale));
                return new(w, h, w, h, 0, 0);
            }
            case ResizeMode.CenterCrop:
            {
                var scale = (double)size / Math.Min(width, height);
                var (w, h) = (Scaled(width, scale), Scaled(height, scale));
                return new(size, size, w, h, (size - w) / 2, (size - h) / 2);
            }
            case ResizeMode.Border:
            {
                var scale = (double)size / Math.Max(width, height);
                var (w, h) = (Scaled(width, scale), Scaled(height, scale));
                return new(size, size, w, h, (size - w) / 2, (size - h) / 2);
            }
            default:
                return new(width, height, width, height, 0, 0);
        }
    }

    private static int Scaled(int length, double scale) => Math.Max(1, (int)Math.Round(length * scale));
}
