using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;

namespace Tuwen.Server.Tests;

/// <summary>Every bad input answers a 4xx with a JSON {"error": …} that says what is wrong — never a 5xx.</summary>
public sealed class BadInputTests
{
    private static async Task AssertRejected(HttpResponseMessage response, HttpStatusCode status, string messagePart)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        var error = ServerHarness.JsonAsync(response).Result.GetProperty("error").GetString();
        Assert.Contains(messagePart, error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task MalformedBodiesAreRejected()
    {
        await using var h = await ServerHarness.StartAsync();
        await AssertRejected(await h.PostRawAsync("/knn-service", []), HttpStatusCode.BadRequest, "empty");
        await AssertRejected(await h.PostRawAsync("/knn-service", "{not json"u8.ToArray()), HttpStatusCode.BadRequest, "not the expected JSON");
        await AssertRejected(await h.PostRawAsync("/knn-service", "null"u8.ToArray()), HttpStatusCode.BadRequest, "null");
        byte[] latin1 = [.. "{\"text\": \""u8, 0xC4, 0xE3, 0xBA, 0xC3, 0xFF, .. "\"}"u8];
        await AssertRejected(await h.PostRawAsync("/knn-service", latin1), HttpStatusCode.BadRequest, "UTF-8");
        await AssertRejected(await h.PostRawAsync("/knn-service", "{\"num_images\": \"many\", \"text\": \"x\"}"u8.ToArray()), HttpStatusCode.BadRequest, "JSON");
    }

    [Fact]
    public async Task QueriesOutOfRangeAreRejected()
    {
        await using var h = await ServerHarness.StartAsync();
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { num_images = 3 }), HttpStatusCode.BadRequest, "exactly one");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { text = "笑脸", image_id = "1" }), HttpStatusCode.BadRequest, "exactly one");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { text = "   " }), HttpStatusCode.BadRequest, "text: empty");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { text = new string('笑', 5000) }), HttpStatusCode.BadRequest, "more than 1000");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { text = "笑脸", num_images = -1 }), HttpStatusCode.BadRequest, "num_images");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { text = "笑脸", num_images = 0 }), HttpStatusCode.BadRequest, "num_images");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { text = "笑脸", num_images = 1_000_000 }), HttpStatusCode.BadRequest, "num_images");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { text = "笑脸", modality = "audio" }), HttpStatusCode.BadRequest, "modality");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { text = "笑脸", rerank = -2 }), HttpStatusCode.BadRequest, "rerank");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { embedding_input = new[] { 1f, 2f } }), HttpStatusCode.BadRequest, "16 finite numbers");
    }

    [Fact]
    public async Task BadUploadsAreRejected()
    {
        await using var h = await ServerHarness.StartAsync(new ServerOptions { MaxUploadBytes = 20_000 });
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { image = "" }), HttpStatusCode.BadRequest, "empty");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { image = "%%% not base64 %%%" }), HttpStatusCode.BadRequest, "base64");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { image = Convert.ToBase64String("just some text"u8) }), HttpStatusCode.UnsupportedMediaType, "not a JPEG, PNG");
        var truncatedPng = TinyModels.Png(1)[..40];
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { image = Convert.ToBase64String(truncatedPng) }), HttpStatusCode.BadRequest, "does not decode");
        var huge = TinyModels.Png(1).Concat(new byte[25_000]).ToArray();
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { image = Convert.ToBase64String(huge) }), HttpStatusCode.RequestEntityTooLarge, "limit");
        var hugeBody = Encoding.UTF8.GetBytes("{\"image\": \"" + new string('A', 100_000) + "\"}");
        await AssertRejected(await h.PostRawAsync("/knn-service", hugeBody), HttpStatusCode.RequestEntityTooLarge, "larger than");
    }

    [Fact]
    public async Task IdsAreValidatedAndUnknownOnesAreNotFound()
    {
        await using var h = await ServerHarness.StartAsync();
        await AssertRejected(await h.Client.GetAsync("/thumbnail/12345"), HttpStatusCode.NotFound, "no image 12345");
        await AssertRejected(await h.Client.GetAsync("/thumbnail/-1"), HttpStatusCode.BadRequest, "digits only");
        await AssertRejected(await h.Client.GetAsync("/thumbnail/..%2F..%2Fetc%2Fpasswd"), HttpStatusCode.BadRequest, "digits only");
        await AssertRejected(await h.Client.GetAsync("/thumbnail/99999999999999999999999"), HttpStatusCode.BadRequest, "digits only");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { image_id = "../../x" }), HttpStatusCode.BadRequest, "digits only");
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { image_id = "777" }), HttpStatusCode.NotFound, "no image 777");
        await AssertRejected(await h.PostJsonAsync("/metadata", new { ids = new[] { "1; drop" } }), HttpStatusCode.BadRequest, "digits only");
        var traversal = await h.Client.GetAsync("/thumbnail/../../etc/passwd");
        Assert.InRange((int)traversal.StatusCode, 400, 499);
    }

    [Fact]
    public async Task IndexChangesNeedTheAdminToken()
    {
        await using var h = await ServerHarness.StartAsync();
        var body = new { ids = new[] { "1" } };
        await AssertRejected(await h.PostJsonAsync("/admin/delete", body), HttpStatusCode.Unauthorized, "X-Admin-Token");
        var wrong = new HttpRequestMessage(HttpMethod.Post, "/admin/delete") { Content = SearchApiTests.JsonContent(body), Headers = { { SearchEndpoints.AdminHeader, "guess" } } };
        await AssertRejected(await h.Client.SendAsync(wrong), HttpStatusCode.Forbidden, "wrong");
        Assert.Equal(9, h.Catalog.Images.Count);
    }

    [Fact]
    public async Task ServerWithoutAdminTokenRefusesIndexChanges()
    {
        // The harness always sets a token, so this server is built by hand over the harness's service.
        await using var h = await ServerHarness.StartAsync();
        await using var app = TuwenServer.Build(h.Service, new ServerOptions { AdminToken = null }, b => b.WebHost.UseTestServer());
        await app.StartAsync();
        using var client = app.GetTestClient();
        var request = new HttpRequestMessage(HttpMethod.Post, "/admin/images") { Content = SearchApiTests.JsonContent(new { image = "x" }), Headers = { { SearchEndpoints.AdminHeader, "anything" } } };
        await AssertRejected(await client.SendAsync(request), HttpStatusCode.Forbidden, "--admin-token");
    }

    [Fact]
    public async Task RemoteUrlsAreRefusedUnlessEnabled()
    {
        await using var h = await ServerHarness.StartAsync();
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { image_url = "http://127.0.0.1:1/x.png" }), HttpStatusCode.Forbidden, "--allow-remote-urls");
        await using var open = await ServerHarness.StartAsync(new ServerOptions { AllowRemoteUrls = true });
        await AssertRejected(await open.PostJsonAsync("/knn-service", new { image_url = "file:///etc/passwd" }), HttpStatusCode.BadRequest, "http(s)");
        await AssertRejected(await open.PostJsonAsync("/knn-service", new { image_url = "http://127.0.0.1:1/x.png" }), HttpStatusCode.BadRequest, "could not fetch");
    }

    [Fact]
    public async Task RerankOnANonR2d2ModelIsABadRequest()
    {
        await using var h = await ServerHarness.StartAsync();
        await AssertRejected(await h.PostJsonAsync("/knn-service", new { text = "笑脸", rerank = 5 }), HttpStatusCode.BadRequest, "R2D2");
    }

    [Fact]
    public async Task RateLimitingAnswers429()
    {
        await using var h = await ServerHarness.StartAsync(new ServerOptions { RateLimitPerMinute = 3 });
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await h.Client.GetAsync("/health")).StatusCode);
        await AssertRejected(await h.Client.GetAsync("/health"), HttpStatusCode.TooManyRequests, "too many requests");
    }
}
