using System.Net;
using Tuwen.Data;
using Tuwen.Inference;
using Tuwen.Models;
using Tuwen.Objectives;
using static TorchSharp.torch;

namespace Tuwen.Server.Tests;

/// <summary>Live R2D2 re-ranking over a real (random) R2D2 checkpoint's cross encoders.</summary>
public sealed class RerankTests
{
    /// <summary>One pair scored alone (no broadcasting), the way the heads score a training pair.</summary>
    private static float PairProbability(SearchService service, string text, byte[] image)
    {
        var loaded = ((TorchEmbeddingRuntime)service.Runtime).Loaded;
        var heads = ((R2d2Objective)loaded.Objective!).Heads;
        var size = loaded.Model.Config.Vision.ImageSize;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var autocast = Autocast.Enable(loaded.Precision);
        var ids = tensor(loaded.Encode(text), [1, loaded.ContextLength]);
        var pixels = tensor(ImageTransform.ForEval(size).Apply(image), [1, 3, size, size]);
        using var logits = heads.Itm(loaded.Model.Text.ForwardTokens(ids), R2d2Heads.TextMask(ids), loaded.Model.Visual.ForwardTokens(pixels));
        return R2d2Heads.MatchProbability(logits).item<float>();
    }

    [Fact]
    public async Task TextToImageRerankAddsTheMatchProbabilityOfEachPairAndReorders()
    {
        await using var h = await ServerHarness.StartAsync(r2d2: true);
        Assert.True((await ServerHarness.JsonAsync(await h.Client.GetAsync("/health"))).GetProperty("rerank").GetBoolean());
        var plain = (await ServerHarness.JsonAsync(await h.PostJsonAsync("/knn-service", new { text = "猫脸", num_images = 5, deduplicate = false }))).EnumerateArray().ToList();
        var response = await h.PostJsonAsync("/knn-service", new { text = "猫脸", num_images = 5, rerank = 5, deduplicate = false });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reranked = (await ServerHarness.JsonAsync(response)).EnumerateArray().ToList();
        Assert.Equal(plain.Select(r => r.GetProperty("id").GetInt64()).Order(), reranked.Select(r => r.GetProperty("id").GetInt64()).Order());
        var scores = reranked.Select(r => r.GetProperty("similarity").GetSingle()).ToList();
        Assert.Equal(scores.OrderDescending(), scores);
        foreach (var r in reranked)
        {
            var p = r.GetProperty("match_probability").GetSingle();
            var id = r.GetProperty("id").GetInt64();
            Assert.Equal(PairProbability(h.Service, "猫脸", h.Catalog.Thumbnail(id)!), p, 4);
            Assert.Equal(r.GetProperty("cosine").GetSingle() + p, r.GetProperty("similarity").GetSingle(), 5);
        }
    }

    [Fact]
    public async Task ImageToTextRerankScoresCaptionsAndImageToImageIsRefused()
    {
        await using var h = await ServerHarness.StartAsync(r2d2: true);
        var image = TinyModels.Png(4);
        var response = await h.PostJsonAsync("/knn-service", new { image = Convert.ToBase64String(image), modality = "text", num_images = 3, rerank = 8, deduplicate = false });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await ServerHarness.JsonAsync(response)).EnumerateArray().ToList();
        Assert.Equal(3, results.Count);
        foreach (var r in results)
            Assert.Equal(PairProbability(h.Service, r.GetProperty("caption").GetString()!, image), r.GetProperty("match_probability").GetSingle(), 4);

        var refused = await h.PostJsonAsync("/knn-service", new { image = Convert.ToBase64String(image), rerank = 5 });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("text–image pairs", (await ServerHarness.JsonAsync(refused)).GetProperty("error").GetString());
    }
}
