using System.Text.Json.Nodes;
using TorchSharp;
using Tuwen.Data;
using Tuwen.Models;
using Tuwen.Objectives;
using static TorchSharp.torch;

namespace Tuwen.Tests.Objectives;

public class R2d2ObjectiveTests
{
    private static Tensor Matrix(float[,] v)
    {
        var rows = v.GetLength(0);
        var cols = v.GetLength(1);
        return tensor(Enumerable.Range(0, rows * cols).Select(i => v[i / cols, i % cols]).ToArray(), [rows, cols]);
    }

    private static long[] Longs(Tensor t) => t.data<long>().ToArray();

    [Fact]
    public void HardestNegativesAreTheHighestScoringNonMatchingPairs()
    {
        // Rows = images, columns = texts; pair (i, i) matches.
        using var logits = Matrix(new float[,] { { 0.9f, 0.5f, 0.7f }, { 0.2f, 0.8f, 0.6f }, { 0.4f, 0.3f, 0.1f } });
        using var positives = R2d2Objective.PositivePairs(["a", "b", "c"]);
        var (imageForText, textForImage) = R2d2Objective.HardNegatives(logits, positives, HardNegativeMode.Hardest);
        using (imageForText) using (textForImage)
        {
            // Image 0: texts 1 (0.5), 2 (0.7) → 2. Image 1: 0 (0.2), 2 (0.6) → 2. Image 2: 0 (0.4), 1 (0.3) → 0,
            // although its own text scores lowest (0.1).
            Assert.Equal(new long[] { 2, 2, 0 }, Longs(textForImage));
            // Text 0: images 1 (0.2), 2 (0.4) → 2. Text 1: 0 (0.5), 2 (0.3) → 0. Text 2: 0 (0.7), 1 (0.6) → 0.
            Assert.Equal(new long[] { 2, 0, 0 }, Longs(imageForText));
        }
    }

    [Fact]
    public void CaptionsOfTheSameImageAreNotNegatives()
    {
        // Rows 0 and 2 are two captions of image "a": (0, 2) and (2, 0) match although off the diagonal.
        using var logits = Matrix(new float[,]
        {
            { 0.9f, 0.1f, 0.8f, 0.3f },
            { 0.2f, 0.9f, 0.5f, 0.6f },
            { 0.8f, 0.4f, 0.9f, 0.2f },
            { 0.7f, 0.1f, 0.6f, 0.9f },
        });
        using var positives = R2d2Objective.PositivePairs(["a", "b", "a", "c"]);
        Assert.True(positives[0, 2].item<bool>() && positives[2, 0].item<bool>() && !positives[0, 1].item<bool>());
        var (imageForText, textForImage) = R2d2Objective.HardNegatives(logits, positives, HardNegativeMode.Hardest);
        using (imageForText) using (textForImage)
        {
            // Image 0: skip texts 0, 2 (same image) → text 3 (0.3) over text 1 (0.1). Image 1 → text 3 (0.6).
            // Image 2: skip 0, 2 → text 1 (0.4). Image 3 → text 0 (0.7).
            Assert.Equal(new long[] { 3, 3, 1, 0 }, Longs(textForImage));
            // Text 0: skip images 0, 2 → image 3 (0.7). Text 1: image 2 (0.4). Text 2: skip 0, 2 → image 3 (0.6). Text 3: image 1 (0.6).
            Assert.Equal(new long[] { 3, 2, 3, 1 }, Longs(imageForText));
        }
    }

    [Fact]
    public void SampledNegativesNeverMatchAndRepeatWithTheSeed()
    {
        using var logits = randn(6, 6, generator: new Generator(4));
        using var positives = R2d2Objective.PositivePairs(["a", "b", "a", "c", "d", "e"]);
        long[] Draw(ulong seed)
        {
            using var g = new Generator(seed);
            var all = new List<long>();
            for (var i = 0; i < 50; i++)
            {
                var (a, b) = R2d2Objective.HardNegatives(logits, positives, HardNegativeMode.Sample, g);
                using (a) using (b)
                {
                    for (var r = 0; r < 6; r++)
                    {
                        Assert.False(positives[r, b[r].item<long>()].item<bool>(), "sampled a matching text");
                        Assert.False(positives[a[r].item<long>(), r].item<bool>(), "sampled a matching image");
                    }
                    all.AddRange(Longs(a).Concat(Longs(b)));
                }
            }
            return [.. all];
        }
        var first = Draw(9);
        Assert.Equal(first, Draw(9));
        Assert.NotEqual(first, Draw(10));
        Assert.True(first.Distinct().Count() > 2, "sampling should not always pick the same candidate");
    }

    [Fact]
    public void ItmPairsArePositivesThenNegativeImagesThenNegativeTexts()
    {
        using var imageForText = tensor(new long[] { 2, 0, 0 });
        using var textForImage = tensor(new long[] { 2, 2, 0 });
        var (textIndex, imageIndex, labels) = R2d2Objective.ItmPairs(imageForText, textForImage);
        using (textIndex) using (imageIndex) using (labels)
        {
            Assert.Equal(new long[] { 0, 1, 2, 0, 1, 2, 2, 2, 0 }, Longs(textIndex));
            Assert.Equal(new long[] { 0, 1, 2, 2, 0, 0, 0, 1, 2 }, Longs(imageIndex));
            Assert.Equal(new long[] { 1, 1, 1, 0, 0, 0, 0, 0, 0 }, Longs(labels));
        }
    }

    [Fact]
    public void ItmLossIsWeightedCrossEntropyOnLogits()
    {
        // Both sides logits (0, 0) for a positive and a negative: CE = ln 2 each; weighted mean (2·ln2 + 1·ln2)/3 = ln 2.
        // Text side positive (0, ln 3): CE = −ln(3/4) = 0.287682; negative (0, 0): ln 2 = 0.693147;
        // weighted (2·0.287682 + 0.693147)/3 = 0.422837. Image side stays ln 2. Loss = (0.422837 + 0.693147)/2 = 0.557992.
        using var labels = tensor(new long[] { 1, 0 });
        using var logits = new ItmLogits(tensor(new[] { 0f, MathF.Log(3), 0f, 0f }, [2, 2]), zeros(2, 2));
        using var loss = R2d2Objective.ItmLoss(logits, labels);
        Assert.Equal(0.557992f, loss.item<float>(), 5);
    }

    [Fact]
    public void TeacherSoftTargetsMixOneHotAndTeacherSoftmax()
    {
        // α = 0.6, τ = 0.1, teacher sims (0.5, 0.3, 0.1) → logits (5, 3, 1); softmax = (148.413, 20.086, 2.718)/171.217
        // = (0.866813, 0.117310, 0.015876); ỹ = 0.6·(1, 0, 0) + 0.4·softmax = (0.946725, 0.046924, 0.006350).
        using var hard = tensor(new float[] { 1, 0, 0 }, [1, 3]);
        using var sims = tensor(new[] { 0.5f, 0.3f, 0.1f }, [1, 3]);
        using var y = R2d2Objective.SoftTargets(hard, sims, 0.6, 0.1);
        AssertClose([0.946725f, 0.046924f, 0.006350f], y);
        // A stale queue entry weighted 0.5: logits (5, 3, 1 + ln 0.5) → softmax (0.873749, 0.118249, 0.008002);
        // ỹ = (0.949500, 0.047300, 0.003201).
        using var logWeights = tensor(new[] { 0f, 0f, MathF.Log(0.5f) });
        using var decayed = R2d2Objective.SoftTargets(hard, sims, 0.6, 0.1, logWeights);
        AssertClose([0.949500f, 0.047300f, 0.003201f], decayed);
    }

    [Fact]
    public void DistilledContrastiveIsCrossEntropyAgainstTheSoftTargets()
    {
        // q = c = I₂, scale 1, α = 1 (one-hot): row logits (1, 0) → loss = ln(1 + e⁻¹) = 0.313262.
        using var eye2 = eye(2);
        using var scale = tensor(1f);
        using var positives = R2d2Objective.PositivePairs(["a", "b"]);
        using var oneHot = R2d2Objective.DistilledContrastive(eye2, eye2, eye2, eye2, scale, positives, null, 1.0, 0.1);
        Assert.Equal(0.313262f, oneHot.item<float>(), 5);
        // α = 0 with teacher sims (1, 0)/τ=1 → targets (0.731059, 0.268941); loss = −(0.731059·ln 0.731059 +
        // 0.268941·ln 0.268941) = 0.582203 (the entropy, as student = teacher).
        using var soft = R2d2Objective.DistilledContrastive(eye2, eye2, eye2, eye2, scale, positives, null, 0.0, 1.0);
        Assert.Equal(0.582203f, soft.item<float>(), 5);
        // A queued candidate equal to text 1; α = 1 keeps it a negative even for query 1:
        // row 0 logits (1, 0, 0) → −ln(e/(e+2)) = ln(1 + 2/e) = 0.551445; row 1 (0, 1, 1) → −ln(e/(1+2e)) = ln(2 + 1/e) = 0.861995.
        using var withQueue = cat([eye2, eye2[1].unsqueeze(0)]);
        using var queued = R2d2Objective.DistilledContrastive(eye2, withQueue, eye2, withQueue, scale, positives, null, 1.0, 0.1);
        Assert.Equal((0.551445f + 0.861995f) / 2, queued.item<float>(), 5);
    }

    private static void AssertClose(float[] expected, Tensor actual)
    {
        var a = actual.data<float>().ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (var i = 0; i < a.Length; i++) Assert.Equal(expected[i], a[i], 5);
    }
}
