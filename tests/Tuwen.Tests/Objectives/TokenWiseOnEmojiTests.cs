using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Tests.Corpus;
using Tuwen.Tests.Data;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Objectives;

[Collection(EmojiZhCollection.Name)]
public sealed class TokenWiseOnEmojiTests(EmojiZhFixture emoji) : IDisposable
{
    private readonly TempDirectory temp = new();
    private string root => temp.Path;

    public void Dispose() => temp.Dispose();

    [Fact]
    public void FilipTrainsResumesAndEvaluatesTokenWise()
    {
        var run = ObjectiveTraining.Train(emoji, root, ObjectiveTraining.MicroVit, "filip");
        Assert.Equal("token-wise", run.Report.Scoring);
        Assert.NotNull(run.Report.ZeroShot);
        Assert.All(run.Metrics, m => Assert.True(m["acc_i2t"] is not null && m["logit_scale"] is not null));

        // The scorer's two directions, checked entry by entry against a plain loop over the model's tokens:
        // text→image ranks by s^T (caption tokens pick their best patch), image→text by s^I (patches pick their
        // best caption token). An odd evaluator batch size exercises the batching.
        using var loaded = LoadedModel.FromCheckpoint(Path.Combine(root, "run"));
        using var set = EvalSet.Load(Path.Combine(root, "val"), ImageTransform.ForEval(loaded.Model.Config.Vision.ImageSize));
        var evaluator = ModelEvaluator.For(loaded, batchSize: 7);
        using var global = evaluator.Encode(set);
        var (t2i, i2t) = loaded.Scorer!.Retrieval(evaluator, set, global);
        using (t2i) using (i2t)
        {
            Assert.Equal([(long)set.Captions.Count, set.Count], t2i.shape);
            Assert.Equal([(long)set.Count, set.Captions.Count], i2t.shape);
            using var noGrad = no_grad();
            foreach (var (caption, image) in new[] { (0, 3), (5, 0), (set.Captions.Count - 1, set.Count - 1) })
            {
                var (sI, sT) = LoopScores(loaded.Model, evaluator, set, image, caption);
                Assert.Equal(sT, t2i[caption, image].item<float>(), 4);
                Assert.Equal(sI, i2t[image, caption].item<float>(), 4);
                Assert.True(Math.Abs(sI - sT) > 1e-4, $"s^I = s^T = {sI} for image {image}, caption {caption}");
            }
        }
    }

    [Fact]
    public void ReducedTokenTrainsItsReductionAndEvaluatesWithIt()
    {
        var options = new JsonObject { ["tokens"] = 4, ["groups"] = 4 };
        var run = ObjectiveTraining.Train(emoji, root, ObjectiveTraining.MicroVit, "reduced-token", options);
        Assert.Equal("token-wise, 4 reduced image tokens", run.Report.Scoring);
        Assert.NotNull(run.Report.ZeroShot);

        // Saved with the model, updated by the optimizer (its moment estimate is nonzero: gradients reached it).
        var saved = run.Checkpoint.ModelTensors["objective.attention_maps.weight"];
        Assert.Equal([4L, 32L, 1L, 1L], saved.shape);
        Assert.Equal([32L, 8L, 1L, 1L], run.Checkpoint.ModelTensors["objective.values.weight"].shape);
        foreach (var name in new[] { "attention_maps.weight", "attention_mix.weight", "values.weight", "norm.weight" })
            Assert.True(run.Checkpoint.TrainerTensors["adamw.exp_avg.objective." + name].abs().sum().item<float>() > 0, name);

        // Restored for evaluation: the loaded objective's reduction holds the saved weights, and its scorer uses K tokens.
        using var loaded = LoadedModel.FromCheckpoint(Path.Combine(root, "run"));
        var reduction = ((ReducedTokenObjective)loaded.Objective!).Reduction;
        var restored = reduction.named_parameters().Single(p => p.name == "attention_maps.weight").parameter;
        Assert.True(restored.equal(saved).all().item<bool>());
        using var set = EvalSet.Load(Path.Combine(root, "val"), ImageTransform.ForEval(loaded.Model.Config.Vision.ImageSize));
        var scorer = (TokenWiseScorer)loaded.Scorer!;
        using var tokens = scorer.ImageTokens(ModelEvaluator.For(loaded), set.Images.narrow(0, 0, 3));
        Assert.Equal([3L, 4L, 32L], tokens.shape);
    }

    /// <summary>s^I and s^T of one pair by explicit loops over the normalised tokens.</summary>
    private static (float ImageToText, float TextToImage) LoopScores(DualEncoder model, ModelEvaluator evaluator, EvalSet set, int image, int caption)
    {
        using var scope = NewDisposeScope();
        var patches = nn.functional.normalize(model.EncodeImageTokens(set.Images.narrow(0, image, 1)), dim: -1)[0];
        var ids = evaluator.TokenIds([set.Captions[caption]]);
        var words = nn.functional.normalize(model.EncodeTextTokens(ids), dim: -1)[0];
        var real = ids[0].data<long>().ToArray().Count(id => id != 0);
        var p = patches.data<float>().ToArray();
        var w = words.data<float>().ToArray();
        int n1 = (int)patches.shape[0], d = (int)patches.shape[1];
        float Dot(int k, int r) { var s = 0f; for (var i = 0; i < d; i++) s += p[k * d + i] * w[r * d + i]; return s; }
        // Real tokens come first ([CLS] … [SEP], then zero padding).
        var sI = Enumerable.Range(0, n1).Average(k => Enumerable.Range(0, real).Max(r => Dot(k, r)));
        var sT = Enumerable.Range(0, real).Average(r => Enumerable.Range(0, n1).Max(k => Dot(k, r)));
        return (sI, sT);
    }
}
