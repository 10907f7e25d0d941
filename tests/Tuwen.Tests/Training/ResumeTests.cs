using Tuwen.Data;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Training;

public class ResumeTests
{
    internal static readonly ModelConfig Micro = new()
    {
        Name = "micro", EmbedDim = 16,
        Vision = new VisionConfig { ImageSize = 16, PatchSize = 8, Width = 32, Layers = 1, Heads = 2 },
        Text = new TextConfig { VocabSize = 120, ContextLength = 8, Width = 32, Layers = 1, Heads = 2, IntermediateSize = 64, MaxPositions = 16 },
    };

    /// <summary>24 fixed samples; order per epoch is a seeded permutation, so any (epoch, skip) is reproducible.</summary>
    internal sealed class SyntheticData(int batchSize, int seed) : ITrainData
    {
        public long SamplesPerEpoch => 24;

        public IEnumerable<Batch> Epoch(int epoch, long skip)
        {
            var order = Enumerable.Range(0, 24).ToArray();
            new Random(seed * 1000 + epoch).Shuffle(order);
            for (var start = (int)skip; start + batchSize <= order.Length; start += batchSize)
            {
                var idx = order[start..(start + batchSize)];
                var images = new float[batchSize * 3 * 16 * 16];
                var ids = new long[batchSize * 8];
                for (var i = 0; i < batchSize; i++)
                {
                    var r = new Random(idx[i]);
                    for (var j = 0; j < 3 * 16 * 16; j++) images[i * 768 + j] = (float)(r.NextDouble() * 2 - 1);
                    ids[i * 8] = 101;
                    for (var j = 1; j < 5; j++) ids[i * 8 + j] = 104 + (idx[i] + j) % 16;
                    ids[i * 8 + 5] = 102;
                }
                yield return new Batch(tensor(images, [batchSize, 3, 16, 16]), tensor(ids, [batchSize, 8]),
                    idx.Select(k => k.ToString()).ToArray(), new int[batchSize]);
            }
        }
    }

    private static TrainConfig Recipe(int steps) => new()
    {
        Model = "micro", Steps = steps, BatchSize = 4, Lr = 1e-2, WarmupSteps = 3, SaveEvery = 10, LogEvery = 5,
        Precision = "fp32", Seed = 7, AccumSteps = 2,
    };

    private static Dictionary<string, Tensor> Train(string runDir, int steps, int totalSteps, bool resume)
    {
        manual_seed(7);
        using var model = new DualEncoder(Micro);
        using var objective = new ClipObjective();
        var trainer = new Trainer(Recipe(totalSteps) with { Steps = totalSteps }, model, objective, ["[PAD]"], runDir);
        var checkpoint = resume ? Checkpoint.Load(runDir) : null;
        using var stop = new CancellationTokenSource();
        var result = trainer.Run(new SyntheticData(4, 7), checkpoint, p => { if (p.Step == steps) stop.Cancel(); }, stop.Token);
        Assert.Equal(steps, result.State.Step);
        return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
    }

    [Fact]
    public void TwentyStepsStraightEqualTenPlusResumePlusTen()
    {
        var straight = Path.Combine(Path.GetTempPath(), $"run-a-{Guid.NewGuid():N}");
        var split = Path.Combine(Path.GetTempPath(), $"run-b-{Guid.NewGuid():N}");
        try
        {
            // 2 micro-batches of 4 per step over 24-sample epochs: 20 steps cross six epoch boundaries.
            var a = Train(straight, 20, 20, resume: false);
            Train(split, 10, 20, resume: false);
            var state = Checkpoint.Load(split).State;
            Assert.Equal(10, state.Step);
            Assert.Equal(3, state.Epoch);            // 80 samples: epochs 0-2 done, 8 into epoch 3
            Assert.Equal(8, state.SamplesInEpoch);
            var b = Train(split, 20, 20, resume: true);
            foreach (var (name, t) in a)
                Assert.True(t.equal(b[name]).all().item<bool>(), $"parameter {name} differs after resume by {(t - b[name]).abs().max().item<float>()}");
            var fresh = Train(Path.Combine(split, "other"), 1, 20, resume: false);
            Assert.False(fresh["visual.proj"].equal(a["visual.proj"]).all().item<bool>(), "training did not move the parameters");
            Assert.Equal(4, File.ReadAllLines(Path.Combine(split, "metrics.jsonl")).Length);  // steps 5,10,15,20
        }
        finally
        {
            if (Directory.Exists(straight)) Directory.Delete(straight, true);
            if (Directory.Exists(split)) Directory.Delete(split, true);
        }
    }
}
