using Tuwen.Corpus.Download;
using Tuwen.Corpus.Images;
using Tuwen.Corpus.Pipeline;
using Tuwen.Corpus.Sources;
using Tuwen.Corpus.Text;
using Tuwen.Models;
using Tuwen.Tests.Corpus.Web;
using Tuwen.Text;
using Tuwen.Training;

namespace Tuwen.Tests.Corpus.Build;

public sealed class RelevanceFilterTests
{
    private static LoadedModel TinyModel()
    {
        TorchSharp.torch.manual_seed(7);
        // BERT-zh layout: [PAD], unused slots, then [UNK] [CLS] [SEP] [MASK] at 100–103.
        var tokens = new List<string> { "[PAD]" };
        tokens.AddRange(Enumerable.Range(1, 99).Select(i => $"[unused{i}]"));
        tokens.AddRange(["[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
        tokens.AddRange("第张测试图片的猫狗号0123456789".Select(c => c.ToString()));
        var tiny = ModelConfig.Load("tiny");
        var model = new DualEncoder(tiny with { Text = tiny.Text with { VocabSize = tokens.Count } });
        model.eval();
        return new LoadedModel(model, new BertTokenizer(Vocab.FromTokens(tokens)), tiny.Text.ContextLength, null);
    }

    [Fact]
    public async Task The_cli_loads_a_checkpoint_and_records_the_scores()
    {
        await using var server = await LoopbackServer.StartAsync();
        using var dir = new TempDir();
        var checkpoint = dir.File("ckpt");
        using (var loaded = TinyModel())
        {
            var tensors = loaded.Model.named_parameters().Select(p => KeyValuePair.Create(p.name, (TorchSharp.torch.Tensor)p.parameter))
                .Concat(loaded.Model.named_buffers().Select(b => KeyValuePair.Create(b.name, b.buffer))).ToList();
            Checkpoint.Save(checkpoint, loaded.Model.Config, TrainConfig.Load("quickstart"), loaded.Tokenizer.Vocab.Tokens, tensors, [], new TrainState());
        }
        File.WriteAllText(dir.File("urls.tsv"), "url\tcaption\n" + string.Concat(Enumerable.Range(0, 6).Select(i => $"{server.Url($"/img/{i}.jpg")}\t第{i}张测试图片\n")));
        string[] common = ["corpus", "build", dir.File("urls.tsv"), "--allow-private-network", "--image-size", "64", "--relevance-model", checkpoint];

        var all = Tuwen.Tests.Cli.CliRunner.Run([.. common, "--out", dir.File("all"), "--relevance-threshold", "-1.5"]);
        Assert.True(all.ExitCode == 0, all.Err);
        var samples = Tuwen.Data.ShardReader.Read(Tuwen.Data.ShardReader.FindShards(dir.File("all"))).ToList();
        Assert.Equal(6, samples.Count);
        Assert.All(samples, s => Assert.InRange((double)s.Metadata["relevance"]!, -1.0001, 1.0001));

        var none = Tuwen.Tests.Cli.CliRunner.Run([.. common, "--out", dir.File("none"), "--relevance-threshold", "1.5"]);
        Assert.True(none.ExitCode == 0, none.Err);
        Assert.Equal(6, (long)Tuwen.Data.DatasetStats.Read(dir.File("none")).Extra["dropped"]!["relevance.below_threshold"]!);
    }

    [Fact]
    public async Task Pairs_below_the_threshold_are_dropped_and_every_score_is_recorded()
    {
        await using var server = await LoopbackServer.StartAsync();
        using var dir = new TempDir();
        var options = ImageDownloaderTests.TestOptions(dir.Path) with { ImageSize = 64 };
        var candidates = Enumerable.Range(0, 16)
            .Select(i => new Candidate(i, new SourceItem(server.Url($"/img/{i}.jpg"), new CandidateTexts(Caption: $"第{i}张测试图片"), "test")))
            .ToList();
        using var downloader = new ImageDownloader(options);

        using var scorer = new RelevanceFilter(TinyModel(), threshold: -2);
        var all = new List<CandidateOutcome>();
        var keepAll = new UnitProcessor(options, new TextPipeline(options, null), downloader, new ImageProcessor(options), scorer);
        keepAll.CandidateDone += all.Add;
        await keepAll.ProcessAsync(0, candidates, CancellationToken.None);
        Assert.All(all, o => Assert.True(o.Kept && o.Relevance is >= -1.0001 and <= 1.0001));
        var scores = all.OrderBy(o => o.Candidate.Index).Select(o => o.Relevance!.Value).ToList();
        Assert.True(scores.Distinct().Count() > 8, "scores should differ between pairs");

        // A pair scores the same alone as in a batch.
        var single = scorer.Score([(all[3].Image!, all[3].Caption!.Text)])[0];
        Assert.Equal(all[3].Relevance!.Value, single, 3);

        var median = scores.Order().ElementAt(scores.Count / 2);
        using var filter = new RelevanceFilter(TinyModel(), threshold: median);
        var filtered = new List<CandidateOutcome>();
        var halving = new UnitProcessor(options, new TextPipeline(options, null), downloader, new ImageProcessor(options), filter);
        halving.CandidateDone += filtered.Add;
        await halving.ProcessAsync(1, candidates, CancellationToken.None);
        foreach (var o in filtered)
        {
            var expectedKept = o.Relevance >= median;
            Assert.Equal(expectedKept, o.Kept);
            if (!expectedKept) Assert.Equal("relevance.below_threshold", o.DropReason);
        }
        Assert.Equal(scores.Count(s => s < median), filtered.Count(o => !o.Kept));
        Assert.True(File.Exists(Path.Combine(dir.Path, "units", "unit-000001.done.json")));
    }
}
