using Tuwen.Tests.Data;

namespace Tuwen.Tests.Cli;

/// <summary>`--device cpu` given explicitly takes the device-threading paths (model moved, batches moved,
/// inputs created on the model's device) through train, checkpoint, eval and embed, and must change nothing.</summary>
public class DeviceCommandTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private string MicroModel() => TrainFixtures.MicroModel(temp.Path);

    private CliRunner.Result Train(string data, string run, params string[] extra) =>
        CliRunner.Run(["train", "--data", data, "--out", run, "--set", $"model={MicroModel()}", "--set", "steps=3", "--set", "batch_size=8",
            "--set", "warmup_steps=1", "--set", "precision=fp32", .. extra]);

    [Fact]
    public void TrainEvalAndEmbedOnAnExplicitCpuDeviceMatchTheDefault()
    {
        var data = DataFixtures.WriteNumberedDataset(Path.Combine(temp.Path, "data"), 24, samplesPerShard: 12);
        var onCpu = Path.Combine(temp.Path, "cpu");
        var train = Train(data, onCpu, "--device", "cpu");
        Assert.True(train.ExitCode == 0, train.Err);
        Assert.Contains("steps 3", train.Out);
        var byDefault = Path.Combine(temp.Path, "default");
        Assert.Equal(0, Train(data, byDefault).ExitCode);
        // Same seed, same data: the explicit device must train exactly the default run's weights.
        Assert.Equal(File.ReadAllBytes(Path.Combine(byDefault, "checkpoint", "model.safetensors")),
            File.ReadAllBytes(Path.Combine(onCpu, "checkpoint", "model.safetensors")));

        var eval = CliRunner.Run("eval", "retrieval", "--checkpoint", onCpu, "--data", data, "--json", "--device", "cpu");
        Assert.True(eval.ExitCode == 0, eval.Err);
        Assert.Contains("\"images\": 24", eval.Out);

        var embedded = Path.Combine(temp.Path, "embedded");
        var embed = CliRunner.Run("embed", "--checkpoint", onCpu, "--shards", data, "--out", embedded, "--device", "cpu");
        Assert.True(embed.ExitCode == 0, embed.Err);
        Assert.Contains("24 image and 0 text embeddings", embed.Out);
    }
}
