using Spectre.Console;

namespace Tuwen.Cli;

/// <summary>
/// Progress for long work: a Spectre.Console bar on stderr when stderr is a terminal, otherwise a plain line
/// on stderr about every 5 % (logs and CI stay readable). Reports are (done, total, status text).
/// </summary>
public static class ProgressView
{
    public static bool Interactive => !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null;

    public static T Run<T>(string title, Func<Action<long, long, string>, T> work)
    {
        if (!Interactive)
        {
            long lastShown = long.MinValue / 2;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            TimeSpan? lastTime = null;
            return work((done, total, status) =>
            {
                if (total > 0)
                {
                    var every = Math.Max(1, total / 20);
                    if (done - lastShown < every && done != total) return;
                    lastShown = done;
                    Console.Error.WriteLine($"{title}: {done}/{total} {status}");
                    return;
                }
                // Unknown total (a stream of shards or folders): a line every few seconds, not one per batch.
                if (lastTime is { } shown && clock.Elapsed - shown < TimeSpan.FromSeconds(5)) return;
                lastTime = clock.Elapsed;
                Console.Error.WriteLine($"{title}: {done} {status}");
            });
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: 1);
                return work((done, total, status) =>
                {
                    task.IsIndeterminate = total <= 0;
                    task.MaxValue = Math.Max(1, total);
                    task.Value = total <= 0 ? 0 : done;
                    task.Description = Markup.Escape($"{title} {status}");
                });
            });
    }
}
