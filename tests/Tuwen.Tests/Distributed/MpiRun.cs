using System.Diagnostics;

namespace Tuwen.Tests.Distributed;

/// <summary>Starts `tuwen` (the CLI built beside the tests) as N ranks under Open MPI's mpirun.</summary>
public static class MpiRun
{
    public const string SetupHint = "the data-parallel tests need Open MPI's mpirun: run ./test, whose set-up installs openmpi-bin and libopenmpi-dev";

    public static string MpirunPath =>
        new[] { "/usr/bin/mpirun", "/usr/local/bin/mpirun" }.FirstOrDefault(File.Exists) ?? throw new InvalidOperationException(SetupHint);

    public sealed record Result(int ExitCode, string Output);

    public static Result Tuwen(int processes, params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "Tuwen.Cli.dll");
        var start = new ProcessStartInfo(MpirunPath)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // Root in CI containers; more ranks than cores on a 2-core machine; shared memory and loopback only.
        foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader", "-np", processes.ToString(),
                     "dotnet", cli }.Concat(args))
            start.ArgumentList.Add(a);
        start.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";   // no CMA in unprivileged containers
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"mpirun -np {processes} tuwen {string.Join(' ', args)} did not finish in 3 minutes");
        }
        return new Result(process.ExitCode, stdout.Result + stderr.Result);
    }
}
