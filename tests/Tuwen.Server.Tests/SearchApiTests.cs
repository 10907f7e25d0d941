using System.Net;
using System.Text.Json;

namespace Tuwen.Server.Tests;

/// <summary>Every endpoint answering well-formed requests, with scores checked against a brute-force cosine.</summary>
public sealed class SearchApiTests
{
    private static float Dot(float[] a, float[] b) => a.Zip(b, (x, y) => x * y).Sum();

    private static float[] ImageVector(ServerHarness h, long id)
    {
        var v = new float[h.Catalog.Images.Dim];
        Assert.True(h.Catalog.Images.TryGetVector(id, v));
        return v;
    }

    private static async Task<JsonElement[]> Results(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await ServerHarness.JsonAsync(response)).EnumerateArray().ToArray();
    }

    [Fact]
    public async Task TextToImageReturnsClipRetrievalFieldsRankedByTheQueryCosine()
    {
        await using var h = await ServerHarness.StartAsync();
        var results = await Results(await h.PostJsonAsync("/knn-service", new { text = "笑脸", num_images = 5, deduplicate = false }));
        Assert.Equal(5, results.Length);
        var query = await h.Service.EmbedTextAsync("笑脸");
        var expected = Enumerable.Range(0, 9).Select(i => (Id: (long)i, Score: Dot(query, ImageVector(h, i))))
            .OrderByDescending(x => x.Score).ThenBy(x => x.Id).Take(5).ToList();
        Assert.Equal(expected.Select(e => e.Id), results.Select(r => r.GetProperty("id").GetInt64()));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(expected[i].Score, results[i].GetProperty("similarity").GetSingle(), 4);
            var id = results[i].GetProperty("id").GetInt64();
            Assert.Equal($"/thumbnail/{id}", results[i].GetProperty("url").GetString());
            Assert.Equal(h.Catalog.Image(id)!.Caption, results[i].GetProperty("caption").GetString());
        }
    }

    [Fact]
    public async Task DeduplicationDropsTheByteIdenticalCopy()
    {
        await using var h = await ServerHarness.StartAsync();
        var all = await Results(await h.PostJsonAsync("/knn-service", new { image_id = "0", num_images = 9, deduplicate = false }));
        Assert.Equal(9, all.Length);
        Assert.Equal([0L, 8L], all.Take(2).Select(r => r.GetProperty("id").GetInt64()).Order());
        var deduped = await Results(await h.PostJsonAsync("/knn-service", new { image_id = "0", num_images = 9, deduplicate = true }));
        Assert.Equal(8, deduped.Length);
        Assert.Single(deduped, r => r.GetProperty("id").GetInt64() is 0 or 8);
    }

    [Fact]
    public async Task ImageUploadFindsItselfFirst()
    {
        await using var h = await ServerHarness.StartAsync();
        var image = "data:image/png;base64," + Convert.ToBase64String(TinyModels.Png(3));
        var results = await Results(await h.PostJsonAsync("/knn-service", new { image, num_images = 3 }));
        Assert.Equal(3, results[0].GetProperty("id").GetInt64());
        Assert.Equal(1f, results[0].GetProperty("similarity").GetSingle(), 3);
    }

    [Fact]
    public async Task StoredIdAndGivenEmbeddingQueriesFindThatImage()
    {
        await using var h = await ServerHarness.StartAsync();
        var byId = await Results(await h.PostJsonAsync("/knn-service", new { image_id = "5", num_images = 2 }));
        Assert.Equal(5, byId[0].GetProperty("id").GetInt64());
        var byVector = await Results(await h.PostJsonAsync("/knn-service", new { embedding_input = ImageVector(h, 6).Select(x => x * 3).ToArray(), num_images = 2 }));
        Assert.Equal(6, byVector[0].GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task ImageToTextSearchesTheCaptions()
    {
        await using var h = await ServerHarness.StartAsync();
        var results = await Results(await h.PostJsonAsync("/knn-service", new { image = Convert.ToBase64String(TinyModels.Png(2)), modality = "text", num_images = 8, deduplicate = false }));
        Assert.Equal(8, results.Length);
        Assert.Equal(TinyModels.Captions.Order(), results.Select(r => r.GetProperty("caption").GetString()!).Order());
        Assert.All(results, r => Assert.Equal(JsonValueKind.Null, r.GetProperty("url").ValueKind));
    }

    [Fact]
    public async Task ThumbnailIsTheStoredImage()
    {
        await using var h = await ServerHarness.StartAsync();
        var response = await h.Client.GetAsync("/thumbnail/3");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(TinyModels.Png(3), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task HealthIndicesMetadataAndOpenApiDescribeTheIndex()
    {
        await using var h = await ServerHarness.StartAsync();
        var health = await ServerHarness.JsonAsync(await h.Client.GetAsync("/health"));
        Assert.Equal(("ok", 9, 8, 16, false), (health.GetProperty("status").GetString(), health.GetProperty("images").GetInt32(),
            health.GetProperty("texts").GetInt32(), health.GetProperty("dim").GetInt32(), health.GetProperty("rerank").GetBoolean()));
        var indices = await ServerHarness.JsonAsync(await h.Client.GetAsync("/indices-list"));
        Assert.Single(indices.EnumerateArray());
        var metadata = await Results(await h.PostJsonAsync("/metadata", new { ids = new[] { "4" } }));
        Assert.Equal(TinyModels.Captions[4], metadata[0].GetProperty("metadata").GetProperty("caption").GetString());
        var openApi = await h.Client.GetStringAsync("/openapi/v1.json");
        foreach (var path in new[] { "/knn-service", "/thumbnail/{id}", "/health", "/metrics", "/admin/images" }) Assert.Contains($"\"{path}\"", openApi);
        var page = await h.Client.GetStringAsync("/");
        Assert.Contains("图文检索", page);
    }

    [Fact]
    public async Task MetricsCountRequestsAndShowTheIndexSize()
    {
        await using var h = await ServerHarness.StartAsync();
        await h.PostJsonAsync("/knn-service", new { text = "红心" });
        await h.PostJsonAsync("/knn-service", new { text = "" });
        var metrics = await h.Client.GetStringAsync("/metrics");
        Assert.Contains("tuwen_http_requests_total{route=\"/knn-service\",status=\"200\"} 1", metrics);
        Assert.Contains("tuwen_http_requests_total{route=\"/knn-service\",status=\"400\"} 1", metrics);
        Assert.Contains("tuwen_http_request_duration_seconds_count 2", metrics);
        Assert.Contains("tuwen_index_vectors{modality=\"image\",kind=\"brute-force\"} 9", metrics);
        Assert.Contains("tuwen_index_vectors{modality=\"text\",kind=\"brute-force\"} 8", metrics);
    }

    [Fact]
    public async Task AdminTokenAddsAndDeletesImages()
    {
        await using var h = await ServerHarness.StartAsync();
        var add = new HttpRequestMessage(HttpMethod.Post, "/admin/images")
        {
            Content = JsonContent(new { image = Convert.ToBase64String(TinyModels.Png(11)), caption = "新图" }),
            Headers = { { SearchEndpoints.AdminHeader, ServerHarness.AdminToken } },
        };
        var added = await ServerHarness.JsonAsync(await h.Client.SendAsync(add));
        var id = added.GetProperty("id").GetInt64();
        Assert.Equal(10, h.Catalog.Images.Count);
        var found = await Results(await h.PostJsonAsync("/knn-service", new { image = Convert.ToBase64String(TinyModels.Png(11)), num_images = 1 }));
        Assert.Equal(id, found[0].GetProperty("id").GetInt64());
        var delete = new HttpRequestMessage(HttpMethod.Post, "/admin/delete")
        {
            Content = JsonContent(new { ids = new[] { id.ToString(), "999" } }),
            Headers = { { SearchEndpoints.AdminHeader, ServerHarness.AdminToken } },
        };
        var deleted = await ServerHarness.JsonAsync(await h.Client.SendAsync(delete));
        Assert.Equal(1, deleted.GetProperty("deleted").GetInt64());
        Assert.Equal(9, h.Catalog.Images.Count);
    }

    internal static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
