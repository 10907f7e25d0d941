using System.IO.Compression;
using System.Text;

namespace Tuwen.Tests.Corpus.Build;

/// <summary>Writes small WARC files for tests: response records, each gzipped on its own (as Common Crawl does) or plain.</summary>
public static class WarcWriter
{
    public sealed record Record(string Type, string Uri, string HttpHeaders, byte[] Body, string Version = "WARC/1.0");

    public static Record Html(string uri, string html, string contentType = "text/html; charset=utf-8", Encoding? encoding = null)
        => new("response", uri, $"HTTP/1.1 200 OK\r\nContent-Type: {contentType}\r\n", (encoding ?? Encoding.UTF8).GetBytes(html));

    public static byte[] RecordBytes(Record record)
    {
        var http = new MemoryStream();
        var header = record.Type == "response" ? record.HttpHeaders + $"Content-Length: {record.Body.Length}\r\n\r\n" : "";
        http.Write(Encoding.ASCII.GetBytes(header));
        http.Write(record.Body);
        var block = http.ToArray();
        var contentType = record.Type == "response" ? "application/http; msgtype=response" : "application/warc-fields";
        var warcHeader = $"{record.Version}\r\nWARC-Type: {record.Type}\r\nWARC-Target-URI: {record.Uri}\r\nWARC-Record-ID: <urn:uuid:{Guid.NewGuid()}>\r\n"
            + $"Content-Type: {contentType}\r\nContent-Length: {block.Length}\r\n\r\n";
        var output = new MemoryStream();
        output.Write(Encoding.UTF8.GetBytes(warcHeader));
        output.Write(block);
        output.Write("\r\n\r\n"u8);
        return output.ToArray();
    }

    public static void Write(string path, IEnumerable<Record> records, bool gzipPerRecord)
    {
        using var file = File.Create(path);
        foreach (var record in records)
        {
            var bytes = RecordBytes(record);
            if (!gzipPerRecord) { file.Write(bytes); continue; }
            using var member = new MemoryStream();
            using (var gzip = new GZipStream(member, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(bytes);
            file.Write(member.ToArray());
        }
    }
}
