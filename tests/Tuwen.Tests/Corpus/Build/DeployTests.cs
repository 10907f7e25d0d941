using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Tuwen.Tests.Corpus.Build;

/// <summary>The deployment files agree with the command line they drive.</summary>
public sealed partial class DeployTests
{
    private static string Deploy(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Tuwen.slnx"))) return Path.Combine(dir.FullName, "deploy", "corpus", file);
        throw new DirectoryNotFoundException("repository root not found");
    }

    [Fact]
    public void Indexed_job_completions_match_the_shard_count_and_the_flags_exist()
    {
        var yaml = File.ReadAllText(Deploy("k8s-indexed-job.yaml"));
        Assert.Contains("completionMode: Indexed", yaml);
        var completions = Completions().Match(yaml).Groups[1].Value;
        var shardCount = ShardCount().Match(yaml).Groups[1].Value;
        Assert.Equal(completions, shardCount);
        var help = Tuwen.Tests.Cli.CliRunner.Run("corpus", "build", "--help").Out;
        foreach (var flag in new[] { "--out", "--shard-count", "--no-merge", "--config" }) Assert.Contains(flag, help);
        Assert.Contains("\"corpus\", \"dedup\", \"/data/corpus\"", yaml);
    }

    [Fact]
    public void Slurm_script_is_valid_bash_and_uses_the_array_variables_through_the_cli()
    {
        using var bash = Process.Start(new ProcessStartInfo("bash", ["-n", Deploy("slurm-array.sh")]) { RedirectStandardError = true })!;
        var errors = bash.StandardError.ReadToEnd();
        bash.WaitForExit();
        Assert.True(bash.ExitCode == 0, errors);
        var script = File.ReadAllText(Deploy("slurm-array.sh"));
        Assert.Contains("--array=0-", script);
        Assert.Contains("--dependency=afterok:", script);
        Assert.DoesNotContain("--shard-index", script);   // the index comes from SLURM_ARRAY_TASK_ID
    }

    [GeneratedRegex(@"completions:\s*(\d+)")]
    private static partial Regex Completions();

    [GeneratedRegex(@"""--shard-count"",\s*""(\d+)""")]
    private static partial Regex ShardCount();
}
