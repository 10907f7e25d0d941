using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Tests.Data;
using Tuwen.Objectives;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Training;

/// <summary>The trainer reports how much of its step time it spent waiting for the loader.</summary>
public class DataWaitTests
{
    private sealed class SlowData(ITrainData inner, TimeSpan delay) : ITrainData
    {
        public long SamplesPerEpoch => inner.SamplesPerEpoch;

        public IEnumerable<Batch> Epoch(int epoch, long skip)
        {
            foreach (var batch in inner.Epoch(epoch, skip))
            {
                Thread.Sleep(delay);
                yield return batch;
            }
        }
    }

    private static TrainResult Train(ITrainData data, string runDir)
    {
        manual_seed(7);
        using var model = new Tuwen.Models.DualEncoder(ResumeTests.Micro);
        using var objective = new ClipObjective();
        var recipe = new TrainConfig { Model = "micro", Steps = 6, BatchSize = 4, Lr = 1e-3, WarmupSteps = 1, SaveEvery = 100, LogEvery = 3, Precision = "fp32", Seed = 7 };
        return new Trainer(recipe, model, objective, ["[PAD]"], runDir).Run(data);
    }

    [Fact]
    public void ALoaderThatStallsShowsUpAsWaitTimeAndAReadyOneDoesNot()
    {
        using var dir = new TempDirectory();
        // 6 steps of one batch each; the slow loader sleeps 150 ms before every batch, so the trainer waits at
        // least 0.9 s in all, whatever the model step costs on a loaded machine. The ready loader makes its
        // 4-sample batches in well under a millisecond.
        var slow = Train(new SlowData(new ResumeTests.SyntheticData(4, 7), TimeSpan.FromMilliseconds(150)), Path.Combine(dir.Path, "slow"));
        var ready = Train(new ResumeTests.SyntheticData(4, 7), Path.Combine(dir.Path, "ready"));
        static double WaitSeconds(TrainResult r) => r.DataWaitFraction * r.State.TrainSeconds;
        Assert.InRange(WaitSeconds(slow), 0.85, slow.State.TrainSeconds);
        Assert.InRange(WaitSeconds(ready), 0.0, 0.3);
        Assert.True(slow.DataWaitFraction > ready.DataWaitFraction);
        var logged = File.ReadLines(slow.MetricsPath).Select(l => JsonNode.Parse(l)!["data_wait_frac"]!.GetValue<double>()).ToList();
        Assert.Equal(2, logged.Count);                    // steps 3 and 6
        Assert.All(logged, f => Assert.InRange(f, 0.01, 1.0));
    }
}
