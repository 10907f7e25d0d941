using System.Collections.Concurrent;
using System.Net;

namespace Tuwen.Corpus.Download;

/// <summary>
/// robots.txt per origin, fetched once and shared by all downloads. As RFC 9309 asks: a missing file (4xx)
/// allows everything, an unreachable one (5xx, network failure) forbids everything — but only for a while:
/// the fetch is retried with back-off at once, and again after <see cref="UnreachableFor"/>, so one hiccup does
/// not cost a whole site for the whole run. A host that cannot be reached at all (DNS, refused connection,
/// timeout) has its images counted under that reason rather than under robots. Its own time limit is at
/// least 10 s: a slow robots.txt costs one wait per origin, a wrongly missed one a whole site.
/// </summary>
internal sealed class RobotsCache(HttpClient client, string userAgent, TimeSpan timeout, int retries, TimeSpan retryDelay)
{
    private const int MaxRobotsBytes = 500 * 1024;
    private static readonly TimeSpan UnreachableFor = TimeSpan.FromSeconds(60);

    private sealed record Verdict(RobotsRules? Rules, string? Blocked, DateTime ExpiresUtc);

    private readonly ConcurrentDictionary<string, Lazy<Task<Verdict>>> _byOrigin = new();
    private readonly TimeSpan _timeout = timeout > TimeSpan.FromSeconds(10) ? timeout : TimeSpan.FromSeconds(10);

    /// <summary>Null when allowed; otherwise the drop reason.</summary>
    public async Task<string?> CheckAsync(Uri url, CancellationToken cancel)
    {
        var origin = url.GetLeftPart(UriPartial.Authority);
        var entry = _byOrigin.GetOrAdd(origin, o => new Lazy<Task<Verdict>>(() => FetchWithRetriesAsync(new Uri(o + "/robots.txt"))));
        var verdict = await entry.Value.WaitAsync(cancel).ConfigureAwait(false);
        if (verdict.ExpiresUtc < DateTime.UtcNow)
        {
            _byOrigin.TryUpdate(origin, new Lazy<Task<Verdict>>(() => FetchWithRetriesAsync(new Uri(origin + "/robots.txt"))), entry);
            verdict = await _byOrigin[origin].Value.WaitAsync(cancel).ConfigureAwait(false);
        }
        if (verdict.Blocked is not null) return verdict.Blocked;
        if (verdict.Rules is null) return "download.robots_unreachable";
        return verdict.Rules.IsAllowed(url.PathAndQuery) ? null : "download.robots";
    }

    /// <summary>The Crawl-delay of an origin whose robots.txt has been read, if it sets one.</summary>
    public TimeSpan? CrawlDelay(Uri url)
    {
        var origin = url.GetLeftPart(UriPartial.Authority);
        return _byOrigin.TryGetValue(origin, out var entry) && entry.IsValueCreated && entry.Value.IsCompletedSuccessfully
            ? entry.Value.Result.Rules?.CrawlDelay
            : null;
    }

    private async Task<Verdict> FetchWithRetriesAsync(Uri robotsUrl)
    {
        var verdict = await FetchAsync(robotsUrl).ConfigureAwait(false);
        for (var attempt = 0; attempt < retries && verdict.Rules is null && verdict.ExpiresUtc != DateTime.MaxValue; attempt++)
        {
            await Task.Delay(retryDelay * (1 << attempt)).ConfigureAwait(false);
            verdict = await FetchAsync(robotsUrl).ConfigureAwait(false);
        }
        return verdict;
    }

    private async Task<Verdict> FetchAsync(Uri robotsUrl)
    {
        var unreachable = new Verdict(null, null, DateTime.UtcNow + UnreachableFor);
        // Not tied to any one download's cancellation: the answer is shared by every download from the origin.
        using var cts = new CancellationTokenSource(_timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, robotsUrl);
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            if (code >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests) return unreachable;
            if (code >= 300) return new Verdict(RobotsRules.AllowAll, null, DateTime.MaxValue);
            var body = await BodyReader.ReadAsync(response, MaxRobotsBytes, truncate: true, cts.Token).ConfigureAwait(false);
            return new Verdict(RobotsRules.Parse(System.Text.Encoding.UTF8.GetString(body!), userAgent), null, DateTime.MaxValue);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            // The image lives on the same host: its download would fail the same way, so count it under that reason.
            var (reason, transient) = NetworkFailure.Classify(e);
            return transient ? unreachable with { Blocked = reason } : new Verdict(null, reason, DateTime.MaxValue);
        }
        catch (OperationCanceledException)
        {
            return unreachable with { Blocked = "download.timeout" };
        }
    }
}
