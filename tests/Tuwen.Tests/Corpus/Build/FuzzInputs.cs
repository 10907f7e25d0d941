using System.Text;
using SkiaSharp;
using Tuwen.Tests.Corpus.Web;

namespace Tuwen.Tests.Corpus.Build;

/// <summary>Malformed inputs made by mutating valid ones: images, HTML pages, WARC files and UTF-8 captions.</summary>
public sealed class FuzzInputs(int seed)
{
    private readonly Random _random = new(seed);
    private readonly byte[][] _images = [TestImages.Jpeg(1, 320, 240), TestImages.Png(2, 300, 220, transparent: true), Webp(), TestImages.Jpeg(3, 240, 240, quality: 30)];

    private static byte[] Webp()
    {
        using var bitmap = SKBitmap.Decode(TestImages.Png(4, 260, 260));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Webp, 80);
        return data.ToArray();
    }

    public byte[] Image()
    {
        var source = _images[_random.Next(_images.Length)];
        return Mutate(source, headerBytes: 64);
    }

    /// <summary>One of: bit flips, a cut, an inserted or deleted run, a damaged header, noise behind a valid magic, nothing.</summary>
    public byte[] Mutate(byte[] source, int headerBytes)
    {
        var data = (byte[])source.Clone();
        switch (_random.Next(7))
        {
            case 0:
                for (var n = _random.Next(1, 30); n > 0; n--) data[_random.Next(data.Length)] ^= (byte)(1 << _random.Next(8));
                return data;
            case 1:
                return data[.._random.Next(0, data.Length)];
            case 2:
            {
                var at = _random.Next(data.Length);
                var junk = new byte[_random.Next(1, 500)];
                _random.NextBytes(junk);
                return [.. data[..at], .. junk, .. data[at..]];
            }
            case 3:
            {
                var at = _random.Next(data.Length);
                return [.. data[..at], .. data[Math.Min(data.Length, at + _random.Next(1, 2000))..]];
            }
            case 4:
                for (var n = _random.Next(1, 8); n > 0; n--) data[_random.Next(Math.Min(headerBytes, data.Length))] = (byte)_random.Next(256);
                return data;
            case 5:
            {
                var noise = new byte[_random.Next(16, 5000)];
                _random.NextBytes(noise);
                data.AsSpan(0, Math.Min(12, data.Length)).CopyTo(noise);
                return noise;
            }
            default:
                return _random.Next(2) == 0 ? [] : data;
        }
    }

    /// <summary>Caption bytes: Chinese text with invalid UTF-8 (lone continuation bytes, overlong forms, encoded surrogates, 0xFF) mixed in.</summary>
    public byte[] CaptionBytes()
    {
        var text = new StringBuilder();
        for (var n = _random.Next(0, 20); n > 0; n--) text.Append((char)_random.Next(0x4E00, 0x9FA5));
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(text.ToString()));
        byte[][] bad = [[0xFF], [0x80], [0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE4, 0xB8], [0x00], [0x1B]];
        for (var n = _random.Next(1, 6); n > 0; n--) bytes.InsertRange(_random.Next(bytes.Count + 1), bad[_random.Next(bad.Length)]);
        // Tabs and line breaks would change the TSV's shape rather than the caption.
        return [.. bytes.Where(b => b is not ((byte)'\t' or (byte)'\n' or (byte)'\r'))];
    }

    public string Html(string baseUrl, int firstImage, int images)
    {
        var body = new StringBuilder();
        for (var i = 0; i < images; i++)
        {
            body.Append(_random.Next(4) switch
            {
                0 => $"<p>说明文字{i}<img src=\"/fuzz/{firstImage + i}\" alt=\"图片{firstImage + i}\"></p>",
                1 => $"<figure><img src=\"/fuzz/{firstImage + i}\"><figcaption>标题{firstImage + i}</figcaption></figure>",
                2 => $"<div><span><img src='fuzz/{firstImage + i}' title=图{firstImage + i}></span>旁边的字</div>",
                _ => $"<table><tr><td><img src=/fuzz/{firstImage + i}>",
            });
        }
        var bytes = Encoding.UTF8.GetBytes(body.ToString());
        var mutated = Mutate(bytes, headerBytes: bytes.Length);
        // The head stays intact so that relative links resolve to the loopback server and nowhere else.
        return $"<html><head><meta charset=utf-8><link rel=canonical href=\"{baseUrl}/pages/x.html\"><title>页面</title></head><body>"
            + Encoding.UTF8.GetString(mutated);
    }
}
