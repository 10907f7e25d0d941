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
        // The micro model's step takes a few milliseconds; 150 ms a batch makes the loader the bottleneck.
        var slow = Train(new SlowData(new ResumeTests.SyntheticData(4, 7), TimeSpan.FromMilliseconds(150)), Path.Combine(dir.Path, "slow"));
        var ready = Train(new ResumeTests.SyntheticData(4, 7), Path.Combine(dir.Path, "ready"));
        Assert.InRange(slow.DataWaitFraction, 0.5, 1.0);
        Assert.InRange(ready.DataWaitFraction, 0.0, 0.5);
        var logged = File.ReadLines(slow.MetricsPath).Select(l => JsonNode.Parse(l)!["data_wait_frac"]!.GetValue<double>()).ToList();
        Assert.Equal(2, logged.Count);                    // steps 3 and 6
        Assert.All(logged, f => Assert.InRange(f, 0.5, 1.0));
    }
}
