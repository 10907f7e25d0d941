namespace Tuwen.Data;

/// <summary>How evaluation fits an image into the square.</summary>
public enum EvalResize
{
    /// <summary>Resize straight to size×size, ignoring the aspect ratio, as Chinese-CLIP does.</summary>
    Squash,

    /// <summary>Resize the shorter side to size, then cut the centre square, as OpenAI CLIP does.</summary>
    CenterCrop,
}

/// <summary>
/// Encoded image → normalised RGB float CHW [3, size, size] (CLIP mean/std). Transparent pixels are
/// composited over white. Evaluation is deterministic; training draws a random resized crop (and an
/// optional mirror) from the <see cref="Random"/> passed in, so the same seed gives the same pixels.
/// EXIF orientation is ignored, as by PIL-based CLIP pipelines. Immutable and safe to share between threads.
/// </summary>
public sealed class ImageTransform
{
    public static IReadOnlyList<float> ClipMean { get; } = [0.48145466f, 0.4578275f, 0.40821073f];
    public static IReadOnlyList<float> ClipStd { get; } = [0.26862954f, 0.26130258f, 0.27577711f];

    private static readonly float[] Mean = [.. ClipMean];
    private static readonly float[] Std = [.. ClipStd];

    public ImageTransform(int size, bool training = false)
    {
        if (size < 1) throw new TuwenException($"image size must be positive, not {size}");
        Size = size;
        Training = training;
    }

    public static ImageTransform ForEval(int size, EvalResize resize = EvalResize.Squash) => new(size) { EvalResize = resize };

    public static ImageTransform ForTraining(int size, double minScale = 0.5, double maxScale = 1.0, bool horizontalFlip = false)
        => new(size, training: true) { Scale = (minScale, maxScale), HorizontalFlip = horizontalFlip };

    public int Size { get; }
    public bool Training { get; }

    /// <summary>Floats one image fills: 3 × Size × Size.</summary>
    public int Length => 3 * Size * Size;

    public EvalResize EvalResize { get; init; } = EvalResize.Squash;

    /// <summary>Training: range of the crop's area as a fraction of the image (torchvision's scale).</summary>
    public (double Min, double Max) Scale
    {
        get;
        init
        {
            if (!(value.Min > 0 && value.Min <= value.Max && value.Max <= 1))
                throw new TuwenException($"crop scale range ({value.Min}, {value.Max}) must satisfy 0 < min ≤ max ≤ 1");
            field = value;
        }
    } = (0.5, 1.0);

    /// <summary>Training: range of the crop's width/height ratio (torchvision's ratio).</summary>
    public (double Min, double Max) Ratio
    {
        get;
        init
        {
            if (!(value.Min > 0 && value.Min <= value.Max))
                throw new TuwenException($"crop ratio range ({value.Min}, {value.Max}) must satisfy 0 < min ≤ max");
            field = value;
        }
    } = (3.0 / 4.0, 4.0 / 3.0);

    /// <summary>Training: mirror half of the crops. Off by default: a mirror turns 左 into 右 in the picture but not in the caption.</summary>
    public bool HorizontalFlip { get; init; }

    public override string ToString() => Training
        ? $"train {Size}px crop scale {Scale.Min}–{Scale.Max} ratio {Ratio.Min:0.###}–{Ratio.Max:0.###}{(HorizontalFlip ? " + flip" : "")}"
        : $"eval {Size}px {EvalResize}";

    /// <summary>Decodes and transforms into a new array of <see cref="Length"/> floats.</summary>
    public float[] Apply(byte[] encoded, Random? rng = null)
    {
        var pixels = new float[Length];
        Apply(encoded, pixels, rng);
        return pixels;
    }

    /// <summary>
    /// Decodes <paramref name="encoded"/> and writes CHW floats into the first <see cref="Length"/> of
    /// <paramref name="destination"/>. Training needs <paramref name="rng"/>; evaluation ignores it.
    /// Throws <see cref="CorruptImageException"/> when the bytes do not decode.
    /// </summary>
    public void Apply(byte[] encoded, Span<float> destination, Random? rng)
    {
        if (destination.Length < Length) throw new ArgumentException($"destination holds {destination.Length} floats, needs {Length}", nameof(destination));
        if (Training && rng is null) throw new ArgumentNullException(nameof(rng), "a training transform draws its crop from rng");
        using var image = DecodedImage.Open(encoded);
        BicubicResampler.Axis horizontal, vertical;
        var mirror = false;
        if (Training)
        {
            var (left, top, width, height) = RandomResizedCrop(image.Width, image.Height, rng!);
            horizontal = BicubicResampler.Axis.Create(left, width, Size, 0, Size);
            vertical = BicubicResampler.Axis.Create(top, height, Size, 0, Size);
            mirror = HorizontalFlip && rng!.NextDouble() < 0.5;
        }
        else if (EvalResize == EvalResize.CenterCrop)
        {
            var (resizedWidth, resizedHeight) = ShorterSideTo(image.Width, image.Height);
            // torchvision's CenterCrop rounds half to even, as Math.Round does by default.
            var left = (int)Math.Round((resizedWidth - Size) / 2.0);
            var top = (int)Math.Round((resizedHeight - Size) / 2.0);
            horizontal = BicubicResampler.Axis.Create(0, image.Width, resizedWidth, left, Size);
            vertical = BicubicResampler.Axis.Create(0, image.Height, resizedHeight, top, Size);
        }
        else
        {
            horizontal = BicubicResampler.Axis.Create(0, image.Width, Size, 0, Size);
            vertical = BicubicResampler.Axis.Create(0, image.Height, Size, 0, Size);
        }
        image.Decode();
        BicubicResampler.Resample(image.Pixels, image.Width, horizontal, vertical, mirror, Mean, Std, destination);
    }

    private (int Width, int Height) ShorterSideTo(int width, int height)
    {
        // torchvision truncates the longer side: int(size * long / short).
        return width <= height
            ? (Size, (int)((long)Size * height / width))
            : ((int)((long)Size * width / height), Size);
    }

    /// <summary>torchvision's RandomResizedCrop.get_params: ten tries at a crop of random area and aspect, else a centre crop.</summary>
    internal (int Left, int Top, int Width, int Height) RandomResizedCrop(int imageWidth, int imageHeight, Random rng)
    {
        var area = (double)imageWidth * imageHeight;
        var logRatioMin = Math.Log(Ratio.Min);
        var logRatioMax = Math.Log(Ratio.Max);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var targetArea = area * (Scale.Min + rng.NextDouble() * (Scale.Max - Scale.Min));
            var aspect = Math.Exp(logRatioMin + rng.NextDouble() * (logRatioMax - logRatioMin));
            var width = (int)Math.Round(Math.Sqrt(targetArea * aspect));
            var height = (int)Math.Round(Math.Sqrt(targetArea / aspect));
            if (width > 0 && width <= imageWidth && height > 0 && height <= imageHeight)
            {
                var top = rng.Next(0, imageHeight - height + 1);
                var left = rng.Next(0, imageWidth - width + 1);
                return (left, top, width, height);
            }
        }
        var imageRatio = (double)imageWidth / imageHeight;
        int cropWidth, cropHeight;
        if (imageRatio < Ratio.Min)
        {
            cropWidth = imageWidth;
            cropHeight = Math.Max(1, (int)Math.Round(cropWidth / Ratio.Min));
        }
        else if (imageRatio > Ratio.Max)
        {
            cropHeight = imageHeight;
            cropWidth = Math.Max(1, (int)Math.Round(cropHeight * Ratio.Max));
        }
        else
        {
            cropWidth = imageWidth;
            cropHeight = imageHeight;
        }
        return ((imageWidth - cropWidth) / 2, (imageHeight - cropHeight) / 2, cropWidth, cropHeight);
    }
}
