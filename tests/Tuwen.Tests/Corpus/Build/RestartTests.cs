using Tuwen.Corpus.Pipeline;
using Tuwen.Data;
using Tuwen.Tests.Cli;
using Tuwen.Tests.Corpus.Web;

namespace Tuwen.Tests.Corpus.Build;

/// <summary>Killed runs continue where they stopped; independent workers add up to one run.</summary>
public sealed class RestartTests : IAsyncLifetime
{
    private const int Rows = 300;
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

    private static List<string> Args(string[] inputs, string output)
    {
        var args = WebCorpus.CliArgs(inputs, output);
        args[args.IndexOf("--unit-size") + 1] = "10";
        args[args.IndexOf("--concurrency") + 1] = "4";
        return args;
    }

    private async Task<(List<string> Contents, DatasetStats Stats)> ReferenceAsync(string[] inputs)
    {
        var output = _dir.File("reference");
        await WebCorpus.BuildInProcessAsync(WebCorpus.Options(inputs, output) with { UnitSize = 10 });
        var reference = DatasetStats.Read(output);
        Assert.True(reference.Samples > Rows / 2, reference.Extra.ToJsonString());
        return (WebCorpus.Contents(output), DatasetStats.Read(output));
    }

    [Fact]
    public async Task A_run_killed_at_random_points_and_restarted_equals_an_uninterrupted_run()
    {
        var inputs = WebCorpus.WriteScaled(_server, _dir.Path, Rows, delayMs: 15);
        var (expected, expectedStats) = await ReferenceAsync(inputs);
        var output = _dir.File("killed");
        var units = (Rows + 9) / 10;
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var kills = 0;
        var doneAtKill = new List<int>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            // Kill once a random number of units is finished, after a further random moment.
            var killAfter = random.Next(2 + attempt * 8, 9 + attempt * 8);
            using var process = WebCorpus.StartCli(Args(inputs, output));
            while (!process.HasExited && DoneUnits(output) < killAfter) await Task.Delay(5);
            await Task.Delay(random.Next(0, 40));
            if (process.HasExited) break;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            kills++;
            doneAtKill.Add(DoneUnits(output));
        }
        Assert.True(kills >= 2, $"seed {seed}: only {kills} kills landed before the build finished");
        Assert.True(doneAtKill[^1] < units, $"seed {seed}: the last kill came after all units were done");
        var final = CliRunner.Run([.. Args(inputs, output)]);
        Assert.True(final.ExitCode == 0, final.Err);
        Assert.Equal(expected, WebCorpus.Contents(output));
        var stats = DatasetStats.Read(output);
        Assert.Equal(expectedStats.Extra["dropped"]!.ToJsonString(), stats.Extra["dropped"]!.ToJsonString());
        Assert.Equal(Rows, (long)stats.Extra["candidates"]!);
        Assert.Empty(Directory.GetFiles(Path.Combine(output, "units"), "*.tmp"));
    }

    [Fact]
    public async Task Three_worker_processes_and_the_dedup_pass_equal_one_worker()
    {
        var inputs = WebCorpus.WriteScaled(_server, _dir.Path, Rows, delayMs: 1);
        var (expected, expectedStats) = await ReferenceAsync(inputs);
        var output = _dir.File("workers");
        var args = Args(inputs, output);
        // The same command for all three; the index comes from a flag, a Kubernetes Indexed Job, a Slurm array.
        var workers = new[]
        {
            WebCorpus.RunCliAsync([.. args, "--shard-index", "0", "--shard-count", "3"]),
            WebCorpus.RunCliAsync([.. args, "--shard-count", "3"], new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "1" }),
            WebCorpus.RunCliAsync(args, new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "3", ["SLURM_ARRAY_TASK_MIN"] = "1", ["SLURM_ARRAY_TASK_COUNT"] = "3" }),
        };
        var results = await Task.WhenAll(workers);
        for (var w = 0; w < 3; w++)
        {
            Assert.True(results[w].Code == 0, results[w].Output);
            Assert.Contains($"worker {w}/3", results[w].Output);
        }
        Assert.Equal((Rows + 9) / 10, DoneUnits(output));
        var merge = CliRunner.Run("corpus", "dedup", output);
        Assert.True(merge.ExitCode == 0, merge.Err);
        Assert.Equal(expected, WebCorpus.Contents(output));
        var stats = DatasetStats.Read(output);
        Assert.Equal(expectedStats.Extra["dropped"]!.ToJsonString(), stats.Extra["dropped"]!.ToJsonString());
        // Duplicates across workers were found: the copies sit 7 and 13 rows after their originals, in other units.
        var dropped = stats.Extra["dropped"]!.AsObject();
        Assert.True((long)dropped["dedup.exact"]! >= 10 && (long)dropped["dedup.perceptual"]! >= 10, dropped.ToJsonString());
    }

    private static int DoneUnits(string output)
    {
        var units = Path.Combine(output, "units");
        return Directory.Exists(units) ? Directory.GetFiles(units, "*.done.json").Length : 0;
    }
}
