using System.IO.Compression;
using System.Text;
using Parquet.Serialization;
using Tuwen.Corpus.Sources;

namespace Tuwen.Tests.Corpus.Build;

public sealed class SourceTests
{
    private static List<SourceItem> ReadAll(params string[] inputs)
        => new SourceSet(inputs).Enumerate().Select(c => c.Item).ToList();

    [Fact]
    public async Task Url_lists_in_every_format_read_the_same_rows()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a.tsv"), "caption\turl\textra\n白色的猫\thttp://x.test/1.jpg\t1\n\t\t\n黑色的狗\thttp://x.test/2.jpg\t2\n");
        File.WriteAllText(dir.File("b.csv"), "url,caption\nhttp://x.test/3.jpg,\"红色的, \"\"苹果\"\"\n第二行\"\n,无链接\n");
        File.WriteAllText(dir.File("c.jsonl"), "{\"url\":\"http://x.test/4.jpg\",\"caption\":\"蓝天\"}\n{broken\n[1,2]\n{\"caption\":\"无链接\"}\n");
        using (var gz = new GZipStream(File.Create(dir.File("d.txt.gz")), CompressionLevel.Fastest)) gz.Write("http://x.test/5.jpg\n\nhttp://x.test/6.jpg\n"u8);
        await using (var parquet = File.Create(dir.File("e.parquet")))
            await ParquetSerializer.SerializeAsync(new[] { new UrlRow { url = "http://x.test/7.jpg", caption = "绿树" }, new UrlRow { url = null, caption = "无" } }, parquet);
        var items = ReadAll(dir.Path);
        Assert.Equal(
            ["http://x.test/1.jpg", "", "http://x.test/2.jpg", "http://x.test/3.jpg", "", "http://x.test/4.jpg", "", "", "",
             "http://x.test/5.jpg", "http://x.test/6.jpg", "http://x.test/7.jpg", ""],
            items.Select(i => i.Url));
        Assert.Equal("红色的, \"苹果\"\n第二行", items[3].Texts.Caption);
        Assert.Equal(["source.no_url", "source.no_url", "source.bad_row", "source.bad_row", "source.no_url", "source.no_url"], items.Where(i => i.Error is not null).Select(i => i.Error!));
        Assert.Equal("绿树", items[11].Texts.Caption);
    }

    public sealed class UrlRow
    {
        public string? url { get; set; }
        public string? caption { get; set; }
    }

    [Fact]
    public void Missing_url_column_is_a_user_error()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a.tsv"), "link\ttext\nhttp://x.test/1.jpg\t猫\n");
        var error = Assert.Throws<TuwenException>(() => ReadAll(dir.File("a.tsv")));
        Assert.Contains("url", error.Message);
        Assert.Single(new SourceSet([dir.File("a.tsv")], urlColumn: "link", captionColumn: "text").Enumerate());
    }

    private const string Page = """
        <html><head><title>杭州 西湖 旅游</title><link rel="canonical" href="http://site.test/travel/hz.html"></head><body>
        <article><p>西湖的春天很美。<img src="img/spring.jpg" alt="春天的西湖" title="西湖春色"></p>
        <figure><img src="/img/bridge.jpg"><figcaption>断桥残雪</figcaption></figure>
        <div><span><img data-src="http://cdn.test/lazy.jpg"></span>湖边的柳树</div>
        <img src="data:image/png;base64,AAAA"><img src="javascript:void(0)"><img><img srcset="/s/a.jpg 1x, /s/b.jpg 2x" alt="响应式图片"></article></body></html>
        """;

    [Fact]
    public void Html_images_come_with_their_texts_kept_apart()
    {
        var items = HtmlImageExtractor.Extract(Page, null, "page.html");
        Assert.Equal(5, items.Count);
        var (spring, bridge, lazy, bad) = (items[0], items[1], items[2], items[3]);
        Assert.Equal("http://site.test/s/a.jpg", items[4].Url);
        Assert.Equal("http://site.test/travel/img/spring.jpg", spring.Url);
        Assert.Equal(new CandidateTexts(Alt: "春天的西湖", Title: "西湖春色", Nearby: "西湖的春天很美。", PageTitle: "杭州 西湖 旅游"), spring.Texts);
        Assert.Equal("http://site.test/img/bridge.jpg", bridge.Url);
        Assert.Equal("断桥残雪", bridge.Texts.FigureCaption);
        Assert.Equal("http://cdn.test/lazy.jpg", lazy.Url);
        Assert.Equal("湖边的柳树", lazy.Texts.Nearby);
        Assert.Equal("source.bad_url", bad.Error);   // javascript: is no image; data: and src-less images are not candidates
    }

    [Fact]
    public void Saved_pages_take_their_address_from_the_browsers_saved_from_mark()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("saved.html"), "<!DOCTYPE html>\n<!-- saved from url=(0032)https://news.test/2024/a.html -->\n<html><body><img src='p/1.jpg' alt='新闻图片'></body></html>");
        var item = Assert.Single(ReadAll(dir.File("saved.html")));
        Assert.Equal("https://news.test/2024/p/1.jpg", item.Url);
        Assert.Equal("https://news.test/2024/a.html", item.PageUrl);
    }

    [Fact]
    public void Relative_images_without_any_base_are_counted()
    {
        var items = HtmlImageExtractor.Extract("<html><body><img src='a.jpg' alt='猫'><img src='http://x.test/b.jpg'><base href='/x/'></body></html>", null, "p.html");
        Assert.Equal(["source.relative_url_without_base", null], items.Select(i => i.Error));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Warc_response_records_with_html_become_candidates(bool gzip)
    {
        using var dir = new TempDir();
        var gbk = CodePagesEncoding("gbk");
        var chunked = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n";
        var body = "<html><body><img src='/c.jpg' alt='分块传输'></body></html>";
        var chunkedBody = $"{Encoding.UTF8.GetByteCount(body):x}\r\n{body}\r\n0\r\n\r\n";
        var path = dir.File(gzip ? "crawl.warc.gz" : "crawl.warc");
        WarcWriter.Write(path, [
            new WarcWriter.Record("warcinfo", "", "", "software: test\r\n"u8.ToArray()),
            WarcWriter.Html("http://a.test/dir/page.html", Page.Replace("<link rel=\"canonical\" href=\"http://site.test/travel/hz.html\">", "")),
            WarcWriter.Html("http://b.test/gbk.html", "<html><head><title>中文编码</title></head><body><img src='x.jpg' alt='国标编码的猫'></body></html>", "text/html; charset=gbk", gbk),
            new WarcWriter.Record("response", "http://c.test/", chunked, Encoding.UTF8.GetBytes(chunkedBody), "WARC/1.1"),
            new WarcWriter.Record("response", "http://d.test/a.jpg", "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n", [0xFF, 0xD8, 0xFF]),
            new WarcWriter.Record("response", "http://e.test/", "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n", "<img src='/x.jpg' alt='不存在'>"u8.ToArray()),
        ], gzip);
        var items = ReadAll(path);
        Assert.Equal(["http://a.test/dir/img/spring.jpg", "http://a.test/img/bridge.jpg", "http://cdn.test/lazy.jpg", "", "http://a.test/s/a.jpg", "http://b.test/x.jpg", "http://c.test/c.jpg"],
            items.Select(i => i.Url));
        Assert.Equal("国标编码的猫", items[5].Texts.Alt);
        Assert.Equal("中文编码", items[5].Texts.PageTitle);
        Assert.Equal("http://a.test/dir/page.html", items[0].PageUrl);
        Assert.Equal("分块传输", items[6].Texts.Alt);
    }

    [Fact]
    public void A_damaged_warc_keeps_the_records_before_the_damage_and_counts_it()
    {
        using var dir = new TempDir();
        var good = WarcWriter.RecordBytes(WarcWriter.Html("http://a.test/", "<img src='/1.jpg' alt='第一张'>"));
        var second = WarcWriter.RecordBytes(WarcWriter.Html("http://a.test/2", "<img src='/2.jpg' alt='第二张'>"));
        File.WriteAllBytes(dir.File("cut.warc"), [.. good, .. second[..(second.Length / 2)]]);
        File.WriteAllBytes(dir.File("junk.warc"), "this is not a warc file\r\n\r\n"u8.ToArray());
        var items = ReadAll(dir.File("cut.warc"), dir.File("junk.warc"));
        Assert.Equal(["http://a.test/1.jpg", ""], items.Take(2).Select(i => i.Url));
        Assert.Equal(["source.damaged_warc", "source.damaged_warc"], items.Where(i => i.Error is not null).Select(i => i.Error!));
    }

    [Fact]
    public void Numbering_is_the_same_on_every_enumeration_and_inputs_are_fingerprinted()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("b.txt"), "http://x.test/b\n");
        File.WriteAllText(dir.File("a.txt"), "http://x.test/a\n");
        var set = new SourceSet([dir.Path]);
        Assert.Equal(["http://x.test/a", "http://x.test/b"], set.Enumerate().Select(c => c.Url));
        Assert.Equal([0L, 1L], set.Enumerate().Select(c => c.Index));
        var before = set.Fingerprint();
        File.AppendAllText(dir.File("b.txt"), "http://x.test/c\n");
        Assert.NotEqual(before, new SourceSet([dir.Path]).Fingerprint());
        Assert.Throws<TuwenException>(() => new SourceSet([dir.File("missing.tsv")]));
        File.WriteAllText(dir.File("notes.md"), "x");
        Assert.Throws<TuwenException>(() => new SourceSet([dir.File("notes.md")]));
    }

    private static Encoding CodePagesEncoding(string name)
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return Encoding.GetEncoding(name);
    }
}
