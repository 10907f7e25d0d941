using Tuwen.Cli.Commands;

namespace Tuwen.Tests.Cli;

/// <summary>`tuwen serve` option checks answer one-line user errors before anything listens.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public void MissingIndexDirectoryIsAUserError()
    {
        var missing = Path.Combine(Path.GetTempPath(), "tuwen-no-such-index-" + Guid.NewGuid().ToString("N"));
        CliRunner.AssertUserError(CliRunner.Run("serve", "--index", missing), "index directory not found");
    }

    [Fact]
    public void OutOfRangeOptionsAreUserErrors()
    {
        var dir = Path.GetTempPath();
        CliRunner.AssertUserError(CliRunner.Run("serve", "--index", dir, "--port", "70000"), "--port");
        CliRunner.AssertUserError(CliRunner.Run("serve", "--index", dir, "--max-upload-mb", "0"), "--max-upload-mb");
        CliRunner.AssertUserError(CliRunner.Run("serve", "--index", dir, "--rate-limit", "-1"), "--rate-limit");
        CliRunner.AssertUserError(CliRunner.Run("serve"), "--index");
    }

    [Fact]
    public void QuickstartPrintsAnIndexBuildAndServeLine()
    {
        var line = ServeCommand.QuickstartLine("/r/checkpoint", "/c/emoji-zh/val", "/r");
        Assert.Equal("tuwen index build --checkpoint /r/checkpoint --shards /c/emoji-zh/val --texts --out /r/index && tuwen serve --index /r/index", line);
        Assert.Contains("--serve", CliRunner.Run("quickstart", "--help").Out);
    }
}
