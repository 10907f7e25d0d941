using System.Collections.Concurrent;
using SkiaSharp;

namespace Tuwen.Tests.Corpus.Web;

/// <summary>
/// Generated test images: random coloured rectangles seeded by an id, so different ids are visually (and
/// perceptually) different while the same id always gives the same bytes.
/// </summary>
public static class TestImages
{
    private static readonly ConcurrentDictionary<(int, int, int, string, int), byte[]> Cache = new();

    public static byte[] Jpeg(int id, int width = 320, int height = 240, int quality = 90) => Get(id, width, height, "jpg", quality);

    public static byte[] Png(int id, int width = 320, int height = 240, bool transparent = false) => Get(id, width, height, transparent ? "png-alpha" : "png", 100);

    private static byte[] Get(int id, int width, int height, string format, int quality)
        => Cache.GetOrAdd((id, width, height, format, quality), _ => Render(id, width, height, format, quality));

    private static byte[] Render(int id, int width, int height, string format, int quality)
    {
        var random = new Random(id * 7919 + 17);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(format == "png-alpha" ? SKColors.Transparent : RandomColor(random));
            using var paint = new SKPaint { IsAntialias = false };
            for (var i = 0; i < 12; i++)
            {
                paint.Color = RandomColor(random);
                var w = random.Next(width / 6, width / 2);
                var h = random.Next(height / 6, height / 2);
                canvas.DrawRect(random.Next(0, width - w), random.Next(0, height - h), w, h, paint);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = format.StartsWith("png") ? image.Encode(SKEncodedImageFormat.Png, 100) : image.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

    private static SKColor RandomColor(Random random) => new((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));

    /// <summary>A PNG whose header claims <paramref name="width"/>×<paramref name="height"/> with almost no data: a decompression bomb's shape.</summary>
    public static byte[] PngClaiming(int width, int height)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;   // bit depth
        ihdr[9] = 2;   // RGB
        Chunk(stream, "IHDR", ihdr);
        Chunk(stream, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(stream, "IEND", []);
        return stream.ToArray();
    }

    private static void Chunk(Stream stream, string type, byte[] data)
    {
        var header = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(header, 4);
        stream.Write(header);
        stream.Write(data);
        var crc = Crc32(header.AsSpan(4).ToArray().Concat(data).ToArray());
        var crcBytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        stream.Write(crcBytes);
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
