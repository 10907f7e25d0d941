using System.Collections.Concurrent;
using System.Net;
using Polly;
using Polly.Retry;
using Tuwen.Corpus.Pipeline;
using Tuwen.Data;

namespace Tuwen.Corpus.Download;

/// <summary>What a download produced: the body and its sniffed format, or the reason it failed.</summary>
public sealed record DownloadResult(byte[]? Body, string? Format, string? DropReason, string FinalUrl)
{
    /// <summary>Worth another attempt: timeouts, resets, 5xx and 429.</summary>
    public bool Transient { get; init; }
    public TimeSpan? RetryAfter { get; init; }
    public int Attempts { get; set; } = 1;

    public static DownloadResult Fail(string reason, string url, bool transient = false, TimeSpan? retryAfter = null)
        => new(null, null, reason, url) { Transient = transient, RetryAfter = retryAfter };
}

/// <summary>
/// Fetches image URLs politely and defensively: robots.txt (with Crawl-delay) and X-Robots-Tag honoured, per-host concurrency and
/// delay, a time limit per attempt (headers and body), retries with exponential back-off and jitter (Polly,
/// Retry-After honoured up to a minute), redirects followed by hand (each hop checked against robots.txt and the
/// address guard, at most N), a body size cap, and the format taken from the bytes, not the Content-Type.
/// </summary>
public sealed class ImageDownloader : IDisposable
{
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);
    // A site asking for minutes between requests would stall a unit; half a minute is the most we grant.
    private static readonly TimeSpan MaxCrawlDelay = TimeSpan.FromSeconds(30);
    private static readonly string[] RobotsTagRefusals = ["noai", "noimageai", "noindex", "noimageindex"];

    private readonly CorpusBuildOptions _options;
    private readonly HttpClient _client;
    private readonly RobotsCache? _robots;
    private readonly ResiliencePipeline<DownloadResult> _retry;
    private readonly ConcurrentDictionary<string, HostGate> _hosts = new();
    private readonly TimeSpan _timeout;

    public ImageDownloader(CorpusBuildOptions options)
    {
        _options = options;
        _timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = _timeout,
            MaxConnectionsPerServer = options.PerHostConcurrency,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            ConnectCallback = new NetworkGuard(options.AllowPrivateNetwork).ConnectAsync,
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        if (options.RespectRobots)
            _robots = new RobotsCache(_client, options.UserAgent, _timeout, options.Retries, TimeSpan.FromMilliseconds(options.RetryBaseDelayMs));
        _retry = options.Retries == 0
            ? ResiliencePipeline<DownloadResult>.Empty
            : new ResiliencePipelineBuilder<DownloadResult>().AddRetry(new RetryStrategyOptions<DownloadResult>
            {
                ShouldHandle = new PredicateBuilder<DownloadResult>().HandleResult(r => r.Transient),
                MaxRetryAttempts = options.Retries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(options.RetryBaseDelayMs),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result?.RetryAfter is { } after
                    ? (TimeSpan?)(after < MaxRetryAfter ? after : MaxRetryAfter)
                    : null),
            }).Build();
    }

    public async Task<DownloadResult> DownloadAsync(string url, CancellationToken cancel)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            return DownloadResult.Fail("download.bad_url", url);
        var attempts = 0;
        var result = await _retry.ExecuteAsync(async ct =>
        {
            attempts++;
            return await AttemptAsync(uri, ct).ConfigureAwait(false);
        }, cancel).ConfigureAwait(false);
        result.Attempts = attempts;
        return result;
    }

    private async ValueTask<DownloadResult> AttemptAsync(Uri start, CancellationToken cancel)
    {
        var current = start;
        for (var hop = 0; hop <= _options.MaxRedirects; hop++)
        {
            if (_robots is not null && await _robots.CheckAsync(current, cancel).ConfigureAwait(false) is { } refused)
                return DownloadResult.Fail(refused, current.AbsoluteUri);
            var gate = _hosts.GetOrAdd(current.Authority, _ => NewGate(current));
            await gate.EnterAsync(cancel).ConfigureAwait(false);
            try
            {
                var (result, next) = await FetchOnceAsync(current, cancel).ConfigureAwait(false);
                if (result is not null) return result;
                current = next!;
            }
            finally
            {
                gate.Release();
            }
        }
        return DownloadResult.Fail("download.too_many_redirects", current.AbsoluteUri);
    }

    /// <summary>The configured per-host limits, slowed to the site's Crawl-delay (then one request at a time) if it asks.</summary>
    private HostGate NewGate(Uri url)
    {
        var delay = TimeSpan.FromMilliseconds(_options.PerHostDelayMs);
        if (_robots?.CrawlDelay(url) is { } asked && asked > delay)
            return new HostGate(1, asked < MaxCrawlDelay ? asked : MaxCrawlDelay);
        return new HostGate(_options.PerHostConcurrency, delay);
    }

    /// <summary>One request: a final result, or the next URL of a redirect.</summary>
    private async Task<(DownloadResult? Result, Uri? Redirect)> FetchOnceAsync(Uri url, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(_timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.TryAddWithoutValidation("User-Agent", _options.UserAgent);
            request.Headers.TryAddWithoutValidation("Accept", "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8");
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            if (code is >= 300 and < 400)
            {
                var location = response.Headers.Location;
                if (location is null) return (DownloadResult.Fail($"download.http_{code}", url.AbsoluteUri), null);
                var next = location.IsAbsoluteUri ? location : new Uri(url, location);
                if (next.Scheme is not ("http" or "https")) return (DownloadResult.Fail("download.bad_redirect", url.AbsoluteUri), null);
                return (null, next);
            }
            if (code == 429 || code >= 500)
            {
                var after = response.Headers.RetryAfter?.Delta
                    ?? (response.Headers.RetryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
                return (DownloadResult.Fail($"download.http_{code}", url.AbsoluteUri, transient: true, after), null);
            }
            if (code != 200) return (DownloadResult.Fail($"download.http_{code}", url.AbsoluteUri), null);
            if (response.Headers.TryGetValues("X-Robots-Tag", out var tags)
                && tags.Any(t => RobotsTagRefusals.Any(r => t.Contains(r, StringComparison.OrdinalIgnoreCase))))
                return (DownloadResult.Fail("download.x_robots_tag", url.AbsoluteUri), null);
            var body = await BodyReader.ReadAsync(response, _options.MaxBodyBytes, truncate: false, timeout.Token).ConfigureAwait(false);
            if (body is null) return (DownloadResult.Fail("download.too_large", url.AbsoluteUri), null);
            var format = ImageFormats.Sniff(body);
            if (format is null) return (DownloadResult.Fail("download.not_an_image", url.AbsoluteUri), null);
            return (new DownloadResult(body, format, null, url.AbsoluteUri), null);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return (DownloadResult.Fail("download.timeout", url.AbsoluteUri, transient: true), null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or System.Net.Sockets.SocketException)
        {
            var (reason, transient) = NetworkFailure.Classify(e);
            return (DownloadResult.Fail(reason, url.AbsoluteUri, transient), null);
        }
    }

    public void Dispose() => _client.Dispose();
}
