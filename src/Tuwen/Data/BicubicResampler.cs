using System.Buffers;
using System.Numerics;

namespace Tuwen.Data;

/// <summary>
/// Separable bicubic resampling (a = −0.5) whose kernel widens with the downscale factor, the way PIL's
/// resize works. Chinese-CLIP and OpenAI CLIP preprocess with PIL bicubic, so matching it keeps pretrained
/// weights seeing what they were trained on; Skia's cubic samplers do not widen the kernel and alias when
/// shrinking photos by 2× or more.
/// </summary>
internal static class BicubicResampler
{
    private const double Support = 2.0;

    /// <summary>Source taps per output index along one axis: output i reads Count[i] pixels from First[i].</summary>
    internal sealed class Axis
    {
        public required int[] First { get; init; }
        public required int[] Count { get; init; }
        public required float[] Weights { get; init; }
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
            var weights = new float[outputCount * stride];
            Span<double> taps = stackalloc double[stride];
            for (var i = 0; i < outputCount; i++)
            {
                var center = (outputStart + i + 0.5) * scale;
                var min = Math.Max((int)(center - support + 0.5), 0);
                var max = Math.Min((int)(center + support + 0.5), regionLength);
                var n = max - min;
                var sum = 0.0;
                for (var k = 0; k < n; k++) sum += taps[k] = Cubic((k + min - center + 0.5) / filterScale);
                // Zero taps at the ends cost time for nothing; at scale 1 they reduce the kernel to one tap.
                var lead = 0;
                while (lead < n - 1 && taps[lead] == 0) lead++;
                while (n > lead + 1 && taps[n - 1] == 0) n--;
                first[i] = regionStart + min + lead;
                count[i] = n - lead;
                for (var k = lead; k < n; k++) weights[i * stride + k - lead] = (float)(sum == 0 ? 0 : taps[k] / sum);
            }
            return new Axis { First = first, Count = count, Weights = weights, Stride = stride };
        }

        private static double Cubic(double x)
        {
            const double a = -0.5;
            x = Math.Abs(x);
            if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
            if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
            return 0;
        }
    }

    /// <summary>
    /// Resamples opaque RGBA rows into planar CHW floats of horizontal.Count × vertical.Count, normalised per
    /// channel as (v/255 − mean)/std after clipping to [0, 255] as PIL's 8-bit output would.
    /// <paramref name="mirror"/> flips left–right.
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
        var intermediate = ArrayPool<float>.Shared.Rent(3 * plane);
        try
        {
            fixed (byte* source = rgba)
            fixed (float* planes = intermediate)
            {
                ResampleRows(source, width, rowStart, rows, horizontal, mirror, planes, plane);
                fixed (float* target = destination)
                {
                    for (var channel = 0; channel < 3; channel++)
                    {
                        var multiply = 1f / (255f * std[channel]);
                        var add = -mean[channel] / std[channel];
                        ResampleColumns(planes + channel * plane, outWidth, rowStart, vertical,
                            target + channel * outWidth * outHeight, multiply, add);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(intermediate);
        }
    }

    private static unsafe void ResampleRows(byte* source, int width, int rowStart, int rows, Axis horizontal, bool mirror, float* planes, int plane)
    {
        var outWidth = horizontal.First.Length;
        fixed (int* first = horizontal.First)
        fixed (int* count = horizontal.Count)
        fixed (float* weights = horizontal.Weights)
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
                    float sumR = 0, sumG = 0, sumB = 0;
                    for (var k = 0; k < count[i]; k++, pixel += 4)
                    {
                        sumR += w[k] * pixel[0];
                        sumG += w[k] * pixel[1];
                        sumB += w[k] * pixel[2];
                    }
                    var o = mirror ? outWidth - 1 - i : i;
                    // PIL stores the horizontal pass as 8-bit, clipping the cubic overshoot at edges; without
                    // this clip results drift up to 6 levels from PIL's there, with it they stay within 1.
                    red[o] = Math.Clamp(sumR, 0f, 255f);
                    green[o] = Math.Clamp(sumG, 0f, 255f);
                    blue[o] = Math.Clamp(sumB, 0f, 255f);
                }
            }
        }
    }

    private static unsafe void ResampleColumns(float* plane, int outWidth, int rowStart, Axis vertical, float* target, float multiply, float add)
    {
        var width = Vector<float>.Count;
        var zero = Vector<float>.Zero;
        var max = new Vector<float>(255f);
        var multiplyVector = new Vector<float>(multiply);
        var addVector = new Vector<float>(add);
        for (var y = 0; y < vertical.First.Length; y++)
        {
            var firstRow = plane + (vertical.First[y] - rowStart) * outWidth;
            var taps = vertical.Count[y];
            var weightOffset = y * vertical.Stride;
            var output = target + y * outWidth;
            var x = 0;
            for (; x <= outWidth - width; x += width)
            {
                var sum = Vector<float>.Zero;
                for (var k = 0; k < taps; k++)
                    sum += Vector.Load(firstRow + k * outWidth + x) * vertical.Weights[weightOffset + k];
                sum = Vector.Min(Vector.Max(sum, zero), max);
                (sum * multiplyVector + addVector).Store(output + x);
            }
            for (; x < outWidth; x++)
            {
                var sum = 0f;
                for (var k = 0; k < taps; k++) sum += firstRow[k * outWidth + x] * vertical.Weights[weightOffset + k];
                output[x] = Math.Clamp(sum, 0f, 255f) * multiply + add;
            }
        }
    }
}
