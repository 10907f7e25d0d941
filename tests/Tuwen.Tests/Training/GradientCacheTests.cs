using TorchSharp;
using System.Text.Json.Nodes;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Tests.Data;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Training;

public class GradientCacheTests
{
    private static void Close(Tensor expected, Tensor actual, double tolerance, string what)
    {
        var diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= tolerance, $"{what}: max |Δ| {diff} > {tolerance}");
    }

    [Fact]
    public void FourCachedMicroBatchesGiveTheFullBatchGradients()
    {
        using var batch = new ResumeTests.SyntheticData(8, 2).Epoch(0, 0).First();
        Dictionary<string, Tensor> Gradients(Func<DualEncoder, ObjectiveOutput> step, out float loss)
        {
            manual_seed(5);
            using var model = new DualEncoder(ResumeTests.Micro);
            using var output = Disposing(step(model));
            loss = output.Value.Loss.item<float>();
            return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        }
        var full = Gradients(m =>
        {
            var o = new ClipObjective().Forward(m, batch);
            o.Loss.backward();
            return o;
        }, out var fullLoss);
        var cached = Gradients(m => new GradientCache(microBatch: 2, chunkSize: 0).ForwardBackward(m, batch), out var cachedLoss);
        Assert.Equal(fullLoss, cachedLoss, 5);
        // Plain accumulation over the same micro-batches contrasts within each pair only: a different loss.
        var accumulated = Gradients(m =>
        {
            using var quarter = 0.25.ToScalar();
            ObjectiveOutput? last = null;
            for (var k = 0; k < 4; k++)
            {
                using var micro = new Tuwen.Data.Batch(batch.Images.narrow(0, 2 * k, 2), batch.TokenIds.narrow(0, 2 * k, 2), ["a", "b"], [0, 0]);
                last?.Loss.Dispose();
                last = new ClipObjective().Forward(m, micro);
                last.Loss.mul(quarter).backward();
            }
            return last!;
        }, out _);
        Assert.True(full["logit_scale"].abs().item<float>() > 1e-4, "the temperature must receive a gradient");
        foreach (var (name, g) in full) Close(g, cached[name], 1e-5, name);
        var accumulationGap = full.Max(kv => (kv.Value - accumulated[kv.Key]).abs().max().item<float>());
        Assert.True(accumulationGap > 1e-3, $"plain accumulation should differ from the full batch (max |Δ| {accumulationGap})");
    }

    [Fact]
    public void CachedAccumulatedGradientsAreScaledByTheAccumulationShare()
    {
        using var batch = new ResumeTests.SyntheticData(8, 2).Epoch(0, 0).First();
        manual_seed(5);
        using var model = new DualEncoder(ResumeTests.Micro);
        using (Disposing(new GradientCache(4, 3).ForwardBackward(model, batch))) { }
        var once = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        foreach (var p in model.parameters()) p.grad?.zero_();
        using (Disposing(new GradientCache(4, 3).ForwardBackward(model, batch, accumSteps: 4))) { }
        using var quarter = 0.25.ToScalar();
        foreach (var (name, p) in model.named_parameters()) Close(once[name].mul(quarter), p.grad!, 1e-6, name);
    }

    [Fact]
    public void OneCachedTrainerStepEqualsOneFullBatchStep()
    {
        // eps = 1e-3 keeps AdamW's first update lr·g/(|g|+eps) Lipschitz in g, so gradient differences at fp32
        // rounding (~1e-7) move parameters by at most lr·1e-4; the stated tolerance is 1e-5 with lr 1e-2.
        var recipe = new TrainConfig
        {
            Model = "micro", Steps = 1, BatchSize = 8, Lr = 1e-2, WarmupSteps = 0, Eps = 1e-3, Precision = "fp32", Seed = 3,
            LogEvery = 1, SaveEvery = 10,
        };
        Dictionary<string, Tensor> Train(TrainConfig r)
        {
            using var dir = new TempDirectory();
            manual_seed(3);
            using var model = new DualEncoder(ResumeTests.Micro);
            using var objective = new ClipObjective();
            new Trainer(r, model, objective, ["[PAD]"], dir.Path).Run(new ResumeTests.SyntheticData(8, 3));
            return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        }
        manual_seed(3);
        using var initial = new DualEncoder(ResumeTests.Micro);
        var full = Train(recipe);
        var cached = Train(recipe with { ContrastiveMicroBatch = 2 });
        Assert.True((full["visual.proj"] - initial.named_parameters().First(p => p.name == "visual.proj").parameter).abs().max().item<float>() > 1e-3,
            "the step must move the parameters");
        foreach (var (name, p) in full) Close(p, cached[name], 1e-5, name);
    }

    [Fact]
    public void BadOptionsAreClearErrors()
    {
        var filip = Assert.Throws<TuwenException>(() => new TrainConfig { Objective = "filip", ContrastiveMicroBatch = 64 }.Validate("recipe.json"));
        Assert.Equal("bad training config recipe.json: contrastive_micro_batch (gradient caching) works with objective clip, not 'filip' (set it to 0)", filip.Message);
        foreach (var objective in new[] { "brivl-moco", "r2d2", "reduced-token", "lit" })
            Assert.Throws<TuwenException>(() => new TrainConfig { Objective = objective, ContrastiveMicroBatch = 64 }.Validate("r"));
        var tooBig = Assert.Throws<TuwenException>(() => new TrainConfig { BatchSize = 64, ContrastiveMicroBatch = 128 }.Validate("r"));
        Assert.Contains("contrastive_micro_batch must be between 0 (off) and batch_size", tooBig.Message);
        Assert.Throws<TuwenException>(() => new TrainConfig { ContrastiveMicroBatch = -1 }.Validate("r"));
        Assert.Throws<TuwenException>(() => new TrainConfig().With(["contrastive_micro_batch=-4"]));
        Assert.Equal(32, new TrainConfig().With(["contrastive_micro_batch=32"]).ContrastiveMicroBatch);
        Assert.Contains("\"contrastive_micro_batch\": 32", new TrainConfig { ContrastiveMicroBatch = 32 }.ToJson());

        using var filipObjective = ObjectiveRegistry.Create("filip", new JsonObject(), null!);
        var direct = Assert.Throws<TuwenException>(() => GradientCache.For(new TrainConfig { ContrastiveMicroBatch = 8 }, filipObjective));
        Assert.Contains("not 'filip'", direct.Message);
        Assert.Null(GradientCache.For(new TrainConfig(), new ClipObjective()));
        Assert.Equal(16, GradientCache.For(new TrainConfig { ContrastiveMicroBatch = 16 }, new ClipObjective())!.ChunkSize);
        Assert.Equal(8, GradientCache.For(new TrainConfig { ContrastiveMicroBatch = 16 }, new ClipObjective(chunkSize: 8))!.ChunkSize);
    }

    private static DisposableOutput Disposing(ObjectiveOutput output) => new(output);

    private sealed class DisposableOutput(ObjectiveOutput value) : IDisposable
    {
        public ObjectiveOutput Value { get; } = value;
        public void Dispose() => Value.Loss.Dispose();
    }
}
