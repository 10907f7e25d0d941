using Tuwen.Evaluation;
using static TorchSharp.torch;

namespace Tuwen.Tests.Evaluation;

public class TokenWiseScorerTests
{
    [Fact]
    public void ZeroShotAveragesPerTemplateProbabilities()
    {
        // One image with one token x = (1,0); two classes, two templates.
        // Template A: class 0 prompt {(1,0)} → s^I = 1; class 1 prompt {(0,1)} → 0.
        //   softmax(1, 0) = (e/(e+1), 1/(e+1)) = (0.7310586, 0.2689414).
        // Template B: class 0 prompt {(0,1), pad (1,0)} → s^I = 0 (the pad would score 1); class 1 {(.5, √.75)} → .5.
        //   softmax(0, .5) = (0.3775407, 0.6224593).
        // Mean of the probabilities: (0.5542996, 0.4457004). (Averaging the scores first, softmax(.5, .25), would give
        // (0.5621765, 0.4378235); a logit scale would sharpen both: Wukong applies none.)
        using var image = tensor(new float[] { 1, 0 }, [1, 1, 2]);
        var templates = new[]
        {
            (tensor(new float[] { 1, 0, 0, 0, /**/ 0, 1, 0, 0 }, [2, 2, 2]), tensor(new long[] { 1, 0, 1, 0 }, [2, 2])),
            (tensor(new float[] { 0, 1, 1, 0, /**/ 0.5f, (float)Math.Sqrt(0.75), 0, 0 }, [2, 2, 2]), tensor(new long[] { 1, 0, 1, 0 }, [2, 2])),
        };
        using var probabilities = TokenWiseScorer.ZeroShotProbabilities(image, templates);
        Assert.Equal([1L, 2L], probabilities.shape);
        var p = probabilities.data<float>().ToArray();
        Assert.Equal(0.5542996f, p[0], 5);
        Assert.Equal(0.4457004f, p[1], 5);
        Assert.True(templates.All(t => t.Item1.IsInvalid && t.Item2.IsInvalid), "each template's tensors are released once used");
    }
}
