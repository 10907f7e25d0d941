using System.Text;
using Tuwen.Corpus.Images;
using Tuwen.Corpus.Pipeline;
using Tuwen.Corpus.Sources;
using Tuwen.Corpus.Text;
using Tuwen.Data;
using Tuwen.Tests.Cli;
using Tuwen.Tests.Corpus.Web;

namespace Tuwen.Tests.Corpus.Build;

/// <summary>Malformed input of every kind goes through the pipeline: nothing crashes, every candidate is kept or counted.</summary>
public sealed class FuzzTests
{
    private const int ImageRows = 4000;
    private const int CaptionRows = 4000;
    private const int Pages = 1000;
    private const int ImagesPerPage = 2;
    private const int Warcs = 20;

    [Fact]
    public async Task Ten_thousand_malformed_inputs_through_the_whole_build()
    {
        var seed = Environment.TickCount;
        var fuzz = new FuzzInputs(seed);
        await using var server = await LoopbackServer.StartAsync();
        using var dir = new TempDir();
        var bodies = Enumerable.Range(0, ImageRows + Pages * ImagesPerPage).Select(_ => fuzz.Image()).ToArray();
        server.FuzzBody = id => id < bodies.Length ? bodies[id] : null;

        using (var tsv = File.Create(dir.File("fuzz.tsv")))
        {
            tsv.Write("url\tcaption\n"u8);
            for (var i = 0; i < ImageRows + CaptionRows; i++)
            {
                // Image rows carry a good caption half the time, so that damaged images reach the image stage.
                var url = i < ImageRows ? server.Url($"/fuzz/{i}") : server.Url($"/img/{i}.jpg");
                tsv.Write(Encoding.UTF8.GetBytes(url + "\t"));
                tsv.Write(i < ImageRows && i % 2 == 0 ? Encoding.UTF8.GetBytes($"第{i}张测试图片") : fuzz.CaptionBytes());
                tsv.Write("\n"u8);
            }
        }
        var pages = Directory.CreateDirectory(dir.File("pages")).FullName;
        for (var p = 0; p < Pages; p++)
            File.WriteAllText(Path.Combine(pages, $"p{p:D4}.html"), fuzz.Html(server.BaseUrl, ImageRows + p * ImagesPerPage, ImagesPerPage));
        var warcs = Directory.CreateDirectory(dir.File("warcs")).FullName;
        for (var w = 0; w < Warcs; w++)
        {
            var valid = WarcWriter.RecordBytes(WarcWriter.Html(server.Url($"/w/{w}.html"), $"<img src='/img/{w}.jpg' alt='网页存档图片{w}'>"));
            File.WriteAllBytes(Path.Combine(warcs, $"w{w:D2}.warc"), fuzz.Mutate([.. valid, .. valid], headerBytes: 200));
        }

        var output = dir.File("out");
        var run = CliRunner.Run("corpus", "build", dir.File("fuzz.tsv"), pages, warcs, "--out", output, "--allow-private-network",
            "--timeout", "2", "--retries", "0", "--unit-size", "1000", "--image-size", "32", "--no-dedup-perceptual", "--max-caption-repeats", "0");
        Assert.True(run.ExitCode == 0, $"seed {seed}: {run.Err}");

        var stats = DatasetStats.Read(output);
        var candidates = (long)stats.Extra["candidates"]!;
        var dropped = stats.Extra["dropped"]!.AsObject();
        var droppedTotal = dropped.Sum(kv => (long)kv.Value!);
        // Malformed inputs: every image body, the bad captions (all caption rows, half the image rows), every page and WARC.
        Assert.True(ImageRows + CaptionRows + ImageRows / 2 + Pages + Warcs >= 10_000);
        Assert.True(candidates >= ImageRows + CaptionRows + Pages / 2, $"seed {seed}: {candidates} candidates");
        Assert.Equal(candidates, stats.Samples + droppedTotal);
        Assert.DoesNotContain("unknown", dropped.Select(kv => kv.Key));
        foreach (var reason in new[] { "image.corrupt", "download.not_an_image", "text.too_short" })
            Assert.True(dropped.ContainsKey(reason), $"seed {seed}: no {reason} in {dropped.ToJsonString()}");
        Assert.True(stats.Samples > 1000, $"seed {seed}: only {stats.Samples} kept");
        // What was kept is clean: decodable images, captions that are valid text.
        foreach (var sample in ShardReader.Read(ShardReader.FindShards(output)))
        {
            Assert.DoesNotContain('\uFFFD', sample.Captions[0]);
            Assert.DoesNotContain(sample.Captions[0], char.IsControl);
            new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(sample.Captions[0]);   // no lone surrogates
            using var bitmap = SkiaSharp.SKBitmap.Decode(sample.Image);
            Assert.Equal((32, 32), (bitmap.Width, bitmap.Height));
        }
    }

    [Fact]
    public void Mutated_images_html_and_captions_never_throw_from_the_stages()
    {
        var fuzz = new FuzzInputs(12345);
        var images = new ImageProcessor(new CorpusBuildOptions { MinSide = 10, ImageSize = 32 });
        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < 3000; i++)
        {
            var (image, reason) = images.Process(fuzz.Image());
            var key = reason ?? "kept";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            Assert.True(image is not null ^ reason is not null);
        }
        Assert.True(outcomes.GetValueOrDefault("image.corrupt") > 300 && outcomes.GetValueOrDefault("kept") > 100, string.Join(", ", outcomes));

        var texts = new TextPipeline(new CorpusBuildOptions(), null);
        var utf8 = new UTF8Encoding(false, false);
        for (var i = 0; i < 3000; i++)
        {
            var caption = utf8.GetString(fuzz.CaptionBytes());
            var (chosen, reason) = texts.Choose(new CandidateTexts(Caption: caption, Nearby: caption));
            Assert.True(chosen is not null ^ reason is not null);
            if (chosen is not null) Assert.Equal(chosen.Text, utf8.GetString(utf8.GetBytes(chosen.Text)));   // round-trips as UTF-8
        }

        for (var i = 0; i < 1000; i++)
        {
            var items = HtmlImageExtractor.Extract(fuzz.Html("http://127.0.0.1:1", i * 3, 3), null, "fuzz.html");
            Assert.All(items, item => Assert.True(item.Error is not null || item.Url.StartsWith("http")));
        }
    }
}
