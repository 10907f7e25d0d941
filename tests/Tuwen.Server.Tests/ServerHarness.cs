using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Tuwen.Inference;

namespace Tuwen.Server.Tests;

/// <summary>
/// The server over an in-memory catalog of the test captions and images, embedded with a real tiny
/// checkpoint. Image 8 is a byte-for-byte copy of image 0 (a duplicate for dedup). In memory (TestServer) for
/// API tests, on a loopback port for the browser.
/// </summary>
public sealed class ServerHarness : IAsyncDisposable
{
    public const string AdminToken = "s3cret-token";

    private ServerHarness(WebApplication app, SearchService service, HttpClient client)
    {
        App = app;
        Service = service;
        Client = client;
    }

    public WebApplication App { get; }
    public SearchService Service { get; }
    public HttpClient Client { get; }
    public InMemoryCatalog Catalog => (InMemoryCatalog)Service.Catalog;

    public static async Task<ServerHarness> StartAsync(ServerOptions? options = null, bool r2d2 = false, bool loopback = false)
    {
        var checkpoint = r2d2 ? TinyModels.R2d2 : TinyModels.Clip;
        var runtime = TorchEmbeddingRuntime.Open(checkpoint);
        var catalog = new InMemoryCatalog(checkpoint, runtime.EmbedDim);
        var service = new SearchService(catalog, runtime);
        for (var i = 0; i < TinyModels.Captions.Length; i++)
        {
            var png = TinyModels.Png(i);
            catalog.AddImage(await service.EmbedImageAsync(png), png, TinyModels.Captions[i], $"img-{i}");
            catalog.AddText(i, await service.EmbedTextAsync(TinyModels.Captions[i]), TinyModels.Captions[i]);
        }
        var duplicate = TinyModels.Png(0);
        catalog.AddImage(await service.EmbedImageAsync(duplicate), duplicate, TinyModels.Captions[0] + "（副本）", "img-0-copy");

        // A random model puts all pictures close together: only the byte-identical copy counts as a duplicate here.
        options ??= new ServerOptions { DedupThreshold = 0.9999f };
        options = options with { AdminToken = options.AdminToken ?? AdminToken, Port = loopback ? 0 : options.Port };
        var app = TuwenServer.Build(service, options, b => { if (!loopback) b.WebHost.UseTestServer(); });
        await app.StartAsync();
        var client = loopback ? new HttpClient { BaseAddress = new Uri(app.Urls.First()) } : app.GetTestClient();
        return new ServerHarness(app, service, client);
    }

    public Task<HttpResponseMessage> PostJsonAsync(string path, object body) => Client.PostAsJsonAsync(path, body);

    public async Task<HttpResponseMessage> PostRawAsync(string path, byte[] body, string contentType = "application/json")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        return await Client.PostAsync(path, content);
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        Service.Dispose();
    }
}
