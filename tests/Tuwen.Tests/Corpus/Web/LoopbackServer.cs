using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tuwen.Tests.Corpus.Web;

/// <summary>
/// A Kestrel server on 127.0.0.1 (a free port) serving generated images and pages, with faults on demand:
/// /img/{id}.jpg?w=&amp;h=, /png/{id}.png, /private/… (disallowed by robots.txt), /status/{code}, /flaky/{id}.jpg
/// (503 once, then the image), /r429/{id}.jpg (429 once), /reset/{id}, /hang/{id}, /slow/{id}.jpg,
/// /wrongtype/{id}.jpg (image labelled text/html), /html/{id}.jpg (HTML labelled image/jpeg), /truncated/{id}.jpg,
/// /garbage/{id}.jpg, /loop/{a|b}, /redirect/{n}/{id}.jpg, /small/{id}.jpg, /wide/{id}.jpg, /bomb.png,
/// /huge/{id}.jpg, /near/{id}.jpg (same picture, other JPEG quality), /noai/{id}.jpg (X-Robots-Tag: noai),
/// /delay/{ms}/{id}.jpg, /fuzz/{id} (bytes from <see cref="FuzzBody"/>), /pages/{name} (from <see cref="Pages"/>).
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _hits = new();
    private int _inFlight;
    private int _maxInFlight;

    public ConcurrentDictionary<string, string> Pages { get; } = new();

    /// <summary>Bytes served at /fuzz/{id}; null gives 404.</summary>
    public Func<int, byte[]?>? FuzzBody { get; set; }

    public string BaseUrl { get; }

    private int _robotsFailuresLeft;

    /// <summary>The next N requests for robots.txt answer 503.</summary>
    public int RobotsFailures { set => Volatile.Write(ref _robotsFailuresLeft, value); }

    /// <summary>Most requests that were in progress at once (robots.txt excluded).</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public int Hits(string path) => _hits.GetValueOrDefault(path);

    public int TotalHits => _hits.Values.Sum();

    private LoopbackServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public static async Task<LoopbackServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MinResponseDataRate = null);
        var app = builder.Build();
        LoopbackServer? server = null;
        app.Run(context => server!.HandleAsync(context));
        await app.StartAsync();
        var address = app.Urls.First();
        server = new LoopbackServer(app, address.TrimEnd('/'));
        return server;
    }

    public string Url(string path) => BaseUrl + path;

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        _hits.AddOrUpdate(path, 1, (_, n) => n + 1);
        if (path == "/robots.txt" && Interlocked.Decrement(ref _robotsFailuresLeft) >= 0)
        {
            context.Response.StatusCode = 503;
            return;
        }
        if (path == "/robots.txt")
        {
            await Text(context, "User-agent: *\nDisallow: /private/\n\nUser-agent: BadBot\nDisallow: /\n\nUser-agent: SlowBot\nCrawl-delay: 0.2\n", "text/plain");
            return;
        }
        var now = Interlocked.Increment(ref _inFlight);
        int seen;
        while ((seen = Volatile.Read(ref _maxInFlight)) < now && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen) { }
        try
        {
            await RouteAsync(context, path.Split('/', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task RouteAsync(HttpContext context, string[] parts)
    {
        var ct = context.RequestAborted;
        int Id(int index) => int.Parse(new string(parts[index].TakeWhile(char.IsAsciiDigit).ToArray()));
        int Query(string name, int fallback) => int.TryParse(context.Request.Query[name], out var v) ? v : fallback;
        if (parts.Length == 0) { context.Response.StatusCode = 404; return; }
        switch (parts[0])
        {
            case "img" or "private":
                await Bytes(context, TestImages.Jpeg(Id(1), Query("w", 320), Query("h", 240)), "image/jpeg");
                return;
            case "png":
                await Bytes(context, TestImages.Png(Id(1), Query("w", 320), Query("h", 240), transparent: true), "image/png");
                return;
            case "near":
                await Bytes(context, TestImages.Jpeg(Id(1), Query("w", 320), Query("h", 240), quality: 60), "image/jpeg");
                return;
            case "status":
                context.Response.StatusCode = Id(1);
                return;
            case "flaky" or "r429":
                if (_hits[context.Request.Path.Value!] == 1)
                {
                    context.Response.StatusCode = parts[0] == "flaky" ? 503 : 429;
                    if (parts[0] == "r429") context.Response.Headers.RetryAfter = "0";
                    return;
                }
                await Bytes(context, TestImages.Jpeg(Id(1)), "image/jpeg");
                return;
            case "reset":
                context.Abort();
                return;
            case "hang":
                try { await Task.Delay(Timeout.Infinite, ct); } catch (OperationCanceledException) { }
                return;
            case "slow":
            {
                var body = TestImages.Jpeg(Id(1));
                context.Response.ContentType = "image/jpeg";
                context.Response.ContentLength = body.Length;
                try
                {
                    for (var offset = 0; offset < body.Length; offset += 256)
                    {
                        await context.Response.Body.WriteAsync(body.AsMemory(offset, Math.Min(256, body.Length - offset)), ct);
                        await context.Response.Body.FlushAsync(ct);
                        await Task.Delay(100, ct);
                    }
                }
                catch (OperationCanceledException) { }
                return;
            }
            case "wrongtype":
                await Bytes(context, TestImages.Jpeg(Id(1)), "text/html");
                return;
            case "html":
                await Bytes(context, Encoding.UTF8.GetBytes("<html><body>not found</body></html>"), "image/jpeg");
                return;
            case "truncated":
            {
                var image = TestImages.Jpeg(Id(1));
                await Bytes(context, image[..(image.Length / 2)], "image/jpeg");
                return;
            }
            case "garbage":
            {
                var noise = new byte[4000];
                new Random(Id(1)).NextBytes(noise);
                noise[0] = 0xFF; noise[1] = 0xD8; noise[2] = 0xFF;
                await Bytes(context, noise, "image/jpeg");
                return;
            }
            case "loop":
                context.Response.Redirect(parts[1] == "a" ? "/loop/b" : "/loop/a");
                return;
            case "redirect":
            {
                var left = Id(1);
                context.Response.Redirect(left > 0 ? $"/redirect/{left - 1}/{parts[2]}" : $"/img/{parts[2]}");
                return;
            }
            case "small":
                await Bytes(context, TestImages.Jpeg(Id(1), 120, 100), "image/jpeg");
                return;
            case "wide":
                await Bytes(context, TestImages.Jpeg(Id(1), 1000, 250), "image/jpeg");
                return;
            case "bomb.png":
                await Bytes(context, TestImages.PngClaiming(40000, 40000), "image/png");
                return;
            case "huge":
            {
                context.Response.ContentType = "image/jpeg";
                var chunk = new byte[64 * 1024];
                chunk[0] = 0xFF; chunk[1] = 0xD8; chunk[2] = 0xFF;
                try
                {
                    for (var i = 0; i < 64; i++) await context.Response.Body.WriteAsync(chunk, ct);
                }
                catch (OperationCanceledException) { }
                return;
            }
            case "noai":
                context.Response.Headers["X-Robots-Tag"] = "noai";
                await Bytes(context, TestImages.Jpeg(Id(1)), "image/jpeg");
                return;
            case "delay":
                await Task.Delay(Id(1), ct);
                await Bytes(context, TestImages.Jpeg(Id(2), Query("w", 320), Query("h", 240)), "image/jpeg");
                return;
            case "fuzz":
                if (FuzzBody?.Invoke(Id(1)) is { } fuzz) await Bytes(context, fuzz, "image/jpeg");
                else context.Response.StatusCode = 404;
                return;
            case "pages":
                if (Pages.TryGetValue(parts[1], out var page)) await Text(context, page, "text/html; charset=utf-8");
                else context.Response.StatusCode = 404;
                return;
            default:
                context.Response.StatusCode = 404;
                return;
        }
    }

    private static async Task Bytes(HttpContext context, byte[] body, string contentType)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        try { await context.Response.Body.WriteAsync(body, context.RequestAborted); }
        catch (OperationCanceledException) { }
    }

    private static Task Text(HttpContext context, string text, string contentType) => Bytes(context, Encoding.UTF8.GetBytes(text), contentType);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
