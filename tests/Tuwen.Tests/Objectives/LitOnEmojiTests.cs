using System.Text.Json.Nodes;
using Tuwen.Models;
using Tuwen.Tests.Corpus;
using Tuwen.Tests.Data;
using Tuwen.Tests.Models;
using Tuwen.Training;

namespace Tuwen.Tests.Objectives;

/// <summary>
/// LiT through the whole `tuwen train` path on emoji-zh: a CLIP run makes the image checkpoint, then "lit"
/// trains (stopping half-way and resuming) from it and is evaluated, for the ViT and the Swin tower.
/// </summary>
[Collection(EmojiZhCollection.Name)]
public sealed class LitOnEmojiTests(EmojiZhFixture emoji) : IDisposable
{
    private readonly TempDirectory temp = new();
    private string root => temp.Path;

    public void Dispose() => temp.Dispose();

    private ObjectiveRun ClipThenLit(ModelConfig config)
    {
        var clip = ObjectiveTraining.Train(emoji, Path.Combine(root, "clip"), config, "clip", steps: 4);
        var lit = ObjectiveTraining.Train(emoji, Path.Combine(root, "lit"), config, "lit",
            new JsonObject { ["image_checkpoint"] = clip.Checkpoint.Directory }, steps: 4);
        var visual = clip.Checkpoint.ModelTensors.Keys.Where(k => k.StartsWith("visual.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(visual);
        foreach (var k in visual)
            Assert.True(lit.Checkpoint.ModelTensors[k].equal(clip.Checkpoint.ModelTensors[k]).all().item<bool>(), $"{k} changed under LiT");
        Assert.DoesNotContain(lit.Checkpoint.TrainerTensors.Keys, k => k.StartsWith("adamw.", StringComparison.Ordinal) && k.Contains(".visual.", StringComparison.Ordinal));
        Assert.False(lit.Checkpoint.ModelTensors["text_projection"].equal(clip.Checkpoint.ModelTensors["text_projection"]).all().item<bool>());
        Assert.All(lit.Metrics, m => Assert.True(m["trainable_params"]!.GetValue<double>() > 0));
        Assert.Null(lit.Report.Scoring);   // evaluated with cosines of global features, as CLIP
        Assert.Equal("lit", lit.Checkpoint.Recipe.Objective);
        return lit;
    }

    [Fact]
    public void LitFromAClipCheckpointTrainsResumesAndEvaluates()
    {
        var config = ObjectiveTraining.MicroVit with { Vision = ObjectiveTraining.MicroVit.Vision with { Stem = "conv" } };
        ClipThenLit(config);
    }

    [Fact]
    public void LitWithAMicroSwinTower()
    {
        var config = ObjectiveTraining.MicroVit with { Name = "micro-swin", Vision = SwinTransformerTests.MicroSwin };
        ClipThenLit(config);
    }
}
