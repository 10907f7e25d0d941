using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Tuwen.Corpus.Output;
using Tuwen.Corpus.Pipeline;
using Tuwen.Data;
using Tuwen.Tests.Corpus.Web;

namespace Tuwen.Tests.Corpus.Build;

/// <summary>
/// Test inputs that point at a <see cref="LoopbackServer"/>: a TSV of URLs with captions covering every drop
/// reason, a saved HTML page and a WARC file, with the counts they must produce; and ways to run the build
/// in-process or as a child process of the real CLI.
/// </summary>
public static class WebCorpus
{
    /// <summary>Writes the inputs into <paramref name="dir"/> and returns their paths.</summary>
    public static string[] WriteMixed(LoopbackServer server, string dir)
    {
        string U(string path) => server.Url(path);
        var rows = new List<(string Url, string Caption)>();
        for (var i = 1; i <= 20; i++) rows.Add((U($"/img/{i}.jpg?w=400&h=300"), $"第{i}张风景照片"));
        rows.Add((U("/img/1.jpg?w=400&h=300"), "第一张照片的另一个说明"));   // same bytes, other caption: dedup.exact
        rows.Add((U("/img/1.jpg?w=400&h=300"), "第1张风景照片"));            // same bytes, same caption: dedup.pair
        rows.Add((U("/near/2.jpg?w=400&h=300"), "第二张照片的低质量版本"));     // re-encoded copy: dedup.perceptual
        rows.Add((U("/status/404"), "不存在的图片"));
        rows.Add((U("/private/3.jpg"), "机器人协议禁止的图片"));
        rows.Add((U("/small/4.jpg"), "太小的图片"));
        rows.Add((U("/wide/5.jpg"), "太宽的横幅图片"));
        rows.Add((U("/truncated/6.jpg"), "被截断的图片"));
        rows.Add((U("/html/7.jpg"), "其实是网页的图片"));
        rows.Add((U("/flaky/40.jpg"), "第一次失败的图片"));
        rows.Add((U("/bomb.png"), "解压炸弹图片"));
        rows.Add((U("/img/9.jpg?w=300&h=300"), "english only caption"));
        rows.Add((U("/loop/a"), "重定向循环的图片"));
        rows.Add((U("/reset/1"), "连接被重置的图片"));
        rows.Add((U("/redirect/2/30.jpg"), "经过两次重定向的图片"));
        rows.Add((U("/wrongtype/31.jpg"), "类型标错的图片"));
        rows.Add(("", "没有链接的行"));
        for (var k = 0; k < 12; k++) rows.Add((U($"/img/{100 + k}.jpg"), "点击查看大图"));
        var tsv = Path.Combine(dir, "urls.tsv");
        File.WriteAllText(tsv, "url\tcaption\n" + string.Concat(rows.Select(r => $"{r.Url}\t{r.Caption}\n")));

        var pages = Path.Combine(dir, "pages");
        Directory.CreateDirectory(pages);
        File.WriteAllText(Path.Combine(pages, "travel.html"), $"""
            <html><head><title>旅游 图片</title><link rel="canonical" href="{U("/travel/index.html")}"></head><body>
            <p><img src="/img/200.jpg" alt="黄山的日出"></p>
            <figure><img src="/img/201.jpg"><figcaption>雨中的西湖</figcaption></figure>
            <div><img src="/img/202.jpg">这是一张没有说明的古镇照片</div>
            <img src="/img/203.jpg" alt="photo">
            </body></html>
            """);
        var warc = Path.Combine(dir, "crawl.warc.gz");
        WarcWriter.Write(warc, [
            WarcWriter.Html(U("/news/a.html"), "<html><head><title>新闻</title></head><body><img src='/img/300.jpg' alt='城市的夜景'><img src='/status/500' alt='服务器出错的图片'></body></html>"),
            WarcWriter.Html(U("/news/b.html"), "<html><body><img src='../img/301.jpg' title='春节的灯笼'><img src='/img/302.jpg' alt='点击查看大图'></body></html>"),
        ], gzipPerRecord: true);
        return [tsv, pages, warc];
    }

    /// <summary>
    /// A larger URL list for restart and worker tests: mostly good images (served after a delay), with exact and
    /// near duplicates of earlier rows placed in other work units (so other workers), 404s and frequent captions.
    /// </summary>
    public static string[] WriteScaled(LoopbackServer server, string dir, int rows, int delayMs)
    {
        var lines = new System.Text.StringBuilder("url\tcaption\n");
        for (var i = 0; i < rows; i++)
        {
            var (path, caption) = (i % 25, i % 31) switch
            {
                (_, 3) => ($"/img/{1000 + i}.jpg", "点击查看大图"),
                (7, _) => ($"/delay/{delayMs}/{i - 7}.jpg?w=300&h=240", $"重复的图片{i}"),
                (13, _) => ($"/near/{i - 13}.jpg?w=300&h=240", $"相似的图片{i}"),
                (19, _) => ("/status/404", $"丢失的图片{i}"),
                _ => ($"/delay/{delayMs}/{i}.jpg?w=300&h=240", $"测试图片{i}号"),
            };
            lines.Append(server.Url(path)).Append('\t').Append(caption).Append('\n');
        }
        var tsv = Path.Combine(dir, "scaled.tsv");
        File.WriteAllText(tsv, lines.ToString());
        return [tsv];
    }

    /// <summary>Candidates the mixed inputs hold, and what must become of them.</summary>
    public const int MixedCandidates = 49 + 4 + 4;

    public static readonly Dictionary<string, long> MixedDrops = new()
    {
        ["dedup.exact"] = 1,
        ["dedup.pair"] = 1,
        ["dedup.perceptual"] = 1,
        ["download.http_404"] = 1,
        ["download.http_500"] = 1,
        ["download.robots"] = 1,
        ["download.not_an_image"] = 1,
        ["download.too_many_redirects"] = 1,
        ["download.connection"] = 1,
        ["image.too_small"] = 1,
        ["image.aspect_ratio"] = 1,
        ["image.corrupt"] = 1,
        ["image.too_many_pixels"] = 1,
        ["text.no_chinese"] = 1,
        ["text.over_frequent"] = 13,
        ["source.no_url"] = 1,
    };

    public static CorpusBuildOptions Options(string[] inputs, string output) => ImageDownloaderTests.TestOptions(output) with
    {
        Inputs = inputs,
        UnitSize = 8,
        SamplesPerShard = 10,
        Concurrency = 8,
        ImageSize = 64,
    };

    public static async Task<MergeResult> BuildInProcessAsync(CorpusBuildOptions options)
    {
        await new CorpusBuilder(options).RunWorkerAsync();
        return CorpusMerger.Run(options.Output);
    }

    public static async Task<List<MetadataRow>> ReadParquetAsync(string path)
    {
        await using var file = File.OpenRead(path);
        return [.. (await Parquet.Serialization.ParquetSerializer.DeserializeAsync<MetadataRow>(file)).Data];
    }

    /// <summary>(key, caption, SHA-256 of the stored image) of every sample in the final shards.</summary>
    public static List<string> Contents(string output)
        => ShardReader.Read(ShardReader.FindShards(output))
            .Select(s => $"{s.Key}|{string.Join("/", s.Captions)}|{Convert.ToHexStringLower(SHA256.HashData(s.Image))}")
            .ToList();

    /// <summary>Command-line flags equal to <see cref="Options"/>.</summary>
    public static List<string> CliArgs(string[] inputs, string output) =>
    [
        "corpus", "build", .. inputs, "--out", output, "--allow-private-network", "--timeout", "1", "--retries", "1", "--retry-delay-ms", "10",
        "--max-bytes", (1 << 20).ToString(), "--max-redirects", "3", "--unit-size", "8", "--shard-size", "10", "--concurrency", "8", "--image-size", "64",
    ];

    public static string CliDll
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (!File.Exists(Path.Combine(dir.FullName, "Tuwen.slnx"))) continue;
                var configuration = AppContext.BaseDirectory.Contains("/Debug/") ? "Debug" : "Release";
                var dll = Path.Combine(dir.FullName, "src", "Tuwen.Cli", "bin", configuration, "net10.0", "Tuwen.Cli.dll");
                return File.Exists(dll) ? dll : throw new FileNotFoundException("build the CLI first", dll);
            }
            throw new DirectoryNotFoundException("repository root not found");
        }
    }

    public static Process StartCli(IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(CliDll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["CI"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = Process.Start(start)!;
        // Drain both pipes so a chatty child never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static async Task<(int Code, string Output)> RunCliAsync(IEnumerable<string> args, IDictionary<string, string>? environment = null, int timeoutSeconds = 120)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(CliDll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["CI"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, new StringBuilder().Append(await stdout).Append(await stderr).ToString());
    }
}
