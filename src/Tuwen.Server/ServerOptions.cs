namespace Tuwen.Server;

/// <summary>How `tuwen serve` listens and what it lets clients do. Defaults are the safe ones.</summary>
public sealed record ServerOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Null: index changes (add/delete) are refused for everyone.</summary>
    public string? AdminToken { get; init; }

    /// <summary>Fetching `image_url` reaches arbitrary hosts from the server: off unless asked for.</summary>
    public bool AllowRemoteUrls { get; init; }

    public int MaxUploadBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Requests per minute per client address; 0 turns rate limiting off (load benchmarks).</summary>
    public int RateLimitPerMinute { get; init; } = 600;

    /// <summary>Two results whose vectors have a cosine above this are the same picture: only the better one stays.</summary>
    public float DedupThreshold { get; init; } = 0.98f;

    public int MaxResults { get; init; } = 1000;

    public int MaxRerank { get; init; } = 200;

    /// <summary>Directory of the web page (index.html, app.js, style.css).</summary>
    public string WebRoot { get; init; } = Path.Combine(AppContext.BaseDirectory, "wwwroot");
}
