using System.Buffers;
using SkiaSharp;

namespace Tuwen.Data;

/// <summary>
/// An image decoded to RGBA8888 already composited over white (so every alpha byte is 255), in a pooled
/// buffer that <see cref="Dispose"/> returns. Decoding is split from <see cref="Open"/> so a caller can
/// draw random crop parameters from the dimensions before paying for the pixels.
/// </summary>
internal sealed class DecodedImage : IDisposable
{
    // 100 megapixels (400 MB of RGBA) is far beyond any training photo; larger claims are decompression bombs or damage.
    private const long MaxPixels = 100_000_000;

    private readonly SKData _encoded;
    private readonly SKCodec _codec;
    private byte[]? _pixels;

    private DecodedImage(SKData encoded, SKCodec codec)
    {
        _encoded = encoded;
        _codec = codec;
        Width = codec.Info.Width;
        Height = codec.Info.Height;
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>RGBA rows of <see cref="Width"/>×4 bytes; valid after <see cref="Decode"/>.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels.AsSpan(0, Width * Height * 4);

    /// <summary>Reads the header; throws <see cref="CorruptImageException"/> for bytes no codec recognises.</summary>
    public static DecodedImage Open(byte[] encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.Length == 0) throw new CorruptImageException("empty image");
        // The codec reads lazily from this copy, so it lives as long as the codec does.
        var data = SKData.CreateCopy(encoded);
        var codec = SKCodec.Create(data);
        if (codec is null)
        {
            data.Dispose();
            throw new CorruptImageException($"not a decodable image ({encoded.Length} bytes)");
        }
        var image = new DecodedImage(data, codec);
        if (image.Width <= 0 || image.Height <= 0 || (long)image.Width * image.Height > MaxPixels)
        {
            image.Dispose();
            throw new CorruptImageException($"implausible image size {image.Width}×{image.Height}");
        }
        return image;
    }

    public unsafe void Decode()
    {
        if (_pixels is not null) return;
        var length = Width * Height * 4;
        _pixels = ArrayPool<byte>.Shared.Rent(length);
        // Premultiplied output makes compositing over white a plain add: c + (255 − a).
        var info = new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        SKCodecResult result;
        fixed (byte* pixels = _pixels) result = _codec.GetPixels(info, (IntPtr)pixels);
        // A truncated file decodes partially (IncompleteInput); training on half-grey images is worse than skipping them.
        if (result != SKCodecResult.Success)
            throw new CorruptImageException($"image decoding failed: {result}");
        if (_codec.Info.AlphaType != SKAlphaType.Opaque) CompositeOverWhite(_pixels.AsSpan(0, length));
    }

    private static unsafe void CompositeOverWhite(Span<byte> rgba)
    {
        fixed (byte* start = rgba)
        {
            byte* end = start + rgba.Length;
            for (byte* p = start; p < end; p += 4)
            {
                int transparency = 255 - p[3];
                if (transparency == 0) continue;
                p[0] = (byte)(p[0] + transparency);
                p[1] = (byte)(p[1] + transparency);
                p[2] = (byte)(p[2] + transparency);
                p[3] = 255;
            }
        }
    }

    public void Dispose()
    {
        _codec.Dispose();
        _encoded.Dispose();
        if (_pixels is not null) ArrayPool<byte>.Shared.Return(_pixels);
        _pixels = null;
    }
}
