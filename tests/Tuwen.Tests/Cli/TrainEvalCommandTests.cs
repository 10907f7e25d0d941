using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Tests.Data;

namespace Tuwen.Tests.Cli;

/// <summary>
/// `tuwen train` then `tuwen eval` on real Chinese image–text pairs (Flickr8K-CN), with a corrupt image
/// planted in the shards: it must be skipped and counted, and everything else must work end to end.
/// </summary>
public class TrainEvalCommandTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private string root => temp.Path;

    public void Dispose() => temp.Dispose();

    private string MicroModel() => TrainFixtures.MicroModel(root);

    [Fact]
    public void TrainThenEvaluateRetrievalWithACorruptImageInTheShards()
    {
        Directory.CreateDirectory(root);
        var data = TrainFixtures.WriteFlickrShards(Path.Combine(root, "flickr"), 48, plantCorrupt: true);
        var run = Path.Combine(root, "run");
        var train = CliRunner.Run("train", "--data", data, "--out", run, "--set", $"model={MicroModel()}",
            "--set", "steps=6", "--set", "batch_size=16", "--set", "warmup_steps=2", "--set", "log_every=2", "--set", "precision=fp32");
        Assert.True(train.ExitCode == 0, train.Err);
        Assert.Contains("steps 6", train.Out);
        foreach (var f in new[] { "config.json", "vocab.txt", "model.safetensors", "trainer.safetensors", "state.json" })
            Assert.True(File.Exists(Path.Combine(run, "checkpoint", f)), f);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);
        Assert.True(new FileInfo(Path.Combine(run, "loss.png")).Length > 1000);
        // The vocab was built from the captions, not taken from a third party.
        var vocab = File.ReadAllLines(Path.Combine(run, "checkpoint", "vocab.txt"));
        Assert.Equal("[PAD]", vocab[0]);
        Assert.Equal("[CLS]", vocab[101]);
        Assert.True(vocab.Length < 2000, $"vocab of {vocab.Length} tokens is not corpus-built");

        var evalDir = Path.Combine(root, "eval");
        var eval = CliRunner.Run("eval", "retrieval", "--checkpoint", run, "--data", data, "--out", evalDir);
        Assert.True(eval.ExitCode == 0, eval.Err);
        Assert.Contains("skipped 1 corrupt images", eval.Err);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(evalDir, "eval.json")))!;
        Assert.Contains("text→image", eval.Out);
        Assert.Equal(48 * 5, json["retrieval"]!["texts"]!.GetValue<int>());
        Assert.Equal(48, json["retrieval"]!["images"]!.GetValue<int>());

        // Starting afresh on top of a run would overwrite its checkpoint: refused, nothing touched.
        var before = File.GetLastWriteTimeUtc(Path.Combine(run, "checkpoint", "model.safetensors"));
        var again = CliRunner.Run("train", "--data", data, "--out", run, "--set", $"model={MicroModel()}", "--set", "steps=2");
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("--resume", again.Err);
        Assert.Equal(before, File.GetLastWriteTimeUtc(Path.Combine(run, "checkpoint", "model.safetensors")));

        // Resume continues from step 6 to 8 without redoing anything.
        var resumed = CliRunner.Run("train", "--data", data, "--out", run, "--resume", run, "--set", "steps=8");
        Assert.True(resumed.ExitCode == 0, resumed.Err);
        Assert.Contains("steps 8", resumed.Out);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);   // steps 2,4,6 then 8
    }
}
