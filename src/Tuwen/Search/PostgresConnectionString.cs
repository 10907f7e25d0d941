using Npgsql;

namespace Tuwen.Search;

/// <summary>
/// Recognises where a PostgreSQL + pgvector store is meant instead of an index directory, and turns the URI
/// form (postgres://user:password@host:port/db?sslmode=…) into the key=value form Npgsql reads.
/// </summary>
public static class PostgresConnectionString
{
    /// <summary>True for "postgres://…", "postgresql://…" or a key=value string with a Host (e.g. "Host=db;Database=tuwen").</summary>
    public static bool IsConnectionString(string locationOrConnectionString)
    {
        var s = locationOrConnectionString.Trim();
        if (s.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || s.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return true;
        // A directory may contain '=' or ';' in its name; only a Host/Server key at the start counts.
        return s.StartsWith("Host=", StringComparison.OrdinalIgnoreCase)
            || s.StartsWith("Server=", StringComparison.OrdinalIgnoreCase)
            || s.Contains(";Host=", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The Npgsql form of a connection string; throws TuwenException when it cannot be read.</summary>
    public static NpgsqlConnectionStringBuilder Parse(string connectionString)
    {
        var s = connectionString.Trim();
        try
        {
            return s.Contains("://", StringComparison.Ordinal) ? FromUri(s) : new NpgsqlConnectionStringBuilder(s);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException)
        {
            throw new TuwenException($"invalid PostgreSQL connection string: {e.Message}");
        }
    }

    /// <summary>host:port/database, never the password: for messages and health output.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder b) =>
        $"{b.Host ?? "localhost"}:{b.Port}/{b.Database ?? b.Username ?? "postgres"}";

    static NpgsqlConnectionStringBuilder FromUri(string s)
    {
        var scheme = s[..s.IndexOf("://", StringComparison.Ordinal)].ToLowerInvariant();
        if (scheme is not ("postgres" or "postgresql"))
            throw new FormatException($"unknown scheme '{scheme}' (expected postgres:// or postgresql://)");
        var uri = new Uri(s, UriKind.Absolute);
        var b = new NpgsqlConnectionStringBuilder();
        if (!string.IsNullOrEmpty(uri.Host)) b.Host = uri.Host.Trim('[', ']');
        if (uri.Port > 0) b.Port = uri.Port;
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var colon = uri.UserInfo.IndexOf(':');
            b.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0) b.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        var db = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (db.Length > 0) b.Database = db;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new FormatException($"query parameter '{pair}' has no value");
            var key = Uri.UnescapeDataString(pair[..eq]);
            var value = Uri.UnescapeDataString(pair[(eq + 1)..]);
            // libpq spells some keys differently from Npgsql; the common ones are mapped, the rest passed on.
            key = key.ToLowerInvariant() switch
            {
                "sslmode" => "SSL Mode",
                "connect_timeout" => "Timeout",
                "application_name" => "Application Name",
                "options" => "Options",
                _ => key,
            };
            b[key] = value;
        }
        return b;
    }
}
