using System.Text.Json.Nodes;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Tests.Data;
using Tuwen.Tests.Training;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Objectives;

/// <summary>
/// LiT's mechanism on a micro model trained on synthetic batches: the image tower comes from a CLIP checkpoint
/// and stays exactly as it was. The tower uses the convolutional stem, whose batch norms update their running
/// statistics in train mode even without gradients, so bit-identical buffers also prove the eval mode.
/// </summary>
public sealed class LitObjectiveTests : IDisposable
{
    private static readonly ModelConfig Micro = ResumeTests.Micro with
    {
        Vision = ResumeTests.Micro.Vision with { Stem = "conv" },
    };

    private readonly TempDirectory temp = new();
    private string root => temp.Path;

    public void Dispose() => temp.Dispose();

    private static TrainConfig Recipe(int steps) => new()
    {
        Model = "micro", Steps = steps, BatchSize = 4, Lr = 1e-2, WarmupSteps = 1, SaveEvery = 100, LogEvery = 1,
        Precision = "fp32", Seed = 7,
    };

    /// <summary>Trains <paramref name="objective"/> from a model initialised under <paramref name="seed"/>; returns the run dir.</summary>
    private string Train(string name, ModelConfig config, int seed, int steps, Func<DualEncoder, IObjective> objective)
    {
        var dir = Path.Combine(root, name);
        manual_seed(seed);
        using var model = new DualEncoder(config);
        using var o = objective(model);
        new Trainer(Recipe(steps), model, o, ["[PAD]"], dir).Run(new ResumeTests.SyntheticData(4, seed));
        return dir;
    }

    private string ClipCheckpoint(ModelConfig? config = null) => Train("clip", config ?? Micro, 1, 2, _ => new ClipObjective());

    private static Dictionary<string, Tensor> Fresh(ModelConfig config, int seed)
    {
        manual_seed(seed);
        using var model = new DualEncoder(config);
        return model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(model.named_buffers())
            .ToDictionary(p => p.Item1, p => p.Item2.detach().clone());
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.equal(b).all().item<bool>();

    [Fact]
    public void LockedImageTowerStaysBitIdenticalToItsCheckpointAndGetsNoOptimizerState()
    {
        var clip = Checkpoint.Load(ClipCheckpoint());
        var init = Fresh(Micro, 2);
        var litDir = Train("lit", Micro, 2, 4, _ => new LitObjective(clip.Directory));
        var lit = Checkpoint.Load(litDir);

        var visual = lit.ModelTensors.Keys.Where(k => k.StartsWith("visual.", StringComparison.Ordinal)).ToList();
        Assert.Contains(visual, k => k.EndsWith("running_mean", StringComparison.Ordinal));
        // The fresh model's tower differs from the checkpoint's, so equality below means "loaded, then untouched".
        Assert.Contains(visual, k => !Same(init[k], clip.ModelTensors[k]));
        foreach (var k in visual)
            Assert.True(Same(lit.ModelTensors[k], clip.ModelTensors[k]), $"{k} changed while locked");
        // The text side did train.
        Assert.False(Same(lit.ModelTensors["text_projection"], init["text_projection"]));
        Assert.Contains(lit.ModelTensors.Keys, k => k.StartsWith("bert.", StringComparison.Ordinal) && !Same(lit.ModelTensors[k], init[k]));

        var moments = lit.TrainerTensors.Keys.Where(k => k.StartsWith("adamw.exp_avg", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(moments, k => k.Contains(".visual.", StringComparison.Ordinal));
        Assert.Contains("adamw.exp_avg.text_projection", moments);
        Assert.Contains("adamw.exp_avg_sq.logit_scale", moments);
        Assert.Contains(moments, k => k.StartsWith("adamw.exp_avg.bert.", StringComparison.Ordinal));

        var nonVisual = lit.ModelTensors.Where(kv => !kv.Key.StartsWith("visual.", StringComparison.Ordinal) && kv.Value.is_floating_point()).Sum(kv => kv.Value.numel());
        Assert.Equal(nonVisual, (long)lit.State.LastMetrics["trainable_params"]);
    }

    [Fact]
    public void UnlockedVariantStartsFromTheCheckpointAndTrainsTheTower()
    {
        var clip = Checkpoint.Load(ClipCheckpoint());
        manual_seed(2);
        using (var model = new DualEncoder(Micro))
        using (var prepared = new LitObjective(clip.Directory, lockImage: false))
        {
            model.train();
            prepared.Prepare(model);
            foreach (var (name, p) in model.Visual.named_parameters())
            {
                Assert.True(Same(p, clip.ModelTensors["visual." + name]), $"visual.{name} not initialised from the checkpoint");
                Assert.True(p.requires_grad);
            }
            Assert.True(model.Visual.training);
            Assert.Contains(prepared.TrainableParameters(model), p => p.Name.StartsWith("visual.", StringComparison.Ordinal));
        }
        var lit = Checkpoint.Load(Train("unlocked", Micro, 2, 4, _ => new LitObjective(clip.Directory, lockImage: false)));
        Assert.False(Same(lit.ModelTensors["visual.proj"], clip.ModelTensors["visual.proj"]));
        Assert.Contains("adamw.exp_avg.visual.proj", lit.TrainerTensors.Keys);
    }

    [Fact]
    public void LockedTowerRunsInEvalModeWithoutGradientEvenAfterModelTrain()
    {
        var clip = ClipCheckpoint();
        manual_seed(3);
        using var model = new DualEncoder(Micro);
        using var lit = new LitObjective(clip);
        model.train();
        lit.Prepare(model);
        Assert.DoesNotContain(lit.TrainableParameters(model), p => p.Name.StartsWith("visual.", StringComparison.Ordinal));
        model.train();   // what evaluation between steps does to the whole model
        var before = model.Visual.named_buffers().ToDictionary(b => b.name, b => b.buffer.clone());
        using var batch = new ResumeTests.SyntheticData(4, 3).Epoch(0, 0).First();
        var output = lit.Forward(model, batch);
        output.Loss.backward();
        Assert.All(model.Visual.modules().Prepend(model.Visual), m => Assert.False(m.training, $"{m.GetName()} is in train mode"));
        Assert.True(model.Text.training);
        foreach (var (name, b) in model.Visual.named_buffers())
            Assert.True(Same(b, before[name]), $"buffer {name} moved during a locked forward");
        Assert.All(model.Visual.named_parameters(), p => Assert.True(p.parameter.grad is null, $"visual.{p.name} got a gradient"));
        Assert.All(model.Text.named_parameters().Where(p => p.name.Contains("weight")), p => Assert.True(p.parameter.grad is not null, $"bert.{p.name} got no gradient"));
        Assert.True(double.IsFinite(output.Loss.item<float>()));
        Assert.Equal(model.ParameterCount() - model.ParameterCount("visual."), (long)output.Metrics["trainable_params"]);
        Assert.True(output.Metrics.ContainsKey("acc_i2t") && output.Metrics.ContainsKey("logit_scale"));
        output.Loss.Dispose();
    }

    [Fact]
    public void TextCheckpointInitialisesTheTextTowerAndProjection()
    {
        var clip = Checkpoint.Load(ClipCheckpoint());
        foreach (var withText in new[] { true, false })
        {
            manual_seed(4);
            using var model = new DualEncoder(Micro);
            using var lit = new LitObjective(clip.Directory, textCheckpoint: withText ? clip.Directory : null);
            lit.Prepare(model);
            var text = model.named_parameters().Where(p => p.name.StartsWith("bert.", StringComparison.Ordinal) || p.name == "text_projection").ToList();
            Assert.NotEmpty(text);
            if (withText)
                Assert.All(text, p => Assert.True(Same(p.parameter, clip.ModelTensors[p.name]), $"{p.name} not loaded"));
            else
                Assert.Contains(text, p => !Same(p.parameter, clip.ModelTensors[p.name]));
        }
    }

    [Theory]
    [InlineData("""{"image_checkpoint":"x","lock":false}""", "unknown option 'lock' (known: image_checkpoint, lock_image, text_checkpoint)")]
    [InlineData("""{}""", "image_checkpoint is required")]
    [InlineData("""{"image_checkpoint":3}""", "image_checkpoint must be a path")]
    [InlineData("""{"image_checkpoint":"x","lock_image":"yes"}""", "lock_image must be true or false")]
    [InlineData("""{"image_checkpoint":"x","text_checkpoint":""}""", "text_checkpoint must be a path")]
    public void BadOptionsAreClearErrors(string json, string message)
    {
        using var model = new DualEncoder(Micro);
        var e = Assert.Throws<TuwenException>(() => ObjectiveRegistry.Create("lit", JsonNode.Parse(json)!.AsObject(), model));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void CheckpointsThatDoNotFitAreClearErrors()
    {
        var clip = ClipCheckpoint();
        var missing = Path.Combine(root, "nowhere");
        using var model = new DualEncoder(Micro);
        using var lit = ObjectiveRegistry.Create("lit", new JsonObject { ["image_checkpoint"] = missing }, model);
        Assert.Equal("lit", lit.Name);
        var e = Assert.Throws<TuwenException>(() => lit.Prepare(model));
        Assert.Contains("lit: image_checkpoint: no checkpoint at", e.Message);

        var wider = Micro with { Vision = Micro.Vision with { Width = 48, Heads = 2 } };
        using var wide = new DualEncoder(wider);
        e = Assert.Throws<TuwenException>(() => new LitObjective(clip).Prepare(wide));
        Assert.Contains("image_checkpoint", e.Message);
        Assert.Contains("does not fit this model's image tower", e.Message);
        Assert.Contains("has shape", e.Message);

        var swin = Micro with { Vision = SwinTransformerTestsConfig() };
        using var swinModel = new DualEncoder(swin);
        e = Assert.Throws<TuwenException>(() => new LitObjective(clip).Prepare(swinModel));
        Assert.Contains("(vision.type 'swin')", e.Message);
        Assert.Contains("lacks tensor 'visual.", e.Message);

        var otherText = Micro with { Text = Micro.Text with { Width = 16 } };
        using var textModel = new DualEncoder(otherText);
        e = Assert.Throws<TuwenException>(() => new LitObjective(clip, textCheckpoint: clip).Prepare(textModel));
        Assert.Contains("text_checkpoint", e.Message);
        Assert.Contains("text tower", e.Message);
    }

    private static VisionConfig SwinTransformerTestsConfig() => new()
    {
        Type = "swin", ImageSize = 16, PatchSize = 4, Width = 8, StageDepths = [2], StageHeads = [1], WindowSize = 4,
    };
}
