using TorchSharp;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Tests.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Models;

public class ActivationCheckpointTests
{
    /// <summary>ResumeTests' micro model with two blocks per tower, so checkpointed blocks feed each other.</summary>
    private static readonly ModelConfig TwoBlocks = ResumeTests.Micro with
    {
        Vision = ResumeTests.Micro.Vision with { Layers = 2 },
        Text = ResumeTests.Micro.Text with { Layers = 2 },
    };

    private static (Tensor Images, Tensor Ids) Batch(int imageSize)
    {
        manual_seed(3);
        var images = randn(4, 3, imageSize, imageSize);
        // Padded rows (id 0) exercise the BERT key mask, which must survive until the recomputation.
        var ids = tensor(new long[] { 101, 7, 9, 102, 0, 0, 0, 0, 101, 8, 8, 11, 12, 102, 0, 0, 101, 5, 102, 0, 0, 0, 0, 0, 101, 6, 7, 8, 9, 10, 11, 102 }, [4, 8]);
        return (images, ids);
    }

    /// <summary>CLIP loss of one batch, backward, and a copy of every parameter's gradient by name.</summary>
    private static Dictionary<string, Tensor> Gradients(DualEncoder model, Tensor images, Tensor ids, bool checkpointed, ScalarType? autocast)
    {
        model.zero_grad();
        using (var scope = NewDisposeScope())
        {
            Tensor loss;
            using (ActivationCheckpoint.Enable(checkpointed))
            using (Autocast.Enable(autocast))
            {
                using var features = model.forward(images, ids);
                loss = ClipObjective.Compute(features.Image, features.Text, features.LogitScale).Loss;
            }
            // Backward outside both scopes: the recomputation must bring back the first pass's precision itself.
            loss.backward();
        }
        return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
    }

    private static void AssertSameGradients(Dictionary<string, Tensor> plain, Dictionary<string, Tensor> checkpointed, double tolerance)
    {
        Assert.Equal(plain.Keys.Order(), checkpointed.Keys.Order());
        foreach (var (name, g) in plain)
        {
            Assert.True(g.abs().max().item<float>() > 0, $"{name}: zero gradient, the comparison would prove nothing");
            Assert.True(g.allclose(checkpointed[name], tolerance, tolerance * 1e-2), $"{name}: gradients differ");
        }
    }

    [Fact]
    public void VitAndBertGradientsEqualThoseWithoutCheckpointingInFp32()
    {
        manual_seed(11);
        using var model = new DualEncoder(TwoBlocks);
        var (images, ids) = Batch(16);
        var names = model.named_parameters().Select(p => p.name).ToList();
        var plain = Gradients(model, images, ids, checkpointed: false, autocast: null);
        var checkpointed = Gradients(model, images, ids, checkpointed: true, autocast: null);
        AssertSameGradients(plain, checkpointed, 1e-5);
        Assert.Equal(names, model.named_parameters().Select(p => p.name));
    }

    [Fact]
    public void SwinGradientsEqualThoseWithoutCheckpointing()
    {
        manual_seed(12);
        using var model = new DualEncoder(TwoBlocks with { Vision = SwinTransformerTests.MicroSwin });
        var (images, ids) = Batch(32);
        AssertSameGradients(Gradients(model, images, ids, false, null), Gradients(model, images, ids, true, null), 1e-5);
    }

    [Fact]
    public void Bf16RecomputationTakesTheFirstPassPrecision()
    {
        manual_seed(13);
        using var model = new DualEncoder(TwoBlocks);
        var (images, ids) = Batch(16);
        var plain = Gradients(model, images, ids, false, ScalarType.BFloat16);
        var checkpointed = Gradients(model, images, ids, true, ScalarType.BFloat16);
        // Same bf16 operations in the same order: equal to float rounding. A float32 recomputation would be off
        // by bf16's ~1e-2 relative error (checked below so this test can tell the two apart).
        AssertSameGradients(plain, checkpointed, 1e-4);
        var fp32 = Gradients(model, images, ids, false, null);
        Assert.Contains(fp32, kv => !kv.Value.allclose(plain[kv.Key], 1e-4, 1e-6));
    }

    [Fact]
    public void BlockRunsTwiceWhenCheckpointedAndOnceOtherwise()
    {
        using var holder = new Scale();
        var weight = holder.Weight;
        var calls = 0;
        Tensor Block(Tensor x, Tensor? mask) { calls++; return x.mul(weight).tanh(); }
        using var x = tensor(new float[] { 0.5f, 0.25f }).requires_grad_(true);

        using (ActivationCheckpoint.Enable())
        {
            using var y = ActivationCheckpoint.Run(holder, Block, x, null);
            Assert.Equal(1, calls);
            y.sum().backward();
        }
        Assert.Equal(2, calls);
        // Hand-computed: d/dw tanh(w·x) = x·(1 − tanh²(w·x)); d/dx = w·(1 − tanh²(w·x)).
        double Sech2(double v) => 1 - Math.Tanh(v) * Math.Tanh(v);
        Assert.Equal(0.5 * Sech2(1.0), weight.grad!.data<float>()[0], 5);
        Assert.Equal(0.25 * Sech2(-0.25), weight.grad!.data<float>()[1], 5);
        Assert.Equal(2 * Sech2(1.0), x.grad!.data<float>()[0], 5);
        Assert.Equal(-1 * Sech2(-0.25), x.grad!.data<float>()[1], 5);

        calls = 0;
        using (ActivationCheckpoint.Enable())
        using (no_grad())
        using (var y = ActivationCheckpoint.Run(holder, Block, x, null)) Assert.Equal(1, calls);
        using (var y = ActivationCheckpoint.Run(holder, Block, x, null)) Assert.Equal(2, calls);
    }

    [Fact]
    public void Bf16TrainingStepsRunWithCheckpointing()
    {
        var recipe = new Tuwen.Training.TrainConfig
        {
            Model = "micro", Steps = 3, BatchSize = 4, Lr = 1e-2, WarmupSteps = 1, SaveEvery = 10, LogEvery = 1,
            Precision = "bf16", Seed = 7, GradCheckpointing = true,
        };
        using var dir = new Tuwen.Tests.Data.TempDirectory();
        manual_seed(7);
        using var model = new DualEncoder(TwoBlocks);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        using var objective = new ClipObjective();
        var result = new Tuwen.Training.Trainer(recipe, model, objective, ["[PAD]"], dir.Path)
            .Run(new ResumeTests.SyntheticData(4, 7));
        Assert.Equal(3, result.State.Step);
        Assert.True(double.IsFinite(result.State.LastMetrics["loss"]));
        Assert.All(model.named_parameters().Where(p => !p.name.Contains("logit_scale")),
            p => Assert.False(p.parameter.allclose(before[p.name]), $"{p.name} did not train"));
        Assert.False(ActivationCheckpoint.Enabled);
    }

    [Fact]
    public void RecipeKeySwitchesItAndRejectsNonBooleans()
    {
        var recipe = new Tuwen.Training.TrainConfig();
        Assert.False(recipe.GradCheckpointing);
        Assert.True(recipe.With(["grad_checkpointing=true"]).GradCheckpointing);
        Assert.Contains("grad_checkpointing\": true", recipe.With(["grad_checkpointing=true"]).ToJson());
        Assert.Throws<TuwenException>(() => recipe.With(["grad_checkpointing=maybe"]));
    }

    /// <summary>A one-parameter block: tanh(w ⊙ x).</summary>
    private sealed class Scale : nn.Module
    {
        public Scale() : base(nameof(Scale))
        {
            Weight = nn.Parameter(tensor(new float[] { 2f, -1f }));
            register_parameter("w", Weight);
        }

        public TorchSharp.Modules.Parameter Weight { get; }
    }
}
