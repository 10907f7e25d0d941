using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Tuwen.Tests.Search;

/// <summary>
/// A private PostgreSQL cluster for one test run: initdb in a temp dir, the server on 127.0.0.1 at a free port
/// with its socket in the same dir, pgvector enabled; stopped and deleted afterwards. As root the server has
/// to run as the postgres user, so the dir is handed to it. A machine without PostgreSQL + pgvector fails
/// the tests (CI runs the setup first) rather than skipping them.
/// </summary>
public sealed class PostgresCluster : IDisposable
{
    const string SetupHint = "PostgreSQL 15 + pgvector are not installed: run scripts/setup.sh";
    readonly string _bin;
    readonly string _dir;
    readonly bool _asRoot = Environment.UserName == "root";

    public PostgresCluster()
    {
        _bin = FindBin() ?? throw new InvalidOperationException($"{SetupHint} (no initdb under /usr/lib/postgresql/*/bin)");
        var version = Path.GetFileName(Path.GetDirectoryName(_bin))!;
        if (!File.Exists($"/usr/share/postgresql/{version}/extension/vector.control"))
            throw new InvalidOperationException($"{SetupHint} (PostgreSQL {version} has no vector extension)");

        _dir = Directory.CreateTempSubdirectory("tuwen-pg-").FullName;
        if (_asRoot) Run("chown", "postgres", _dir);
        Port = FreePort();
        var data = Path.Combine(_dir, "data");
        RunPg("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync");
        // Durability is worthless for a throw-away cluster and costs seconds per test run.
        RunPg("pg_ctl", "-D", data, "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "60", "-o",
            $"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            "start");
        ConnectionString = $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres";
        RunPg("psql", "-h", "127.0.0.1", "-p", Port.ToString(), "-U", "postgres", "-d", "postgres", "-q", "-c", "create extension vector");
    }

    public int Port { get; }

    public string ConnectionString { get; }

    /// <summary>A fresh table name per test, so tests never see each other's rows.</summary>
    public static string NewTable() => "t_" + Guid.NewGuid().ToString("N")[..12];

    public void Dispose()
    {
        try
        {
            RunPg("pg_ctl", "-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop");
        }
        finally
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    static string? FindBin()
    {
        if (!Directory.Exists("/usr/lib/postgresql")) return null;
        return Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "initdb")))
            .OrderBy(b => b.Contains("/15/", StringComparison.Ordinal) ? 0 : 1)
            .FirstOrDefault();
    }

    static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    void RunPg(string tool, params string[] args)
    {
        var exe = Path.Combine(_bin, tool);
        if (_asRoot) Run("runuser", ["-u", "postgres", "--", exe, .. args]);
        else Run(exe, args);
    }

    void Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir ?? Path.GetTempPath(),
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{exe} {string.Join(' ', args)} exited {p.ExitCode}: {stderr}{stdout.Result}");
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "PostgreSQL cluster";
}
