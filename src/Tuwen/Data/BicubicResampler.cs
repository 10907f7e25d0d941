using System.Buffers;
using System.Numerics;

namespace Tuwen.Data;

/// <summary>
/// Separable bicubic resampling (a = −0.5) that reproduces PIL's 8-bit <c>Image.resize(BICUBIC)</c> bit for bit:
/// the kernel widens with the downscale factor, the normalised taps become fixed-point integers with 22
/// fractional bits (rounded half away from zero), the horizontal pass is stored as 8-bit (rounded, clipped to
/// 0–255) before the vertical pass, and the vertical pass rounds to 8-bit again. Chinese-CLIP and OpenAI CLIP
/// preprocess with PIL, so pretrained weights see exactly the pixels they were trained on (a float pipeline drifts
/// by one level here and there, which moves embeddings by about 1e-2). ToTensor/Normalize then run in float32 as
/// torchvision's do.
/// </summary>
internal static class BicubicResampler
{
    private const double Support = 2.0;
    /// <summary>PIL's PRECISION_BITS for 8-bit images (32 − 8 − 2).</summary>
    private const int PrecisionBits = 22;
    private const int Half = 1 << (PrecisionBits - 1);

    /// <summary>Source taps per output index along one axis: output i reads Count[i] pixels from First[i].</summary>
    internal sealed class Axis
    {
        public required int[] First { get; init; }
        public required int[] Count { get; init; }
        /// <summary>Fixed-point taps (value · 2^22), Stride per output index.</summary>
        public required int[] Weights { get; init; }
        public required int Stride { get; init; }

        public int SourceStart => First.Length == 0 ? 0 : First.Min();
        public int SourceEnd => First.Length == 0 ? 0 : First.Zip(Count, (f, c) => f + c).Max();

        /// <summary>
        /// Resizing the source range [regionStart, regionStart+regionLength) to <paramref name="outputLength"/>
        /// pixels, keeping outputs [outputStart, outputStart+outputCount): a crop after the resize without computing it.
        /// </summary>
        public static Axis Create(int regionStart, int regionLength, int outputLength, int outputStart, int outputCount)
        {
            var scale = (double)regionLength / outputLength;
            var filterScale = Math.Max(scale, 1.0);
            var support = Support * filterScale;
            var stride = (int)Math.Ceiling(support) * 2 + 1;
            var first = new int[outputCount];
            var count = new int[outputCount];
            var weights = new int[outputCount * stride];
            Span<double> taps = stackalloc double[stride];
            for (var i = 0; i < outputCount; i++)
            {
                var center = (outputStart + i + 0.5) * scale;
                var min = Math.Max((int)(center - support + 0.5), 0);
                var max = Math.Min((int)(center + support + 0.5), regionLength);
                var n = max - min;
                var sum = 0.0;
                for (var k = 0; k < n; k++) sum += taps[k] = Cubic((k + min - center + 0.5) / filterScale);
                if (sum != 0) for (var k = 0; k < n; k++) taps[k] /= sum;
                // Zero taps at the ends cost time for nothing; at scale 1 they reduce the kernel to one tap.
                var lead = 0;
                while (lead < n - 1 && Fixed(taps[lead]) == 0) lead++;
                while (n > lead + 1 && Fixed(taps[n - 1]) == 0) n--;
                first[i] = regionStart + min + lead;
                count[i] = n - lead;
                for (var k = lead; k < n; k++) weights[i * stride + k - lead] = Fixed(taps[k]);
            }
            // At scale 1 the taps are exactly 1 and 0, so an unchanged axis is a plain copy, as PIL's skipped pass is.
            return new Axis { First = first, Count = count, Weights = weights, Stride = stride };
        }

        /// <summary>PIL's normalize_coeffs_8bpc: round half away from zero to 22 fractional bits.</summary>
        private static int Fixed(double tap) => (int)(tap < 0 ? -0.5 + tap * (1 << PrecisionBits) : 0.5 + tap * (1 << PrecisionBits));

        private static double Cubic(double x)
        {
            const double a = -0.5;
            x = Math.Abs(x);
            if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
            if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
            return 0;
        }
    }

    /// <summary>PIL's clip8: the accumulated fixed-point sum (with its rounding half already added) to 0–255.</summary>
    private static byte Clip8(int sum)
    {
        var v = sum >> PrecisionBits;
        return (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
    }

    /// <summary>
    /// Resamples opaque RGBA rows into planar CHW floats of horizontal.Count × vertical.Count, each 8-bit value v
    /// normalised per channel as (v/255 − mean)/std in float32. <paramref name="mirror"/> flips left–right.
    /// </summary>
    public static unsafe void Resample(ReadOnlySpan<byte> rgba, int width, Axis horizontal, Axis vertical, bool mirror,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> std, Span<float> destination)
    {
        var outWidth = horizontal.First.Length;
        var outHeight = vertical.First.Length;
        if (destination.Length < 3 * outWidth * outHeight) throw new ArgumentException("destination too small", nameof(destination));
        var rowStart = vertical.SourceStart;
        var rows = vertical.SourceEnd - rowStart;
        var plane = rows * outWidth;
        // The horizontal pass's 8-bit results are kept as ints so the vertical pass loads them straight into vectors.
        var intermediate = ArrayPool<int>.Shared.Rent(3 * plane);
        try
        {
            fixed (byte* source = rgba)
            fixed (int* planes = intermediate)
            {
                ResampleRows(source, width, rowStart, rows, horizontal, mirror, planes, plane);
                fixed (float* target = destination)
                {
                    for (var channel = 0; channel < 3; channel++)
                        ResampleColumns(planes + channel * plane, outWidth, rowStart, vertical,
                            target + channel * outWidth * outHeight, mean[channel], std[channel]);
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(intermediate);
        }
    }

    private static unsafe void ResampleRows(byte* source, int width, int rowStart, int rows, Axis horizontal, bool mirror, int* planes, int plane)
    {
        var outWidth = horizontal.First.Length;
        fixed (int* first = horizontal.First)
        fixed (int* count = horizontal.Count)
        fixed (int* weights = horizontal.Weights)
        {
            for (var r = 0; r < rows; r++)
            {
                var row = source + (long)(rowStart + r) * width * 4;
                var red = planes + r * outWidth;
                var green = red + plane;
                var blue = green + plane;
                for (var i = 0; i < outWidth; i++)
                {
                    var pixel = row + first[i] * 4;
                    var w = weights + i * horizontal.Stride;
                    int sumR = Half, sumG = Half, sumB = Half;
                    for (var k = 0; k < count[i]; k++, pixel += 4)
                    {
                        sumR += w[k] * pixel[0];
                        sumG += w[k] * pixel[1];
                        sumB += w[k] * pixel[2];
                    }
                    var o = mirror ? outWidth - 1 - i : i;
                    red[o] = Clip8(sumR);
                    green[o] = Clip8(sumG);
                    blue[o] = Clip8(sumB);
                }
            }
        }
    }

    private static unsafe void ResampleColumns(int* plane, int outWidth, int rowStart, Axis vertical, float* target, float mean, float std)
    {
        var lanes = Vector<int>.Count;
        var half = new Vector<int>(Half);
        var zero = Vector<int>.Zero;
        var max = new Vector<int>(255);
        // (v/255 − mean)/std in float32, in the order torchvision's ToTensor then Normalize compute it.
        var scale = new Vector<float>(255f);
        var meanVector = new Vector<float>(mean);
        var stdVector = new Vector<float>(std);
        fixed (int* weights = vertical.Weights)
        {
            for (var y = 0; y < vertical.First.Length; y++)
            {
                var firstRow = plane + (vertical.First[y] - rowStart) * outWidth;
                var taps = vertical.Count[y];
                var w = weights + y * vertical.Stride;
                var output = target + y * outWidth;
                var x = 0;
                for (; x <= outWidth - lanes; x += lanes)
                {
                    var sum = half;
                    for (var k = 0; k < taps; k++) sum += Vector.Load(firstRow + k * outWidth + x) * w[k];
                    var level = Vector.Min(Vector.Max(Vector.ShiftRightArithmetic(sum, PrecisionBits), zero), max);
                    ((Vector.ConvertToSingle(level) / scale - meanVector) / stdVector).Store(output + x);
                }
                for (; x < outWidth; x++)
                {
                    var sum = Half;
                    for (var k = 0; k < taps; k++) sum += firstRow[k * outWidth + x] * w[k];
                    output[x] = (Clip8(sum) / 255f - mean) / std;
                }
            }
        }
    }
}
