using System.Text.Json.Nodes;
using TorchSharp;
using Tuwen.Data;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Tests.Training;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Objectives;

public class BrivlMocoObjectiveTests
{
    private static BrivlMocoObjective Create(DualEncoder model, JsonObject options) =>
        Assert.IsType<BrivlMocoObjective>(ObjectiveRegistry.Create("brivl-moco", options, model));

    private static List<Batch> Batches(int count) =>
        new ResumeTests.SyntheticData(4, 11).Epoch(0, 0).Take(count).ToList();

    /// <summary>Forward + backward + a plain SGD step on the query encoder; AfterStep is left to the caller.</summary>
    private static void QueryStep(DualEncoder model, IObjective objective, Batch batch)
    {
        var output = objective.Forward(model, batch);
        output.Loss.backward();
        output.Loss.Dispose();
        using var _ = no_grad();
        using var lr = (-0.5).ToScalar();
        foreach (var p in model.parameters())
            if (p.grad is { } g) { p.add_(g, lr); g.zero_(); }
    }

    private static Dictionary<string, Tensor> Snapshot(nn.Module m) =>
        m.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

    [Fact]
    public void KeyEncoderFollowsTheMomentumFormulaAfterEachStep()
    {
        manual_seed(1);
        using var model = new DualEncoder(ResumeTests.Micro);
        model.train();
        using var moco = Create(model, new JsonObject { ["momentum"] = 0.9, ["queue_size"] = 16 });
        moco.Prepare(model);
        var key = moco.KeyEncoder!;
        foreach (var batch in Batches(2))
            using (batch)
            {
                var keyOld = Snapshot(key);
                QueryStep(model, moco, batch);
                var queryNew = Snapshot(model);
                moco.AfterStep(model);
                var keyNew = Snapshot(key);
                var moved = 0;
                foreach (var (name, k) in keyNew)
                {
                    // θk_new = 0.9·θk_old + 0.1·θq_new
                    using var expected = keyOld[name].mul(0.9).add(queryNew[name].mul(0.1));
                    Assert.True(k.allclose(expected, 1e-6, 1e-6), $"{name} is not the EMA");
                    if (!k.equal(keyOld[name]).all().item<bool>()) moved++;
                }
                Assert.True(moved > 10, "the key encoder did not move");
                Assert.False(keyNew["visual.proj"].equal(queryNew["visual.proj"]).all().item<bool>(), "key encoder copied the query encoder");
            }
    }

    [Fact]
    public void QueuesHoldEachStepsKeysInRingOrderAndWrapAround()
    {
        manual_seed(2);
        using var model = new DualEncoder(ResumeTests.Micro);
        model.train();
        using var moco = Create(model, new JsonObject { ["queue_size"] = 10 });
        moco.Prepare(model);
        var expectedImage = new List<Tensor>();
        var expectedText = new List<Tensor>();
        var fills = new List<double>();
        foreach (var batch in Batches(3))
            using (batch)
            {
                // The keys this step must enqueue, computed here from the key encoder as it is during the step.
                using (no_grad())
                {
                    expectedImage.Add(nn.functional.normalize(moco.KeyEncoder!.EncodeImage(batch.Images), dim: -1));
                    expectedText.Add(nn.functional.normalize(moco.KeyEncoder!.EncodeText(batch.TokenIds), dim: -1));
                }
                var output = moco.Forward(model, batch);
                fills.Add(output.Metrics["queue_fill"]);
                output.Loss.backward();
                output.Loss.Dispose();
                moco.AfterStep(model);
            }
        Assert.Equal(new[] { 0, 0.4, 0.8 }, fills);
        // 3 steps of 4 keys into 10 rows: step 0 → rows 0–3, step 1 → rows 4–7, step 2 → rows 8, 9, then 0, 1.
        (int Step, int Key)[] owner = [(2, 2), (2, 3), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1)];
        foreach (var (queue, expected) in new[] { (moco.ImageQueue!, expectedImage), (moco.TextQueue!, expectedText) })
        {
            for (var row = 0; row < 10; row++)
            {
                var (s, k) = owner[row];
                Assert.True(queue.Features[row].allclose(expected[s][k], 1e-6, 1e-6), $"row {row} is not key {k} of step {s}");
            }
            Assert.Equal(owner.Select(o => (long)o.Step), queue.Steps.data<long>().ToArray());
            Assert.Equal(2, queue.Pointer);
        }
        Assert.Empty(moco.PendingKeys);
        foreach (var t in expectedImage.Concat(expectedText)) t.Dispose();
    }

    [Fact]
    public void KeysCarryNoGradient()
    {
        manual_seed(3);
        using var model = new DualEncoder(ResumeTests.Micro);
        model.train();
        using var moco = Create(model, new JsonObject { ["queue_size"] = 8 });
        moco.Prepare(model);
        using var batch = Batches(1)[0];
        var output = moco.Forward(model, batch);
        var (kImage, kText) = Assert.Single(moco.PendingKeys);
        Assert.False(kImage.requires_grad);
        Assert.False(kText.requires_grad);
        Assert.False(moco.ImageQueue!.Features.requires_grad);
        output.Loss.backward();
        Assert.All(moco.KeyEncoder!.named_parameters(), p =>
        {
            Assert.False(p.parameter.requires_grad, p.name);
            Assert.Null(p.parameter.grad);
        });
        Assert.NotNull(model.named_parameters().Single(p => p.name == "visual.proj").parameter.grad);
        // The optimizer never sees the key encoder: it trains exactly the model's parameters.
        Assert.Equal(model.parameters().Count(), ((IObjective)moco).TrainableParameters(model).Count());
    }

    [Fact]
    public void LossIsTheSumOfBothInfoNceTermsOnAHandCheckedCase()
    {
        // τ = 0.5. Image queries against text keys and the text queue:
        //   q=(1,0): logits [1, 0, −1]/τ = [2, 0, −2]  → CE = ln(e² + 1 + e⁻²) − 2 = 0.142932
        //   q=(0,1): logits [0.8, 1, 0]/τ = [1.6, 2, 0] → CE = ln(e^1.6 + e² + 1) − 1.6 = 0.990924
        //   L_i2t = (0.142932 + 0.990924)/2 = 0.566928
        // Text queries against image keys and the image queue: both rows have logits [2, 2, 0] up to order,
        //   CE = ln(2e² + 1) − 2 = 0.758624 = L_t2i.  Loss = 0.566928 + 0.758624 = 1.325551.
        using var qImage = tensor(new float[] { 1, 0, 0, 1 }, [2, 2]);
        using var kText = tensor(new float[] { 1, 0, 0.6f, 0.8f }, [2, 2]);
        using var textQueue = tensor(new float[] { 0, 1, -1, 0 }, [2, 2]);
        using var qText = tensor(new float[] { 0, 1, 1, 0 }, [2, 2]);
        using var kImage = tensor(new float[] { 0, 1, 1, 0 }, [2, 2]);
        using var imageQueue = tensor(new float[] { 1, 0, 0, 1 }, [2, 2]);
        var output = BrivlMocoObjective.Compute(qImage, qText, kImage, kText, imageQueue, textQueue, 0.5);
        using var loss = output.Loss;
        Assert.Equal(1.325551, loss.item<float>(), 5);
        Assert.Equal(0.566928, output.Metrics["loss_i2t"], 5);
        Assert.Equal(0.758624, output.Metrics["loss_t2i"], 5);
        Assert.Equal(1.0, output.Metrics["acc_i2t"]);
    }

    [Fact]
    public void OptionsAreCheckedStrictly()
    {
        using var model = new DualEncoder(ResumeTests.Micro);
        using (var defaults = Create(model, new JsonObject()))
        {
            Assert.Equal((0.99, 4096, 0.07), (defaults.Momentum, defaults.QueueSize, defaults.Temperature));
            // Created for evaluation (no Prepare): no key encoder, no queues, nothing to save.
            Assert.Null(defaults.KeyEncoder);
            Assert.Null(defaults.ImageQueue);
            Assert.Empty(((IObjective)defaults).State);
            Assert.Null(((IObjective)defaults).Scorer(model));
        }
        var unknown = Assert.Throws<TuwenException>(() => Create(model, new JsonObject { ["queue"] = 8 }));
        Assert.Contains("queue_size", unknown.Message);
        Assert.Throws<TuwenException>(() => Create(model, new JsonObject { ["momentum"] = 1.0 }));
        Assert.Throws<TuwenException>(() => Create(model, new JsonObject { ["momentum"] = -0.1 }));
        Assert.Throws<TuwenException>(() => Create(model, new JsonObject { ["temperature"] = 0 }));
        Assert.Throws<TuwenException>(() => Create(model, new JsonObject { ["queue_size"] = "big" }));
        Assert.Throws<TuwenException>(() => Create(model, new JsonObject { ["queue_size"] = 2.5 }));
        using var small = Create(model, new JsonObject { ["queue_size"] = 3 });
        small.Prepare(model);
        using var batch = Batches(1)[0];
        var e = Assert.Throws<TuwenException>(() => small.Forward(model, batch));
        Assert.Contains("batch size", e.Message);
    }

    private static TrainConfig Recipe(int steps) => new()
    {
        Model = "micro", Steps = steps, BatchSize = 4, Lr = 1e-2, WarmupSteps = 2, SaveEvery = 100, LogEvery = 1,
        Precision = "fp32", Seed = 7, AccumSteps = 2, Objective = "brivl-moco",
        ObjectiveOptions = new JsonObject { ["queue_size"] = 12, ["momentum"] = 0.9 },
    };

    /// <summary>Runs to <paramref name="stopAt"/> of <paramref name="total"/> steps; returns the objective state and parameters.</summary>
    private static (Dictionary<string, Tensor> State, Dictionary<string, Tensor> Params) Train(string runDir, int stopAt, int total, bool resume)
    {
        manual_seed(7);
        using var model = new DualEncoder(ResumeTests.Micro);
        var recipe = Recipe(total);
        using var objective = ObjectiveRegistry.Create("brivl-moco", recipe.ObjectiveOptions, model);
        var trainer = new Trainer(recipe, model, objective, ["[PAD]"], runDir);
        using var stop = new CancellationTokenSource();
        var result = trainer.Run(new ResumeTests.SyntheticData(4, 7), resume ? Checkpoint.Load(runDir) : null,
            p => { if (p.Step == stopAt) stop.Cancel(); }, stop.Token);
        Assert.Equal(stopAt, result.State.Step);
        return (objective.State.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone()), Snapshot(model));
    }

    [Fact]
    public void ResumeRestoresQueuesAndMomentumWeightsBitForBit()
    {
        var straight = Path.Combine(Path.GetTempPath(), $"moco-a-{Guid.NewGuid():N}");
        var split = Path.Combine(Path.GetTempPath(), $"moco-b-{Guid.NewGuid():N}");
        try
        {
            // 2 micro-batches of 4 per step: 8 keys a step into 12 rows, so the queues wrap on the 2nd step.
            var a = Train(straight, 6, 6, resume: false);
            var half = Train(split, 3, 6, resume: false);
            var saved = Checkpoint.Load(split).TrainerTensors;
            Assert.True(saved["objective.image_queue.features"].equal(half.State["image_queue.features"]).all().item<bool>());
            Assert.Contains("objective.momentum.visual.proj", saved.Keys);
            var b = Train(split, 6, 6, resume: true);
            Assert.Equal(a.State.Keys.Order(), b.State.Keys.Order());
            foreach (var (name, t) in a.State)
                Assert.True(t.equal(b.State[name]).all().item<bool>(), $"objective state {name} differs after resume");
            foreach (var (name, t) in a.Params)
                Assert.True(t.equal(b.Params[name]).all().item<bool>(), $"parameter {name} differs after resume");
            Assert.Equal(new long[] { 0, 12 }, a.State["image_queue.pointer"].data<long>().ToArray());   // 48 keys = 4 turns
            Assert.False(a.State["image_queue.features"].equal(half.State["image_queue.features"]).all().item<bool>());
            Assert.False(a.State["momentum.visual.proj"].equal(half.State["momentum.visual.proj"]).all().item<bool>());
        }
        finally
        {
            if (Directory.Exists(straight)) Directory.Delete(straight, true);
            if (Directory.Exists(split)) Directory.Delete(split, true);
        }
    }
}

[Collection(Corpus.EmojiZhCollection.Name)]
public sealed class BrivlMocoOnEmojiTests(Corpus.EmojiZhFixture emoji) : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), $"tuwen-brivl-{Guid.NewGuid():N}");

    /// <summary>Micro BriVL towers: 32 px, a 2-stage trunk of width 8 (64 channels, 4×4 map), a 2×2 region grid
    /// plus the whole image, 1-layer heads; BERT as in MicroVit with a 1-layer head; 32-d joint space.</summary>
    public static ModelConfig MicroBrivl { get; } = ObjectiveTraining.MicroVit with
    {
        Name = "micro-brivl",
        Vision = new VisionConfig { Type = "brivl", ImageSize = 32, Width = 8, StageDepths = [1, 1], RegionGrid = 2, HeadLayers = 1, HeadHeads = 2, HeadHidden = 32 },
        Text = ObjectiveTraining.MicroVit.Text with { Type = "brivl", HeadLayers = 1, HeadHeads = 2, HeadHidden = 32 },
    };

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, true);
    }

    private static void AssertMocoRun(ObjectiveRun run)
    {
        Assert.Null(run.Report.Scoring);                                   // global cosines, as BriVL evaluates
        Assert.Equal(48, run.Report.Retrieval!.Images);
        // queue of 64, 16 keys a step: the real keys fill it a quarter at a time, then it is all real keys.
        Assert.Equal(new[] { 0, 0.25, 0.5, 0.75, 1, 1 }, run.Metrics.Select(m => m["queue_fill"]!.GetValue<double>()));
        var trainer = run.Checkpoint.TrainerTensors;
        Assert.Equal(new long[] { 64, 32 }, trainer["objective.image_queue.features"].shape);
        Assert.Equal(new long[] { 64, 32 }, trainer["objective.text_queue.features"].shape);
        Assert.Equal(new long[] { 6 }, trainer["objective.steps"].data<long>().ToArray());
        var momentum = trainer.Keys.Where(k => k.StartsWith("objective.momentum.", StringComparison.Ordinal)).ToList();
        Assert.Equal(run.Checkpoint.ModelTensors.Count, momentum.Count);   // every parameter and buffer has a key copy
    }

    [Fact]
    public void BrivlTowersTrainResumeAndEvaluate()
    {
        var run = ObjectiveTraining.Train(emoji, root, MicroBrivl, "brivl-moco", new JsonObject { ["queue_size"] = 64 });
        AssertMocoRun(run);
        Assert.DoesNotContain("text_projection", run.Checkpoint.ModelTensors.Keys);
        Assert.Contains("visual.region_conv.weight", run.Checkpoint.ModelTensors.Keys);
    }

    [Fact]
    public void VitTowersTrainWithTheSameObjective()
    {
        var run = ObjectiveTraining.Train(emoji, root, ObjectiveTraining.MicroVit, "brivl-moco", new JsonObject { ["queue_size"] = 64 });
        AssertMocoRun(run);
        Assert.Contains("text_projection", run.Checkpoint.ModelTensors.Keys);
    }
}
