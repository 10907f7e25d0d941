using System.CommandLine;
using Tuwen.Models;

namespace Tuwen.Cli;

/// <summary>
/// Runs a command the way users expect: a user mistake (TuwenException, bad option) prints one line on
/// stderr and exits 2; a bug exits 1 and shows its stack trace only with --verbose; Ctrl-C exits 130.
/// </summary>
public static class CliApp
{
    public static readonly Option<bool> Verbose = new("--verbose") { Description = "show stack traces of internal errors", Recursive = true };

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("tuwen 图文 — Chinese image–text models: corpus, training, evaluation, search");
        root.Add(Verbose);
        root.Add(Commands.QuickstartCommand.Create());
        root.Add(Commands.CorpusCommand.Create());
        root.Add(Commands.TrainCommand.Create());
        root.Add(Commands.EvalCommand.Create());
        root.Add(Commands.TokenizeCommand.Create());
        root.Add(Commands.CheckpointCommand.Create());
        root.Add(Commands.EmbedCommand.Create());
        root.Add(Commands.ExportCommand.Create());
        root.Add(Commands.ServeCommand.Create());
        root.Add(Commands.IndexCommand.Create());
        return root;
    }

    public static int Run(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // "Unrecognized command or argument 'x'" says more than "Required command was not provided".
            var error = parse.Errors.FirstOrDefault(e => parse.UnmatchedTokens.Any(t => e.Message.Contains(t))) ?? parse.Errors[0];
            // One line, always: "not recognized. Must be one of:" messages list the choices on their own lines.
            var message = string.Join(' ', error.Message.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Console.Error.WriteLine($"error: {message} (see: tuwen {string.Join(' ', CommandPath(parse))} --help)".Replace("  ", " "));
            return 2;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Unwrap(e) is TuwenException user)
        {
            Console.Error.WriteLine($"error: {user.Message}");
            return 2;
        }
        catch (Exception e) when (Unwrap(e) is OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
        catch (Exception e)
        {
            var inner = Unwrap(e);
            Console.Error.WriteLine($"internal error: {inner.GetType().Name}: {inner.Message}");
            if (parse.GetValue(Verbose)) Console.Error.WriteLine(inner);
            else Console.Error.WriteLine("(run again with --verbose for the stack trace, and please report it)");
            return 1;
        }
    }

    /// <summary>Wraps a command body so exceptions thrown inside reach <see cref="Run"/> unwrapped.</summary>
    public static void SetAction(this Command command, Func<ParseResult, CancellationToken, int> body) =>
        command.SetAction((ParseResult p) =>
        {
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler handler = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += handler;
            try { return body(p, cts.Token); }
            finally { Console.CancelKeyPress -= handler; }
        });

    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerException: { } inner }) e = inner;
        while (e is System.Reflection.TargetInvocationException { InnerException: { } inner2 }) e = inner2;
        return e;
    }

    private static IEnumerable<string> CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r != null && r.Parent != null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command.Name);
        return names;
    }

    public static void ConfigureTorch()
    {
        TorchSharp.torch.set_num_threads(Math.Max(1, Environment.ProcessorCount));
    }

    public static string RequireFile(string? path, string what)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new TuwenException($"{what}: no path given");
        return File.Exists(path) ? path : throw new TuwenException($"{what} not found: {path}");
    }

    public static string RequireDirectory(string? path, string what)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new TuwenException($"{what}: no path given");
        return Directory.Exists(path) ? path : throw new TuwenException($"{what} not found: {path}");
    }

    /// <summary>Shipped model config names, for help texts.</summary>
    public static string ModelNames => string.Join(", ", ConfigFiles.Available("models"));
}
