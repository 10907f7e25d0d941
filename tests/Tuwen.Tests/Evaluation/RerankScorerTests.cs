using Tuwen.Evaluation;
using static TorchSharp.torch;

namespace Tuwen.Tests.Evaluation;

public class RerankScorerTests
{
    [Fact]
    public void CrossEncoderProbabilitiesReorderTheTopKAndEverythingElseIsExcluded()
    {
        using var cosine = tensor(new[] { 0.9f, 0.8f, 0.1f, 0.7f, 0.2f, 0.3f, 0.4f, 0.5f }, [2, 4]);
        // Hand-set matching probabilities per (query, candidate); only the top-2 pairs may be asked for.
        var probability = new Dictionary<(long, long), float> { [(0, 0)] = 0.1f, [(0, 1)] = 0.9f, [(1, 3)] = 0.2f, [(1, 2)] = 0.6f };
        var asked = new List<(long, long)>();
        using var scores = RerankScorer.Rerank(cosine, 2, (q, c) =>
        {
            var pairs = q.data<long>().ToArray().Zip(c.data<long>().ToArray()).ToList();
            asked.AddRange(pairs);
            return tensor(pairs.Select(p => probability[p]).ToArray());
        });
        Assert.Equal(probability.Keys.Order(), asked.Order());
        // Row 0: top 2 by cosine = columns 0 (0.9) and 1 (0.8) → 0.9 + 0.1 = 1.0 and 0.8 + 0.9 = 1.7: column 1 now first;
        // column 3 (0.7) was third, so it is excluded (−100) like column 2.
        // Row 1: top 2 = columns 3 (0.5) and 2 (0.4) → 0.5 + 0.2 = 0.7 and 0.4 + 0.6 = 1.0: column 2 now first.
        var expected = new[] { 1.0f, 1.7f, -100f, -100f, -100f, -100f, 1.0f, 0.7f };
        var actual = scores.data<float>().ToArray();
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
        Assert.Equal(new long[] { 1, 2 }, scores.argmax(1).data<long>().ToArray());
        using var cosineOrder = cosine.argmax(1);
        Assert.Equal(new long[] { 0, 3 }, cosineOrder.data<long>().ToArray());
    }

    [Fact]
    public void KBeyondTheCandidatesReranksThemAll()
    {
        using var cosine = tensor(new[] { 0.3f, 0.2f }, [1, 2]);
        using var scores = RerankScorer.Rerank(cosine, 16, (q, c) => tensor(new[] { 0f, 0.5f }));
        Assert.Equal(new[] { 0.3f, 0.7f }, scores.data<float>().ToArray().Select(v => MathF.Round(v, 5)));
    }
}
