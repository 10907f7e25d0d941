using SkiaSharp;

namespace Tuwen.Corpus.Images;

/// <summary>
/// The 64-bit difference hash: the image shrunk to 9×8 grey pixels, one bit per horizontal neighbour pair
/// (left brighter than right). Re-encoding, resizing and mild colour changes keep most bits, so near copies
/// are a small Hamming distance apart.
/// </summary>
public static class DifferenceHash
{
    public static ulong Compute(SKBitmap bitmap)
    {
        using var small = new SKBitmap(new SKImageInfo(9, 8, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(small))
        {
            canvas.Clear(SKColors.White);
            using var image = SKImage.FromBitmap(bitmap);
            // Mipmaps average the whole image down to 9×8 instead of sampling a few pixels.
            canvas.DrawImage(image, SKRect.Create(0, 0, 9, 8), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        }
        var pixels = small.GetPixelSpan();
        ulong hash = 0;
        var bit = 0;
        for (var y = 0; y < 8; y++)
        {
            for (var x = 0; x < 8; x++, bit++)
            {
                if (Luma(pixels, y * 9 + x) > Luma(pixels, y * 9 + x + 1)) hash |= 1UL << bit;
            }
        }
        return hash;
    }

    public static int Distance(ulong a, ulong b) => System.Numerics.BitOperations.PopCount(a ^ b);

    private static int Luma(ReadOnlySpan<byte> rgba, int pixel)
        => rgba[pixel * 4] * 299 + rgba[pixel * 4 + 1] * 587 + rgba[pixel * 4 + 2] * 114;
}
