using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Tuwen.Server;

/// <summary>Request counts by endpoint and status, a latency histogram, and the index size, in Prometheus text format.</summary>
public sealed class ServerMetrics
{
    private static readonly double[] Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private readonly ConcurrentDictionary<(string Route, int Status), long> _requests = new();
    private readonly long[] _bucketCounts = new long[Buckets.Length];
    private long _count;
    private long _sumMicros;

    public void Record(string route, int status, TimeSpan elapsed)
    {
        _requests.AddOrUpdate((route, status), 1, (_, n) => n + 1);
        var seconds = elapsed.TotalSeconds;
        for (var i = 0; i < Buckets.Length; i++)
            if (seconds <= Buckets[i]) Interlocked.Increment(ref _bucketCounts[i]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumMicros, (long)(seconds * 1e6));
    }

    public string Render(SearchService service)
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.AppendLine("# HELP tuwen_http_requests_total HTTP requests by route and status.");
        s.AppendLine("# TYPE tuwen_http_requests_total counter");
        foreach (var ((route, status), n) in _requests.OrderBy(r => r.Key.Route).ThenBy(r => r.Key.Status))
            s.AppendLine(c, $"tuwen_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
        s.AppendLine("# HELP tuwen_http_request_duration_seconds Request latency.");
        s.AppendLine("# TYPE tuwen_http_request_duration_seconds histogram");
        for (var i = 0; i < Buckets.Length; i++)
            s.AppendLine(c, $"tuwen_http_request_duration_seconds_bucket{{le=\"{Buckets[i]}\"}} {Interlocked.Read(ref _bucketCounts[i])}");
        var count = Interlocked.Read(ref _count);
        s.AppendLine(c, $"tuwen_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        s.AppendLine(c, $"tuwen_http_request_duration_seconds_sum {Interlocked.Read(ref _sumMicros) / 1e6}");
        s.AppendLine(c, $"tuwen_http_request_duration_seconds_count {count}");
        var (images, texts, kind) = service.Read(cat => (cat.Images.Count, cat.Texts?.Count ?? 0, cat.Images.Kind));
        s.AppendLine("# HELP tuwen_index_vectors Vectors in the index.");
        s.AppendLine("# TYPE tuwen_index_vectors gauge");
        s.AppendLine(c, $"tuwen_index_vectors{{modality=\"image\",kind=\"{kind}\"}} {images}");
        s.AppendLine(c, $"tuwen_index_vectors{{modality=\"text\",kind=\"{kind}\"}} {texts}");
        return s.ToString();
    }
}
