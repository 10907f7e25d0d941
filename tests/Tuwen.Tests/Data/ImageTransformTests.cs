using SkiaSharp;
using Tuwen.Data;

namespace Tuwen.Tests.Data;

public sealed class ImageTransformTests
{
    private static readonly float[] Mean = [0.48145466f, 0.4578275f, 0.40821073f];
    private static readonly float[] Std = [0.26862954f, 0.26130258f, 0.27577711f];

    private static float Normalised(int channel, double value255) => (float)((value255 / 255.0 - Mean[channel]) / Std[channel]);

    /// <summary>Back to 0–255 for readable assertions.</summary>
    private static double Raw(float[] chw, int size, int channel, int x, int y)
        => (chw[channel * size * size + y * size + x] * Std[channel] + Mean[channel]) * 255.0;

    private static void AssertSolid(float[] chw, int size, double r, double g, double b, double tolerance)
    {
        double[] rgb = [r, g, b];
        for (var c = 0; c < 3; c++)
        {
            var expected = Normalised(c, rgb[c]);
            var plane = chw.AsSpan(c * size * size, size * size);
            foreach (var v in plane) Assert.InRange(v, expected - tolerance, expected + tolerance);
        }
    }

    public static TheoryData<string> AllModes => ["squash", "centercrop", "train"];

    private static ImageTransform Mode(string mode, int size) => mode switch
    {
        "squash" => ImageTransform.ForEval(size),
        "centercrop" => ImageTransform.ForEval(size, EvalResize.CenterCrop),
        _ => ImageTransform.ForTraining(size, horizontalFlip: true),
    };

    [Theory]
    [MemberData(nameof(AllModes))]
    public void WhiteGivesOneMinusMeanOverStdInEveryMode(string mode)
    {
        var transform = Mode(mode, 24);
        var pixels = transform.Apply(DataFixtures.SolidPng(50, 37, SKColors.White), new Random(1));
        Assert.Equal(3 * 24 * 24, pixels.Length);
        AssertSolid(pixels, 24, 255, 255, 255, 1e-5);
        Assert.Equal((1 - 0.48145466f) / 0.26862954f, pixels[0], 5);
    }

    [Fact]
    public void SolidColourKeepsItsChannelOrder()
    {
        var pixels = ImageTransform.ForEval(16).Apply(DataFixtures.SolidPng(40, 20, new SKColor(200, 100, 30)));
        AssertSolid(pixels, 16, 200, 100, 30, 1e-4);
    }

    [Fact]
    public void TransparencyIsCompositedOverWhite()
    {
        var transparent = ImageTransform.ForEval(8).Apply(DataFixtures.SolidPng(8, 8, new SKColor(0, 0, 0, 0)));
        AssertSolid(transparent, 8, 255, 255, 255, 1e-5);
        var halfRed = ImageTransform.ForEval(8).Apply(DataFixtures.SolidPng(8, 8, new SKColor(255, 0, 0, 128)));
        AssertSolid(halfRed, 8, 255, 127, 127, 1.5 / 255 / 0.26);
    }

    [Fact]
    public void FlickrJpegAtTargetSizeIsTakenPixelForPixel()
    {
        var file = Directory.GetFiles(SharedData.Path("flickr8k-cn", "images", "val"), "*.jpg").Order().First();
        var bytes = File.ReadAllBytes(file);
        var pixels = new float[3 * 224 * 224 + 5];
        pixels.AsSpan(3 * 224 * 224).Fill(42f);
        ImageTransform.ForEval(224).Apply(bytes, pixels, null);
        Assert.All(pixels[^5..], v => Assert.Equal(42f, v)); // nothing written past Length

        using var reference = SKBitmap.Decode(bytes);
        Assert.Equal(224, reference.Width);
        foreach (var (x, y) in new[] { (0, 0), (223, 0), (17, 200), (111, 112), (223, 223) })
        {
            var color = reference.GetPixel(x, y);
            Assert.Equal(color.Red, Raw(pixels, 224, 0, x, y), 2);
            Assert.Equal(color.Green, Raw(pixels, 224, 1, x, y), 2);
            Assert.Equal(color.Blue, Raw(pixels, 224, 2, x, y), 2);
        }
    }

    [Fact]
    public void FlickrJpegsGiveNormalisedValuesInEveryMode()
    {
        var files = Directory.GetFiles(SharedData.Path("flickr8k-cn", "images", "val"), "*.jpg").Order().Take(5);
        foreach (var file in files)
        {
            foreach (var mode in new[] { "squash", "centercrop", "train" })
            {
                var pixels = Mode(mode, 96).Apply(File.ReadAllBytes(file), new Random(7));
                for (var c = 0; c < 3; c++)
                {
                    var plane = pixels.AsSpan(c * 96 * 96, 96 * 96).ToArray();
                    Assert.InRange(plane.Min(), Normalised(c, 0) - 1e-5f, Normalised(c, 255));
                    Assert.InRange(plane.Max(), Normalised(c, 0), Normalised(c, 255) + 1e-5f);
                    Assert.True(plane.Max() - plane.Min() > 1, $"{file} {mode}: a photo should not be flat");
                }
            }
        }
    }

    [Fact]
    public void GrayscaleImageNetJpegGivesEqualChannels()
    {
        var bytes = File.ReadAllBytes(SharedData.Path("imagenet-sample-250", "images", "n04008634_projectile.JPEG"));
        using (var codec = SKCodec.Create(new MemoryStream(bytes))) Assert.Equal(SKColorType.Gray8, codec.Info.ColorType);
        var pixels = ImageTransform.ForEval(64, EvalResize.CenterCrop).Apply(bytes);
        var varied = 0;
        for (var i = 0; i < 64 * 64; i++)
        {
            var (x, y) = (i % 64, i / 64);
            var red = Raw(pixels, 64, 0, x, y);
            Assert.InRange(Raw(pixels, 64, 1, x, y), red - 0.01, red + 0.01);
            Assert.InRange(Raw(pixels, 64, 2, x, y), red - 0.01, red + 0.01);
            if (Math.Abs(red - Raw(pixels, 64, 0, 0, 0)) > 10) varied++;
        }
        Assert.True(varied > 100);
    }

    [Fact]
    public void DownscalingKeepsALinearGradientLinear()
    {
        // Bicubic reproduces linear ramps; a kernel that did not widen with the scale would also, so the
        // stripe check below is what shows the widening: 1-pixel stripes average to grey instead of aliasing.
        var ramp = ImageTransform.ForEval(64).Apply(DataFixtures.Png(256, 256, (x, _) => new SKColor((byte)x, (byte)x, (byte)x)));
        // The mean of 4x..4x+3 is 4x+1.5; PIL's fixed-point rounding stores 4x+2 (checked with PIL 9.4).
        for (var x = 4; x < 60; x++) Assert.InRange(Raw(ramp, 64, 0, x, 30), x * 4 + 1.99, x * 4 + 2.01);

        var stripes = ImageTransform.ForEval(50).Apply(DataFixtures.Png(200, 200, (x, _) => x % 2 == 0 ? SKColors.Black : SKColors.White));
        for (var x = 2; x < 48; x++) Assert.InRange(Raw(stripes, 50, 1, x, 25), 120, 135);
    }

    [Fact]
    public void CenterCropKeepsTheMiddleWhereSquashKeepsEverything()
    {
        // 400×100: red quarters at both ends, green middle half.
        var bytes = DataFixtures.Png(400, 100, (x, _) => x < 100 || x >= 300 ? SKColors.Red : SKColors.Lime);
        var cropped = ImageTransform.ForEval(32, EvalResize.CenterCrop).Apply(bytes);
        AssertSolid(cropped, 32, 0, 255, 0, 1e-4);
        var squashed = ImageTransform.ForEval(32).Apply(bytes);
        Assert.Equal(255, Raw(squashed, 32, 0, 0, 16), 1);
        Assert.Equal(0, Raw(squashed, 32, 1, 0, 16), 1);
        Assert.Equal(255, Raw(squashed, 32, 1, 16, 16), 1);
    }

    [Fact]
    public void TrainingCropIsReproducibleFromTheSeed()
    {
        var bytes = File.ReadAllBytes(Directory.GetFiles(SharedData.Path("flickr8k-cn", "images", "val"), "*.jpg").Order().Skip(3).First());
        var transform = ImageTransform.ForTraining(64);
        var first = transform.Apply(bytes, new Random(123));
        var again = transform.Apply(bytes, new Random(123));
        var other = transform.Apply(bytes, new Random(124));
        var eval = ImageTransform.ForEval(64).Apply(bytes);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.NotEqual(first, eval);
        Assert.Throws<ArgumentNullException>(() => transform.Apply(bytes, new float[transform.Length], null));
    }

    [Fact]
    public void TrainingCropEqualsSquashingTheCroppedImage()
    {
        // Resampling a crop must not reach outside it: the result is that of cutting the crop out first.
        var file = Directory.GetFiles(SharedData.Path("flickr8k-cn", "images", "val"), "*.jpg").Order().Skip(5).First();
        var bytes = File.ReadAllBytes(file);
        var transform = ImageTransform.ForTraining(48, minScale: 0.2, maxScale: 0.4);
        var (left, top, width, height) = transform.RandomResizedCrop(224, 224, new Random(9));
        Assert.True(left > 0 && top > 0 && width < 224, "the crop should leave margins");
        using var full = SKBitmap.Decode(bytes);
        using var cropped = new SKBitmap();
        Assert.True(full.ExtractSubset(cropped, SKRectI.Create(left, top, width, height)));
        var expected = ImageTransform.ForEval(48).Apply(DataFixtures.Encode(cropped, SKEncodedImageFormat.Png));
        var actual = transform.Apply(bytes, new Random(9));
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 4);
    }

    [Fact]
    public void RandomResizedCropStaysWithinScaleAndRatio()
    {
        var transform = ImageTransform.ForTraining(32, minScale: 0.3, maxScale: 0.9);
        var rng = new Random(5);
        var areas = new List<double>();
        for (var i = 0; i < 2000; i++)
        {
            var (left, top, width, height) = transform.RandomResizedCrop(500, 375, rng);
            Assert.InRange(left, 0, 500 - width);
            Assert.InRange(top, 0, 375 - height);
            areas.Add((double)width * height / (500 * 375));
            Assert.InRange((double)width / height, 0.74, 1.35);
        }
        Assert.InRange(areas.Min(), 0.29, 0.35);
        Assert.InRange(areas.Max(), 0.85, 0.91);
        // An image far outside the ratio range falls back to the widest allowed centre crop.
        Assert.Equal((0, 383, 100, 133), transform.RandomResizedCrop(100, 900, new Random(1)));
    }

    [Fact]
    public void FlipMirrorsTheCropAndIsOffByDefault()
    {
        var bytes = DataFixtures.Png(64, 64, (x, _) => new SKColor((byte)(x * 4), 0, 0));
        var plain = ImageTransform.ForTraining(16, minScale: 1, maxScale: 1);
        var flipping = ImageTransform.ForTraining(16, minScale: 1, maxScale: 1, horizontalFlip: true);
        Assert.False(plain.HorizontalFlip);
        var mirrored = 0;
        for (var seed = 0; seed < 20; seed++)
        {
            var a = plain.Apply(bytes, new Random(seed));
            var b = flipping.Apply(bytes, new Random(seed));
            Assert.True(Raw(a, 16, 0, 0, 8) < Raw(a, 16, 0, 15, 8));
            if (Raw(b, 16, 0, 0, 8) > Raw(b, 16, 0, 15, 8))
            {
                mirrored++;
                for (var x = 0; x < 16; x++) Assert.Equal(a[8 * 16 + x], b[8 * 16 + 15 - x], 4);
            }
        }
        Assert.InRange(mirrored, 3, 17);
    }

    [Fact]
    public void UndecodableBytesThrowCorruptImageException()
    {
        var transform = ImageTransform.ForEval(16);
        Assert.Throws<CorruptImageException>(() => transform.Apply([]));
        Assert.Throws<CorruptImageException>(() => transform.Apply("not an image at all"u8.ToArray()));
        var jpeg = File.ReadAllBytes(Directory.GetFiles(SharedData.Path("flickr8k-cn", "images", "val"), "*.jpg").Order().First());
        Assert.Throws<CorruptImageException>(() => transform.Apply(jpeg[..(jpeg.Length / 2)]));
    }
}
