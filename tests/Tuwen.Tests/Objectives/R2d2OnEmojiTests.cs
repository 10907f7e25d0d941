using System.Text.Json.Nodes;
using Tuwen.Evaluation;
using Tuwen.Objectives;
using Tuwen.Tests.Corpus;
using Tuwen.Tests.Data;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Objectives;

[Collection(EmojiZhCollection.Name)]
public sealed class R2d2OnEmojiTests(EmojiZhFixture emoji) : IDisposable
{
    private readonly TempDirectory temp = new();
    private string root => temp.Path;

    public void Dispose() => temp.Dispose();

    [Fact]
    public void R2d2TrainsResumesAndEvaluatesWithReranking()
    {
        var options = new JsonObject { ["queue_size"] = 40, ["rerank_k"] = 4, ["cross_layers"] = 1 };
        var run = ObjectiveTraining.Train(emoji, root, ObjectiveTraining.MicroVit, "r2d2", options);
        Assert.Equal("re-ranked top-4", run.Report.Scoring);
        Assert.All(run.Metrics, m => Assert.True(m["itm"]!.GetValue<double>() > 0 && m["fgd"]!.GetValue<double>() >= 0));
        Assert.Equal(0, run.Metrics[0]["queue"]!.GetValue<double>());
        Assert.True(run.Metrics[^1]["queue"]!.GetValue<double>() > 0, "the queue should fill across the resume");
        Assert.Contains("objective.image_text.input_proj.weight", run.Checkpoint.ModelTensors.Keys);
        Assert.Contains("objective.teacher.heads.image_text.itm_head.weight", run.Checkpoint.TrainerTensors.Keys);

        // The same checkpoint without re-ranking (pre-ranking only), and re-ranked at another depth.
        using var loaded = LoadedModel.FromCheckpoint(Path.Combine(root, "run"), run.Checkpoint);
        using var set = Tuwen.Data.EvalSet.Load(Path.Combine(root, "val"), Tuwen.Data.ImageTransform.ForEval(32));
        var plain = new ModelEvaluator(loaded.Model, loaded.Encode, loaded.ContextLength, loaded.Precision).Evaluate("pre-ranking", "emoji-zh", set, null);
        Assert.Null(plain.Scoring);
        var scorer = Assert.IsType<RerankScorer>(loaded.Scorer);
        var evaluator = ModelEvaluator.For(loaded);
        using var features = evaluator.Encode(set);
        using var _ = no_grad();
        var (t2i, i2t) = scorer.Retrieval(evaluator, set, features, 2);
        using (t2i) using (i2t)
        {
            // Exactly 2 candidates per query survive; the rest sit at −100.
            Assert.True(t2i.gt(-100).sum(1).eq(2).all().item<bool>());
            Assert.True(i2t.gt(-100).sum(1).eq(2).all().item<bool>());
            // The scorer (pairs shared by both directions scored once, in batches) agrees with the plain rule
            // applied pair by pair with the checkpoint's cross encoders.
            var heads = Assert.IsType<R2d2Objective>(loaded.Objective).Heads;
            using var ids = evaluator.TokenIds(set.Captions);
            using var hidden = loaded.Model.Text.ForwardTokens(ids);
            using var mask = Tuwen.Models.R2d2Heads.TextMask(ids);
            using var tokens = loaded.Model.Visual.ForwardTokens(set.Images);
            Tensor Probability(Tensor texts, Tensor images)
            {
                using var logits = heads.Itm(hidden.index_select(0, texts), mask.index_select(0, texts), tokens.index_select(0, images));
                return Tuwen.Models.R2d2Heads.MatchProbability(logits);
            }
            using var cosine = features.Texts.matmul(features.Images.t());
            using var expectedT2i = RerankScorer.Rerank(cosine, 2, Probability);
            using var expectedI2t = RerankScorer.Rerank(cosine.t(), 2, (images, texts) => Probability(texts, images));
            Assert.True(t2i.allclose(expectedT2i, 1e-5, 1e-5));
            Assert.True(i2t.allclose(expectedI2t, 1e-5, 1e-5));
        }
        Assert.Equal("re-ranked top-2", scorer.WithK(2).Name);
    }
}
