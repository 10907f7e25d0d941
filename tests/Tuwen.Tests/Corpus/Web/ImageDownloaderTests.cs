using Tuwen.Corpus.Download;
using Tuwen.Corpus.Pipeline;

namespace Tuwen.Tests.Corpus.Web;

public sealed class ImageDownloaderTests : IAsyncLifetime
{
    private LoopbackServer _server = null!;

    public static CorpusBuildOptions TestOptions(string output = "") => new()
    {
        Output = output,
        AllowPrivateNetwork = true,
        TimeoutSeconds = 1,
        Retries = 1,
        RetryBaseDelayMs = 10,
        MaxBodyBytes = 1 << 20,
        MaxRedirects = 3,
    };

    public async Task InitializeAsync() => _server = await LoopbackServer.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("/img/1.jpg", null, "jpg")]
    [InlineData("/png/2.png", null, "png")]
    [InlineData("/wrongtype/3.jpg", null, "jpg")]            // Content-Type says text/html; the bytes say JPEG
    [InlineData("/redirect/2/4.jpg", null, "jpg")]
    [InlineData("/html/5.jpg", "download.not_an_image", null)]
    [InlineData("/status/404", "download.http_404", null)]
    [InlineData("/status/500", "download.http_500", null)]
    [InlineData("/status/403", "download.http_403", null)]
    [InlineData("/private/6.jpg", "download.robots", null)]
    [InlineData("/loop/a", "download.too_many_redirects", null)]
    [InlineData("/redirect/9/7.jpg", "download.too_many_redirects", null)]
    [InlineData("/reset/8", "download.connection", null)]
    [InlineData("/hang/9", "download.timeout", null)]
    [InlineData("/slow/10.jpg", "download.timeout", null)]
    [InlineData("/huge/11.jpg", "download.too_large", null)]
    [InlineData("/noai/12.jpg", "download.x_robots_tag", null)]
    public async Task Outcome_of_each_kind_of_response(string path, string? reason, string? format)
    {
        using var downloader = new ImageDownloader(TestOptions());
        var result = await downloader.DownloadAsync(_server.Url(path), CancellationToken.None);
        Assert.Equal(reason, result.DropReason);
        Assert.Equal(format, result.Format);
        Assert.Equal(reason is null, result.Body is not null);
    }

    [Theory]
    [InlineData("/flaky/1.jpg")]
    [InlineData("/r429/2.jpg")]
    public async Task Transient_failures_are_retried(string path)
    {
        using var downloader = new ImageDownloader(TestOptions());
        var result = await downloader.DownloadAsync(_server.Url(path), CancellationToken.None);
        Assert.Null(result.DropReason);
        Assert.Equal(2, result.Attempts);
        Assert.Equal(2, _server.Hits(path));
    }

    [Fact]
    public async Task Permanent_failures_are_not_retried_and_transient_ones_stop_after_the_retries()
    {
        using var downloader = new ImageDownloader(TestOptions() with { Retries = 2 });
        var notFound = await downloader.DownloadAsync(_server.Url("/status/404"), CancellationToken.None);
        var error = await downloader.DownloadAsync(_server.Url("/status/503"), CancellationToken.None);
        Assert.Equal(1, _server.Hits("/status/404"));
        Assert.Equal(3, _server.Hits("/status/503"));
        Assert.Equal(3, error.Attempts);
        Assert.Equal("download.http_503", error.DropReason);
        Assert.Equal(1, notFound.Attempts);
    }

    [Fact]
    public async Task Loopback_is_refused_unless_allowed_also_by_name()
    {
        using var downloader = new ImageDownloader(TestOptions() with { AllowPrivateNetwork = false });
        var byAddress = await downloader.DownloadAsync(_server.Url("/img/1.jpg"), CancellationToken.None);
        var byName = await downloader.DownloadAsync(_server.Url("/img/1.jpg").Replace("127.0.0.1", "localhost"), CancellationToken.None);
        Assert.Equal("download.private_address", byAddress.DropReason);
        Assert.Equal("download.private_address", byName.DropReason);
        Assert.Equal(0, _server.TotalHits);
    }

    [Fact]
    public async Task Per_host_concurrency_limit_is_kept()
    {
        using var downloader = new ImageDownloader(TestOptions() with { PerHostConcurrency = 2, TimeoutSeconds = 5 });
        var tasks = Enumerable.Range(0, 12).Select(i => downloader.DownloadAsync(_server.Url($"/delay/50/{i}.jpg"), CancellationToken.None)).ToList();
        var results = await Task.WhenAll(tasks);
        Assert.All(results, r => Assert.Null(r.DropReason));
        Assert.Equal(2, _server.MaxInFlight);
    }

    [Fact]
    public async Task Per_host_delay_spaces_requests()
    {
        using var downloader = new ImageDownloader(TestOptions() with { PerHostDelayMs = 100, RespectRobots = false });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 5).Select(i => downloader.DownloadAsync(_server.Url($"/img/{i}.jpg"), CancellationToken.None)));
        // Four gaps of 100 ms; timers may fire a few milliseconds early.
        Assert.True(clock.ElapsedMilliseconds >= 380, $"5 requests 100 ms apart took {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Crawl_delay_of_robots_txt_is_honoured()
    {
        using var downloader = new ImageDownloader(TestOptions() with { UserAgent = "SlowBot/1.0", TimeoutSeconds = 5 });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => downloader.DownloadAsync(_server.Url($"/img/{i}.jpg"), CancellationToken.None)));
        Assert.All(results, r => Assert.Null(r.DropReason));
        // Three gaps of 200 ms; timers may fire a few milliseconds early.
        Assert.True(clock.ElapsedMilliseconds >= 570, $"4 requests with Crawl-delay 0.2 s took {clock.ElapsedMilliseconds} ms");
        Assert.Equal(1, _server.MaxInFlight);
    }

    [Fact]
    public async Task Robots_txt_is_read_once_per_origin_and_a_named_group_wins()
    {
        using var downloader = new ImageDownloader(TestOptions());
        for (var i = 0; i < 5; i++) await downloader.DownloadAsync(_server.Url($"/img/{i}.jpg"), CancellationToken.None);
        Assert.Equal(1, _server.Hits("/robots.txt"));
        using var bad = new ImageDownloader(TestOptions() with { UserAgent = "BadBot/1.0" });
        Assert.Equal("download.robots", (await bad.DownloadAsync(_server.Url("/img/1.jpg"), CancellationToken.None)).DropReason);
    }

    [Fact]
    public async Task An_unreachable_robots_txt_is_retried_and_only_then_forbids_the_site()
    {
        _server.RobotsFailures = 1;
        using (var downloader = new ImageDownloader(TestOptions()))
            Assert.Null((await downloader.DownloadAsync(_server.Url("/img/1.jpg"), CancellationToken.None)).DropReason);
        Assert.Equal(2, _server.Hits("/robots.txt"));
        _server.RobotsFailures = 10;
        using (var downloader = new ImageDownloader(TestOptions()))
        {
            var results = await Task.WhenAll(Enumerable.Range(10, 4).Select(i => downloader.DownloadAsync(_server.Url($"/img/{i}.jpg"), CancellationToken.None)));
            Assert.All(results, r => Assert.Equal("download.robots_unreachable", r.DropReason));
        }
        Assert.Equal(4, _server.Hits("/robots.txt"));   // one fetch plus one retry for all four downloads
        Assert.Equal(0, _server.Hits("/img/10.jpg"));
    }

    [Fact]
    public async Task Unknown_host_names_are_counted_as_dns_failures()
    {
        // .invalid never resolves (RFC 2606), with or without a network.
        // With robots.txt read first, as by default, and without.
        using var polite = new ImageDownloader(TestOptions() with { Retries = 0 });
        Assert.Equal("download.dns", (await polite.DownloadAsync("http://no-such-host.invalid/a.jpg", CancellationToken.None)).DropReason);
        using var direct = new ImageDownloader(TestOptions() with { Retries = 0, RespectRobots = false });
        Assert.Equal("download.dns", (await direct.DownloadAsync("http://no-such-host.invalid/a.jpg", CancellationToken.None)).DropReason);
    }

    [Fact]
    public async Task Malformed_urls_are_counted_not_fetched()
    {
        using var downloader = new ImageDownloader(TestOptions());
        foreach (var url in new[] { "", "not a url", "ftp://example.com/a.jpg", "javascript:alert(1)", "http://" })
            Assert.Equal("download.bad_url", (await downloader.DownloadAsync(url, CancellationToken.None)).DropReason);
    }
}
