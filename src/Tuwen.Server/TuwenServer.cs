using System.Diagnostics;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Tuwen.Server;

/// <summary>
/// Builds the search web application: the JSON API, the web page, OpenAPI, metrics, rate limiting and an
/// error boundary that turns every rejected input into a 4xx JSON message.
/// </summary>
public static class TuwenServer
{
    public const string RateLimitPolicy = "per-client";

    /// <param name="configure">Last say over the builder (tests switch Kestrel for the in-memory test server).</param>
    public static WebApplication Build(SearchService service, ServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxUploadBytes * 4L / 3 + 64 * 1024;
            k.AddServerHeader = false;
        });
        builder.WebHost.UseUrls($"http://{(options.Host.Contains(':') ? $"[{options.Host}]" : options.Host)}:{options.Port}");
        builder.Services.AddSingleton(service);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ServerMetrics>();
        builder.Services.AddSingleton<KnnSearch>();
        builder.Services.AddHttpClient("remote-images", c => c.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddOpenApi();
        builder.Services.AddRateLimiter(r =>
        {
            r.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            r.OnRejected = (ctx, token) => ErrorJson(ctx.HttpContext, 429, "too many requests: slow down and retry in a minute", token);
            r.AddPolicy(RateLimitPolicy, ctx => options.RateLimitPerMinute <= 0
                ? RateLimitPartition.GetNoLimiter("all")
                : RateLimitPartition.GetFixedWindowLimiter(ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = options.RateLimitPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        });
        configure?.Invoke(builder);

        var app = builder.Build();
        app.Use(ErrorBoundary);
        app.UseRateLimiter();
        if (Directory.Exists(options.WebRoot))
        {
            var files = new PhysicalFileProvider(Path.GetFullPath(options.WebRoot));
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        }
        app.MapOpenApi();
        SearchEndpoints.Map(app);
        return app;
    }

    /// <summary>Records metrics for every request and answers rejected input with {"error": …} and its 4xx.</summary>
    private static async Task ErrorBoundary(HttpContext context, Func<Task> next)
    {
        var metrics = context.RequestServices.GetRequiredService<ServerMetrics>();
        var watch = Stopwatch.StartNew();
        try
        {
            await next();
        }
        catch (Exception e) when (!context.Response.HasStarted && Rejection(e) is { } rejection)
        {
            context.Response.Clear();
            await ErrorJson(context, rejection.Status, rejection.Message, context.RequestAborted);
        }
        finally
        {
            var route = context.GetEndpoint() is RouteEndpoint r ? r.RoutePattern.RawText ?? "?" : "static";
            metrics.Record(route, context.Response.StatusCode, watch.Elapsed);
        }
    }

    private static ApiRejection? Rejection(Exception e) => e switch
    {
        ApiRejection a => a,
        TuwenException t => ApiRejection.BadRequest(t.Message),
        BadHttpRequestException b => new ApiRejection(b.StatusCode is >= 400 and < 500 ? b.StatusCode : 400, $"bad request: {b.Message}"),
        _ => null,
    };

    public static ValueTask ErrorJson(HttpContext context, int status, string message, CancellationToken token)
    {
        context.Response.StatusCode = status;
        return new ValueTask(context.Response.WriteAsJsonAsync(new ErrorResponse(message), token));
    }
}

public sealed record ErrorResponse([property: System.Text.Json.Serialization.JsonPropertyName("error")] string Error);
