using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Tuwen.Server;

namespace Tuwen.Cli.Commands;

/// <summary>`tuwen serve --index DIR`: the search API and web page over an index directory.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var index = new Option<string>("--index") { Description = "index directory (made by `tuwen index build`)", Required = true };
        var port = new Option<int>("--port") { Description = "TCP port", DefaultValueFactory = _ => 8080 };
        var host = new Option<string>("--host") { Description = "address to listen on (0.0.0.0 exposes it to the network)", DefaultValueFactory = _ => "127.0.0.1" };
        var adminToken = new Option<string?>("--admin-token") { Description = "enables index changes (add/delete) for requests with this X-Admin-Token header (default: $TUWEN_ADMIN_TOKEN; the variable keeps it out of process listings)" };
        var remote = new Option<bool>("--allow-remote-urls") { Description = "let queries name an image_url the server downloads" };
        var maxUpload = new Option<int>("--max-upload-mb") { Description = "largest image upload, MB", DefaultValueFactory = _ => 4 };
        var rateLimit = new Option<int>("--rate-limit") { Description = "requests per minute per client address (0: off)", DefaultValueFactory = _ => 600 };
        var store = new Option<string?>("--store") { Description = "PostgreSQL connection string (\"Host=…;Username=…;Database=…\" or postgres://…): search the index's vectors in pgvector tables kept in step with the directory (default: $TUWEN_VECTOR_STORE; unset: in-process)" };
        var command = new Command("serve", "Serve text↔image search (JSON API compatible with clip-retrieval's, and a web page)")
            { index, port, host, adminToken, remote, maxUpload, rateLimit, store };
        command.SetAction((p, cancel) =>
        {
            var options = new ServerOptions
            {
                Host = p.GetValue(host)!,
                Port = p.GetValue(port),
                AdminToken = p.GetValue(adminToken) ?? NonEmpty(Environment.GetEnvironmentVariable("TUWEN_ADMIN_TOKEN")),
                AllowRemoteUrls = p.GetValue(remote),
                MaxUploadBytes = Checked(p.GetValue(maxUpload), 1, 100, "--max-upload-mb") * 1024 * 1024,
                RateLimitPerMinute = Checked(p.GetValue(rateLimit), 0, 1_000_000, "--rate-limit"),
            };
            if (options.Port is < 0 or > 65535) throw new TuwenException($"--port: {options.Port} is not a TCP port");
            return Serve(p.GetValue(index)!, options, cancel, p.GetValue(store) ?? NonEmpty(Environment.GetEnvironmentVariable("TUWEN_VECTOR_STORE")));
        });
        return command;
    }

    public static int Serve(string indexDir, ServerOptions options, CancellationToken cancel, string? vectorStore = null)
    {
        CliApp.ConfigureTorch();
        using var service = SearchService.Open(Search.SearchCatalog.Open(indexDir, vectorStore));
        using var app = TuwenServer.Build(service, options);
        try { app.StartAsync(cancel).GetAwaiter().GetResult(); }
        catch (IOException e) { throw new TuwenException($"cannot listen on {options.Host}:{options.Port}: {e.Message}"); }
        var c = service.Catalog;
        Console.WriteLine($"serving {c.Images.Count} images ({c.Images.Kind}, dim {c.Images.Dim}{(c.Texts != null ? $", {c.Texts.Count} texts" : "")}) from {indexDir}");
        Console.WriteLine($"re-ranking: {(service.Reranker != null ? "R2D2 cross encoders" : "unavailable (not an R2D2 checkpoint)")}");
        foreach (var url in app.Urls) Console.WriteLine($"open {url}/   (API: {url}/knn-service, OpenAPI: {url}/openapi/v1.json) — Ctrl-C stops");
        app.WaitForShutdownAsync(cancel).GetAwaiter().GetResult();
        return 0;
    }

    /// <summary>What the quickstart prints after training: build an index over the validation images, then serve it.</summary>
    public static string QuickstartLine(string checkpoint, string validationDir, string runDir) =>
        $"tuwen index build --checkpoint {checkpoint} --shards {validationDir} --texts --out {Path.Combine(runDir, "index")} && tuwen serve --index {Path.Combine(runDir, "index")}";

    /// <summary>`quickstart --serve`: runs the printed line (index build, then serve) in this process.</summary>
    public static int AfterQuickstart(string line, CancellationToken cancel)
    {
        var root = CliApp.BuildRoot();
        if (!root.Subcommands.Any(c => c.Name == "index"))
            throw new TuwenException($"--serve builds a search index over the validation images with `tuwen index build`, which this build does not have yet; the line to run once it does: {line}");
        var steps = line.Split(" && ").Select(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray()).ToList();
        foreach (var step in steps)
        {
            Console.Error.WriteLine($"tuwen {string.Join(' ', step)}");
            var code = CliApp.Run(root, step);
            if (code != 0 || cancel.IsCancellationRequested) return code;
        }
        return 0;
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static int Checked(int value, int min, int max, string name) =>
        value >= min && value <= max ? value : throw new TuwenException($"{name}: {value} is not between {min} and {max}");
}
