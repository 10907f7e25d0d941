using System.Text.Json.Nodes;
using SkiaSharp;
using Tuwen.Data;

namespace Tuwen.Tests.Data;

/// <summary>A directory under the system temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tuwen-data-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Images and datasets generated inside the tests.</summary>
public static class DataFixtures
{
    public static byte[] SolidPng(int width, int height, SKColor color)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(color);
        return Encode(bitmap, SKEncodedImageFormat.Png);
    }

    /// <summary>Pixels computed by <paramref name="color"/>(x, y): gradients make crops and mirrors visible.</summary>
    public static byte[] Png(int width, int height, Func<int, int, SKColor> color)
        => Encode(Bitmap(width, height, color), SKEncodedImageFormat.Png);

    public static byte[] Jpeg(int width, int height, Func<int, int, SKColor> color, int quality = 95)
        => Encode(Bitmap(width, height, color), SKEncodedImageFormat.Jpeg, quality);

    public static SKBitmap Bitmap(int width, int height, Func<int, int, SKColor> color)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                bitmap.SetPixel(x, y, color(x, y));
        return bitmap;
    }

    public static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality = 100)
    {
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    /// <summary>Sample i: gradient in red/green, i in blue (identifies it after any crop), three CJK captions.</summary>
    public static Sample NumberedSample(int i, int size = 32)
    {
        var image = Png(size, size, (x, y) => new SKColor((byte)(x * 255 / (size - 1)), (byte)(y * 255 / (size - 1)), (byte)(i % 256)));
        var captions = new[] { $"第{i}张图片：一只猫", $"样本{i}的第二个描述", $"样本{i}，第三句" };
        return Sample.Create($"sample{i:D5}", image, "png", captions, new JsonObject { ["index"] = i, ["风格"] = "测试" });
    }

    /// <summary>Writes samples 0..count-1 (the ones in <paramref name="corrupt"/> with undecodable image bytes).</summary>
    public static string WriteNumberedDataset(string directory, int count, int samplesPerShard, params int[] corrupt)
    {
        using var writer = new ShardWriter(directory, "numbered", samplesPerShard);
        for (var i = 0; i < count; i++)
        {
            var sample = NumberedSample(i);
            writer.Write(corrupt.Contains(i) ? sample with { Image = "this is not a png"u8.ToArray() } : sample);
        }
        return directory;
    }

    /// <summary>Token ids that name the sample and caption, so a batch row can be checked against its key.</summary>
    public static long[] EncodeCaption(string caption)
    {
        var digits = new string([.. caption.Where(char.IsAsciiDigit)]);
        var which = caption.Contains("第二") ? 1 : caption.Contains("第三") ? 2 : 0;
        return [101, long.Parse(digits), which, caption.Length, 102];
    }
}
