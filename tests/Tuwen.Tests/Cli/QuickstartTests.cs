using System.Text.Json.Nodes;

namespace Tuwen.Tests.Cli;

/// <summary>The README's first command, shortened to a few steps: every stage runs and every file is written.</summary>
public class QuickstartTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void QuickstartRunsEveryStageAndWritesTheReport()
    {
        var run = Path.Combine(Path.GetTempPath(), $"tuwen-qs-{Guid.NewGuid():N}");
        try
        {
            var r = CliRunner.Run("quickstart", "--out", run, "--set", "steps=3", "--set", "warmup_steps=1");
            Assert.True(r.ExitCode == 0, r.Err);
            Assert.Contains("train google: 3786 pairs", r.Out);
            Assert.Contains("validation facebook: 3645 pairs", r.Out);
            Assert.Contains("| untrained |", r.Out);
            Assert.Contains("| trained |", r.Out);
            foreach (var f in new[] { "report.md", "eval.json", "loss.png", "retrieval-grid.png", "metrics.jsonl",
                                      "checkpoint/model.safetensors", "untrained/eval.json" })
                Assert.True(File.Exists(Path.Combine(run, f)), $"missing {f}");
            var eval = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval.json")))!;
            Assert.Equal(3645, eval["retrieval"]!["images"]!.GetValue<int>());
            Assert.Equal(7290, eval["retrieval"]!["texts"]!.GetValue<int>());
            Assert.Equal(3645, eval["zero_shot"]!["samples"]!.GetValue<int>());
            Assert.Contains("# Tuwen quickstart", File.ReadAllText(Path.Combine(run, "report.md")));
        }
        finally
        {
            if (Directory.Exists(run)) Directory.Delete(run, true);
        }
    }
}
