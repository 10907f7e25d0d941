using System.Text.Json.Nodes;
using Tuwen.Corpus.Output;
using Tuwen.Data;
using Tuwen.Tests.Cli;
using Tuwen.Tests.Corpus.Web;

namespace Tuwen.Tests.Corpus.Build;

public sealed class CorpusBuildTests : IAsyncLifetime
{
    private LoopbackServer _server = null!;
    private TempDir _dir = null!;

    public async Task InitializeAsync()
    {
        _server = await LoopbackServer.StartAsync();
        _dir = new TempDir();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Build_counts_every_drop_by_reason_and_writes_shards_parquet_stats_and_report()
    {
        var inputs = WebCorpus.WriteMixed(_server, _dir.Path);
        var output = _dir.File("out");
        var run = CliRunner.Run([.. WebCorpus.CliArgs(inputs, output)]);
        Assert.True(run.ExitCode == 0, run.Err + run.Out);

        var stats = DatasetStats.Read(output);
        var dropped = stats.Extra["dropped"]!.AsObject().ToDictionary(kv => kv.Key, kv => (long)kv.Value!);
        Assert.Equal(WebCorpus.MixedDrops.OrderBy(kv => kv.Key), dropped.OrderBy(kv => kv.Key));
        var expectedKept = WebCorpus.MixedCandidates - WebCorpus.MixedDrops.Values.Sum();
        Assert.Equal(WebCorpus.MixedCandidates, (long)stats.Extra["candidates"]!);
        Assert.Equal(expectedKept, stats.Samples);
        Assert.Equal(3, stats.Shards.Count);                       // 29 samples, 10 per shard
        Assert.Equal(2, (long)stats.Extra["correlation"]!["weak"]!);  // the page's nearby text and page title

        var samples = ShardReader.Read(ShardReader.FindShards(output)).ToList();
        Assert.Equal(expectedKept, samples.Count);
        Assert.Equal(samples.Select(s => s.Key).Order(StringComparer.Ordinal), samples.Select(s => s.Key));
        Assert.All(samples, s => Assert.Equal("jpg", s.ImageExtension));
        Assert.Contains(samples, s => s.Captions[0] == "这是一张没有说明的古镇照片" && (string?)s.Metadata["correlation"] == "weak" && (string?)s.Metadata["caption_field"] == "nearby");
        Assert.Contains(samples, s => s.Captions[0] == "雨中的西湖" && (string?)s.Metadata["caption_field"] == "figcaption");
        Assert.Contains(samples, s => s.Captions[0] == "春节的灯笼" && ((string?)s.Metadata["page_url"])!.EndsWith("/news/b.html"));
        var first = samples[0];
        Assert.Equal((64, 64, 400, 300), ((int)first.Metadata["width"]!, (int)first.Metadata["height"]!, (int)first.Metadata["original_width"]!, (int)first.Metadata["original_height"]!));

        var parquetRows = new List<MetadataRow>();
        foreach (var shard in stats.Shards)
        {
            var rows = await WebCorpus.ReadParquetAsync(Path.Combine(output, Path.ChangeExtension(shard.File, ".parquet")));
            Assert.Equal(shard.Samples, rows.Count);
            parquetRows.AddRange(rows);
        }
        Assert.Equal(samples.Select(s => s.Key), parquetRows.Select(r => r.Key));
        Assert.All(parquetRows, r => Assert.Equal("success", r.Status));
        Assert.All(parquetRows, r => Assert.Equal(64, r.Sha256!.Length));

        // The units' Parquet keeps every candidate with its status and reason.
        var unitRows = new List<MetadataRow>();
        foreach (var path in Directory.GetFiles(Path.Combine(output, "units"), "*.parquet").Order())
            unitRows.AddRange(await WebCorpus.ReadParquetAsync(path));
        Assert.Equal(WebCorpus.MixedCandidates, unitRows.Count);
        Assert.Equal("download.http_404", unitRows.Single(r => r.Url.EndsWith("/status/404")).Reason);
        Assert.Equal(2, unitRows.Single(r => r.Url.EndsWith("/flaky/40.jpg")).Attempts);

        await using (var file = File.OpenRead(Path.Combine(output, CorpusMerger.DuplicatesFileName)))
        {
            var duplicates = (await Parquet.Serialization.ParquetSerializer.DeserializeAsync<DuplicateRow>(file)).Data;
            Assert.Equal(["dedup.exact", "dedup.pair", "dedup.perceptual"], duplicates.Select(d => d.Reason).Order());
            Assert.All(duplicates, d => Assert.DoesNotContain(d.Key, samples.Select(s => s.Key)));
        }

        var report = File.ReadAllText(Path.Combine(output, "report.html"));
        Assert.Contains("over_frequent", report);
        Assert.Contains("too_many_pixels", report);
        Assert.Equal(Math.Min(CorpusReport.GridSize, samples.Count), report.Split("data:image/jpeg;base64,").Length - 1);
        Assert.Contains("<svg", report);
        Assert.Contains($"{expectedKept} samples", run.Out);
    }

    [Fact]
    public async Task A_second_run_does_nothing_again_and_other_settings_are_refused()
    {
        var inputs = WebCorpus.WriteMixed(_server, _dir.Path);
        var output = _dir.File("out");
        var options = WebCorpus.Options(inputs, output);
        var first = await WebCorpus.BuildInProcessAsync(options);
        var hits = _server.TotalHits;
        var again = await new Tuwen.Corpus.Pipeline.CorpusBuilder(options).RunWorkerAsync();
        Assert.Equal(0, again.UnitsRun);
        Assert.Equal(hits, _server.TotalHits);
        Assert.Equal(first.Samples, CorpusMerger.Run(output).Samples);

        var changed = CliRunner.Run([.. WebCorpus.CliArgs(inputs, output), "--min-side", "100"]);
        Assert.Equal(2, changed.ExitCode);
        Assert.Contains("other settings", changed.Err);
        File.AppendAllText(inputs[0], "http://127.0.0.1:1/x.jpg\t新的一行\n");
        var grown = CliRunner.Run([.. WebCorpus.CliArgs(inputs, output)]);
        Assert.Equal(2, grown.ExitCode);
        Assert.Contains("other inputs", grown.Err);
    }

    [Theory]
    [InlineData("no input given")]
    [InlineData("--resize squash: expected one of no, keep_ratio, center_crop, border", "--resize", "squash")]
    [InlineData("shard index 3 is not in 0..1", "--shard-index", "3", "--shard-count", "2")]
    [InlineData("input not found", "missing.tsv")]
    [InlineData("encode_format must be jpg or png", "--format", "gif")]
    [InlineData("dataset name \"a/b\" must be", "--name", "a/b")]
    public void User_mistakes_are_one_line_errors(string message, params string[] args)
    {
        File.WriteAllText(_dir.File("a.tsv"), "url\tcaption\n");
        string[] input = message is "no input given" or "input not found" ? [] : [_dir.File("a.tsv")];
        var result = CliRunner.Run(["corpus", "build", .. input, "--out", _dir.File("out"), .. args]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: ", result.Err);
        Assert.Contains(message, result.Err);
        Assert.DoesNotContain("   at ", result.Err);
    }

    [Fact]
    public void Merge_refuses_while_units_are_missing()
    {
        var inputs = WebCorpus.WriteMixed(_server, _dir.Path);
        var output = _dir.File("out");
        var worker = CliRunner.Run([.. WebCorpus.CliArgs(inputs, output), "--shard-index", "1", "--shard-count", "2"]);
        Assert.Equal(0, worker.ExitCode);
        Assert.Contains("tuwen corpus dedup", worker.Out);
        var merge = CliRunner.Run("corpus", "dedup", output);
        Assert.Equal(2, merge.ExitCode);
        Assert.Contains("not finished", merge.Err);
        Assert.Equal(2, CliRunner.Run("corpus", "dedup", _dir.File("nothing")).ExitCode);
    }
}
