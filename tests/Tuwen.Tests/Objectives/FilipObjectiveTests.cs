using System.Text.Json.Nodes;
using Tuwen.Models;
using Tuwen.Objectives;
using static TorchSharp.torch;

namespace Tuwen.Tests.Objectives;

public class FilipObjectiveTests
{
    [Fact]
    public void LossMatchesHandComputed2x2()
    {
        // The tokens of TokenWiseSimilarityTests: s^I = [[.9, −.5], [−.3, .3]], s^T = [[.9, 0], [−.4, .6]] ([image, text]).
        // Scale 2: logits_I = [[1.8, −1], [−.6, .6]], logits_T = [[1.8, 0], [−.8, 1.2]].
        // Rows of logits_I (image i → text i): ln(1+e^−2.8) = 0.0590646, ln(1+e^−1.2) = 0.2632503 → L_I = 0.1611576.
        // Columns of logits_T (text j → image j): col 0 = [1.8, −.8] → ln(1+e^−2.6) = 0.0716770,
        //   col 1 = [0, 1.2] → ln(1+e^−1.2) = 0.2632503 → L_T = 0.1674636.   L = (L_I + L_T)/2 = 0.1643106.
        // (Using s^I for both directions, as a renamed CLIP loss over one score matrix would, gives 0.1482630.)
        using var images = tensor(new float[] { 1, 0, 0, 1, /**/ 0, -1, -0.6f, -0.8f }, [2, 2, 2]);
        using var texts = tensor(new float[] { 1, 0, 0.6f, 0.8f, 0, 1, /**/ -1, 0, 0, 0, 0, 0 }, [2, 3, 2]);
        using var mask = tensor(new long[] { 1, 1, 0, 1, 0, 0 }, [2, 3]);
        using var scale = tensor(2f);
        var output = FilipObjective.Compute(images, null, texts, mask, scale);
        using var loss = output.Loss;
        Assert.Equal(0.1643106, loss.item<float>(), 5);
        // Row argmaxes of logits_I: 0, 1; column argmaxes of logits_T: 0, 1.
        Assert.Equal(1.0, output.Metrics["acc_i2t"], 6);
        Assert.Equal(1.0, output.Metrics["acc_t2i"], 6);
        Assert.Equal(2.0, output.Metrics["logit_scale"], 6);
    }

    [Fact]
    public void FilipTakesNoOptions()
    {
        Assert.NotNull(ObjectiveRegistry.Create("filip", null, null!));
        var e = Assert.Throws<TuwenException>(() => ObjectiveRegistry.Create("filip", new JsonObject { ["tokens"] = 12 }, null!));
        Assert.Contains("tokens", e.Message);
    }

    [Fact]
    public void ReducedTokenOptionsAreCheckedAgainstTheModel()
    {
        using var model = new DualEncoder(ObjectiveTraining.MicroVit);   // 4×4 patch grid, embed_dim 32
        using (var objective = (ReducedTokenObjective)ObjectiveRegistry.Create("reduced-token", new JsonObject(), model))
        {
            Assert.Equal(ReducedTokenObjective.DefaultTokens, objective.Reduction.Tokens);
            Assert.Equal(ReducedTokenObjective.DefaultGroups, objective.Reduction.Groups);
        }
        using (var objective = (ReducedTokenObjective)ObjectiveRegistry.Create("reduced-token", new JsonObject { ["tokens"] = 4, ["groups"] = "2" }, model))
        {
            Assert.Equal(4, objective.Reduction.Tokens);
            Assert.Equal(2, objective.Reduction.Groups);
        }
        Assert.Contains("16 tokens", Assert.Throws<TuwenException>(() =>
            ObjectiveRegistry.Create("reduced-token", new JsonObject { ["tokens"] = 17 }, model)).Message);
        Assert.Contains("divide", Assert.Throws<TuwenException>(() =>
            ObjectiveRegistry.Create("reduced-token", new JsonObject { ["groups"] = 3 }, model)).Message);
        Assert.Contains("known: tokens, groups", Assert.Throws<TuwenException>(() =>
            ObjectiveRegistry.Create("reduced-token", new JsonObject { ["token"] = 4 }, model)).Message);
        Assert.Contains("integer", Assert.Throws<TuwenException>(() =>
            ObjectiveRegistry.Create("reduced-token", new JsonObject { ["tokens"] = 2.5 }, model)).Message);
    }
}
