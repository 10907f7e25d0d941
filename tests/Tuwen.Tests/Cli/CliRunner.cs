using Tuwen.Cli;

namespace Tuwen.Tests.Cli;

/// <summary>Runs the `tuwen` command in-process with captured stdin/stdout/stderr.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Err);

    private static readonly object Gate = new();

    public static Result RunWithInput(string stdin, params string[] args)
    {
        lock (Gate)
        {
            var (oldIn, oldOut, oldErr) = (Console.In, Console.Out, Console.Error);
            var output = new StringWriter { NewLine = "\n" };
            var error = new StringWriter { NewLine = "\n" };
            try
            {
                Console.SetIn(new StringReader(stdin));
                Console.SetOut(output);
                Console.SetError(error);
                var code = CliApp.Run(CliApp.BuildRoot(), args);
                return new Result(code, output.ToString(), error.ToString());
            }
            finally
            {
                Console.SetIn(oldIn);
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }

    public static Result Run(params string[] args) => RunWithInput("", args);

    /// <summary>A user mistake: exit code 2 and exactly one stderr line, "error: …" naming <paramref name="expected"/>, no stack trace.</summary>
    public static void AssertUserError(Result r, string expected)
    {
        Assert.Equal(2, r.ExitCode);
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", r.Err);
    }
}
