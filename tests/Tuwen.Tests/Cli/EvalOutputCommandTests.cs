namespace Tuwen.Tests.Cli;

/// <summary>Option mistakes of `tuwen embed` and the new `tuwen eval` inputs fail with one line and exit 2, before any model loads.</summary>
public class EvalOutputCommandTests
{
    [Theory]
    [InlineData("error: give exactly one input", "embed", "--checkpoint", "nowhere", "--out", "x")]
    [InlineData("error: give exactly one input", "embed", "--checkpoint", "nowhere", "--out", "x", "--shards", "a", "--cnclip", "b")]
    [InlineData("error: give either --data or --cnclip, not both", "eval", "retrieval", "--checkpoint", "nowhere", "--cnclip", "a", "--data", "b")]
    [InlineData("error: give the evaluation data: --data SHARDS or --cnclip DIR", "eval", "retrieval", "--checkpoint", "nowhere")]
    [InlineData("error: class names file (--classes): no path given", "eval", "zeroshot", "--checkpoint", "nowhere", "--image-folder", "f")]
    [InlineData("error: Chinese-CLIP dataset directory not found: missing-dir", "eval", "retrieval", "--checkpoint", "nowhere", "--cnclip", "missing-dir", "--out", "o")]
    [InlineData("float64", "embed", "--checkpoint", "nowhere", "--out", "x", "--image-folder", "f", "--dtype", "float64")]
    public void Mistakes_exit_2_with_one_line(string expected, params string[] args)
    {
        CliRunner.AssertUserError(CliRunner.Run(args), expected);
    }
}
