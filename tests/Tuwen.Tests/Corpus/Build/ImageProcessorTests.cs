using SkiaSharp;
using Tuwen.Corpus.Dedup;
using Tuwen.Corpus.Images;
using Tuwen.Corpus.Pipeline;
using Tuwen.Tests.Corpus.Web;

namespace Tuwen.Tests.Corpus.Build;

public sealed class ImageProcessorTests
{
    private static (ProcessedImage? Image, string? Reason) Process(byte[] data, CorpusBuildOptions? options = null)
        => new ImageProcessor(options ?? new CorpusBuildOptions()).Process(data);

    [Theory]
    [InlineData(ResizeMode.Border, 640, 400, 256, 256)]
    [InlineData(ResizeMode.CenterCrop, 640, 400, 256, 256)]
    [InlineData(ResizeMode.KeepRatio, 640, 400, 410, 256)]
    [InlineData(ResizeMode.KeepRatio, 300, 600, 256, 512)]
    [InlineData(ResizeMode.No, 640, 400, 640, 400)]
    public void Resize_modes_give_img2datasets_sizes(ResizeMode mode, int width, int height, int outWidth, int outHeight)
    {
        var (image, reason) = Process(TestImages.Jpeg(1, width, height), new CorpusBuildOptions { ResizeMode = mode });
        Assert.Null(reason);
        using var decoded = SKBitmap.Decode(image!.Bytes);
        Assert.Equal((outWidth, outHeight), (decoded.Width, decoded.Height));
        Assert.Equal((outWidth, outHeight), (image.Width, image.Height));
        Assert.Equal((width, height), (image.OriginalWidth, image.OriginalHeight));
    }

    [Fact]
    public void No_resize_keeps_the_downloaded_jpeg_bytes()
    {
        var original = TestImages.Jpeg(2, 400, 300);
        Assert.Same(original, Process(original, new CorpusBuildOptions { ResizeMode = ResizeMode.No }).Image!.Bytes);
    }

    [Fact]
    public void Border_mode_pads_with_white_and_transparency_becomes_white()
    {
        var (image, _) = Process(TestImages.Png(3, 600, 300, transparent: true), new CorpusBuildOptions { ImageSize = 64, EncodeFormat = "png" });
        using var decoded = SKBitmap.Decode(image!.Bytes);
        Assert.Equal(SKColors.White, decoded.GetPixel(0, 0));      // border
        Assert.Equal(SKColors.White, decoded.GetPixel(32, 63));    // border below the 64×32 picture
    }

    [Theory]
    [InlineData(199, 400, "image.too_small")]
    [InlineData(200, 600, null)]
    [InlineData(200, 601, "image.aspect_ratio")]
    [InlineData(900, 250, "image.aspect_ratio")]
    public void Wukong_size_and_aspect_rules(int width, int height, string? reason)
        => Assert.Equal(reason, Process(TestImages.Jpeg(4, width, height)).Reason);

    [Fact]
    public void Bombs_are_refused_from_the_header_and_damage_is_corrupt()
    {
        Assert.Equal("image.too_many_pixels", Process(TestImages.PngClaiming(40000, 40000)).Reason);
        var jpeg = TestImages.Jpeg(5, 400, 300);
        Assert.Equal("image.corrupt", Process(jpeg[..(jpeg.Length / 2)]).Reason);
        Assert.Equal("image.corrupt", Process([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).Reason);
        Assert.Equal("image.corrupt", Process("<html></html>"u8.ToArray()).Reason);
    }

    [Fact]
    public void Difference_hash_sees_through_reencoding_and_resizing_but_not_other_pictures()
    {
        var a = Process(TestImages.Jpeg(6, 640, 480)).Image!;
        var sameLowQuality = Process(TestImages.Jpeg(6, 640, 480, quality: 40)).Image!;
        var sameSmaller = Process(TestImages.Jpeg(6, 320, 240)).Image!;
        Assert.True(DifferenceHash.Distance(a.DHash, sameLowQuality.DHash) <= 3);
        Assert.True(DifferenceHash.Distance(a.DHash, sameSmaller.DHash) <= 3);
        Assert.NotEqual(a.Sha256, sameLowQuality.Sha256);
        var others = Enumerable.Range(100, 30).Select(id => Process(TestImages.Jpeg(id, 640, 480)).Image!.DHash).ToList();
        Assert.All(others, h => Assert.True(DifferenceHash.Distance(a.DHash, h) > 8));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    public void Perceptual_index_finds_exactly_what_brute_force_finds(int threshold)
    {
        var random = new Random(threshold);
        var index = new PerceptualIndex(threshold);
        var stored = new List<ulong>();
        for (var i = 0; i < 300; i++)
        {
            var hash = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 40);
            stored.Add(hash);
            index.Add(hash);
        }
        for (var q = 0; q < 600; q++)
        {
            var query = stored[random.Next(stored.Count)];
            for (var flips = random.Next(0, threshold + 3); flips > 0; flips--) query ^= 1UL << random.Next(64);
            if (q % 3 == 0) query = (ulong)random.NextInt64();
            var expected = stored.Any(s => DifferenceHash.Distance(s, query) <= threshold);
            Assert.Equal(expected, index.ContainsNear(query));
        }
    }
}
