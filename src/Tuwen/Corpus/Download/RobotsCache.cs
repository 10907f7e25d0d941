using System.Collections.Concurrent;
using System.Net;

namespace Tuwen.Corpus.Download;

/// <summary>
/// robots.txt per origin, fetched once and shared by all downloads. As RFC 9309 asks: a missing file (4xx)
/// allows everything, an unreachable one (5xx, network failure) forbids everything for this run.
/// </summary>
internal sealed class RobotsCache(HttpClient client, string userAgent, TimeSpan timeout)
{
    private const int MaxRobotsBytes = 500 * 1024;

    private readonly ConcurrentDictionary<string, Lazy<Task<(RobotsRules? Rules, string? Blocked)>>> _byOrigin = new();

    /// <summary>Null when allowed; otherwise the drop reason (robots, or a blocked address).</summary>
    public async Task<string?> CheckAsync(Uri url, CancellationToken cancel)
    {
        var origin = url.GetLeftPart(UriPartial.Authority);
        var entry = _byOrigin.GetOrAdd(origin, o => new Lazy<Task<(RobotsRules?, string?)>>(() => FetchAsync(new Uri(o + "/robots.txt"))));
        var (rules, blocked) = await entry.Value.WaitAsync(cancel).ConfigureAwait(false);
        if (blocked is not null) return blocked;
        return rules!.IsAllowed(url.PathAndQuery) ? null : "download.robots";
    }

    private async Task<(RobotsRules?, string?)> FetchAsync(Uri robotsUrl)
    {
        // Not tied to any one download's cancellation: the answer is shared by every download from the origin.
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, robotsUrl);
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            if (code >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests) return (RobotsRules.DisallowAll, null);
            if (code >= 300) return (RobotsRules.AllowAll, null);
            var body = await BodyReader.ReadAsync(response, MaxRobotsBytes, truncate: true, cts.Token).ConfigureAwait(false);
            return (RobotsRules.Parse(System.Text.Encoding.UTF8.GetString(body!), userAgent), null);
        }
        catch (Exception e) when (BodyReader.IsBlocked(e))
        {
            return (null, "download.private_address");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            return (RobotsRules.DisallowAll, null);
        }
    }
}
