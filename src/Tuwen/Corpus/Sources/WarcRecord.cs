using System.IO.Compression;
using System.Text;

namespace Tuwen.Corpus.Sources;

/// <summary>One WARC record: its named header fields and its content block.</summary>
internal sealed class WarcRecord
{
    private WarcRecord(Dictionary<string, string> fields, byte[] block)
    {
        Fields = fields;
        Block = block;
    }

    public Dictionary<string, string> Fields { get; }
    public byte[] Block { get; }

    public string? Type => Fields.GetValueOrDefault("WARC-Type");
    public string? TargetUri => Fields.GetValueOrDefault("WARC-Target-URI")?.Trim('<', '>');

    /// <summary>The next record, or null at a clean end of input; <see cref="InvalidDataException"/> on damage.</summary>
    public static WarcRecord? ReadNext(Stream input, int maxBlockBytes)
    {
        string? version;
        do
        {
            version = ReadLine(input);
            if (version is null) return null;
        } while (version.Length == 0);
        if (!version.StartsWith("WARC/1.", StringComparison.Ordinal)) throw new InvalidDataException($"not a WARC record header: {Shorten(version)}");
        var fields = ReadHeaderFields(input);
        if (!long.TryParse(fields.GetValueOrDefault("Content-Length"), out var length) || length < 0)
            throw new InvalidDataException("WARC record without a valid Content-Length");
        if (length > maxBlockBytes) throw new InvalidDataException($"WARC record of {length} bytes");
        var block = new byte[length];
        input.ReadExactly(block);
        return new WarcRecord(fields, block);
    }

    /// <summary>True for a response record whose HTTP payload is HTML; the body comes de-chunked and decompressed.</summary>
    public bool IsHtmlResponse(out byte[] body, out string? charset)
    {
        body = [];
        charset = null;
        if (Type != "response") return false;
        if (!(Fields.GetValueOrDefault("Content-Type") ?? "").StartsWith("application/http", StringComparison.OrdinalIgnoreCase)) return false;
        using var http = new MemoryStream(Block, writable: false);
        var status = ReadLine(http);
        if (status is null || !status.StartsWith("HTTP/", StringComparison.Ordinal)) return false;
        var parts = status.Split(' ', 3);
        if (parts.Length < 2 || parts[1] != "200") return false;
        var headers = ReadHeaderFields(http);
        var contentType = headers.GetValueOrDefault("Content-Type") ?? "";
        if (!(contentType.Contains("text/html", StringComparison.OrdinalIgnoreCase) || contentType.Contains("xhtml", StringComparison.OrdinalIgnoreCase)))
            return false;
        charset = CharsetOf(contentType);
        var payload = Block.AsSpan((int)http.Position).ToArray();
        try
        {
            if (headers.GetValueOrDefault("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true) payload = Dechunk(payload);
            payload = Decompress(payload, headers.GetValueOrDefault("Content-Encoding"));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException)
        {
            return false;
        }
        body = payload;
        return true;
    }

    private static string? CharsetOf(string contentType)
    {
        foreach (var part in contentType.Split(';'))
        {
            var kv = part.Trim();
            if (kv.StartsWith("charset=", StringComparison.OrdinalIgnoreCase)) return kv[8..].Trim('"', '\'', ' ');
        }
        return null;
    }

    private static byte[] Dechunk(byte[] payload)
    {
        using var input = new MemoryStream(payload, writable: false);
        using var output = new MemoryStream();
        while (ReadLine(input) is { } sizeLine)
        {
            var hex = sizeLine.Split(';')[0].Trim();
            if (hex.Length == 0) continue;
            var size = Convert.ToInt32(hex, 16);
            if (size == 0) break;
            var chunk = new byte[Math.Min(size, (int)(input.Length - input.Position))];
            input.ReadExactly(chunk);
            output.Write(chunk);
        }
        return output.ToArray();
    }

    private static byte[] Decompress(byte[] payload, string? encoding)
    {
        Stream? decoder = encoding?.Trim().ToLowerInvariant() switch
        {
            "gzip" or "x-gzip" => new GZipStream(new MemoryStream(payload), CompressionMode.Decompress),
            "deflate" => new ZLibStream(new MemoryStream(payload), CompressionMode.Decompress),
            "br" => new BrotliStream(new MemoryStream(payload), CompressionMode.Decompress),
            _ => null,
        };
        if (decoder is null) return payload;
        using (decoder)
        {
            using var output = new MemoryStream();
            decoder.CopyTo(output);
            return output.ToArray();
        }
    }

    private static Dictionary<string, string> ReadHeaderFields(Stream input)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (ReadLine(input) is { Length: > 0 } line)
        {
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            fields[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        return fields;
    }

    /// <summary>A CRLF- or LF-terminated line as Latin-1 (header bytes are ASCII), null at end of input.</summary>
    private static string? ReadLine(Stream input)
    {
        var bytes = new List<byte>(128);
        int b;
        while ((b = input.ReadByte()) >= 0)
        {
            if (b == '\n') break;
            if (bytes.Count > 64 * 1024) throw new InvalidDataException("header line too long");
            bytes.Add((byte)b);
        }
        if (b < 0 && bytes.Count == 0) return null;
        if (bytes.Count > 0 && bytes[^1] == '\r') bytes.RemoveAt(bytes.Count - 1);
        return Encoding.Latin1.GetString(bytes.ToArray());
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
