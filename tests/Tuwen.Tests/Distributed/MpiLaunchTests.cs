using Tuwen.Tests.Cli;
using Tuwen.Tests.Data;

namespace Tuwen.Tests.Distributed;

/// <summary>Mistakes in a data-parallel launch end the whole job with one clear line per rank, never a hang or a
/// stack trace.</summary>
public class MpiLaunchTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void TooFewShardsForTheRanksStopsEveryRankWithAClearError()
    {
        var data = DataFixtures.WriteNumberedDataset(temp.Combine("one-shard"), 20, samplesPerShard: 20);
        var r = MpiRun.Tuwen(2, "train", "--launcher", "mpi", "--data", data, "--out", temp.Combine("run"),
            "--set", "batch_size=4", "--set", "steps=2", "--set", "data_split=shards");
        Assert.NotEqual(0, r.ExitCode);
        // Whichever rank fails first aborts the job, so the other may not get to print.
        Assert.Matches(@"error \(rank [01] of 2\): data_split=shards gives each of the 2 processes its own shards, but there are only 1", r.Output);
        Assert.Contains("set data_split=samples", r.Output);
        Assert.DoesNotContain("   at Tuwen.", r.Output);
        Assert.False(Directory.Exists(temp.Combine("run", "checkpoint")));
    }

    [Fact]
    public void AnUnknownLauncherIsAUserError()
    {
        var r = CliRunner.Run("train", "--launcher", "pytorch", "--data", temp.Path, "--out", temp.Combine("run"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("pytorch", r.Err);
    }
}
