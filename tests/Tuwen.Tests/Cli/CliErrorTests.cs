using Tuwen.Text;

namespace Tuwen.Tests.Cli;

/// <summary>Bad input ends with one clear line on stderr and exit code 2, never a stack trace.</summary>
public class CliErrorTests
{

    [Fact]
    public void TokenizePrintsPaddedIdsPerLine()
    {
        var vocab = SharedData.Path("chinese-clip", "vocab.txt");
        var r = CliRunner.RunWithInput("我爱北京\n\n", "tokenize", "--vocab", vocab, "--context-length", "8");
        Assert.Equal(0, r.ExitCode);
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        // 我 2769, 爱 4263, 北 1266, 京 776 (line numbers − 1 in Chinese-CLIP's vocab.txt)
        Assert.Equal("[101,2769,4263,1266,776,102,0,0]", lines[0]);
        Assert.Equal("[101,102,0,0,0,0,0,0]", lines[1]);
        var tokenizer = new BertTokenizer(Vocab.Load(vocab));
        Assert.Equal("[" + string.Join(",", tokenizer.Encode("我爱北京", 8)) + "]", lines[0]);
    }

    [Fact]
    public void TokenizeDefaultsTo52()
    {
        var r = CliRunner.RunWithInput("猫\n", "tokenize", "--vocab", SharedData.Path("chinese-clip", "vocab.txt"));
        Assert.Equal(52, r.Out.Trim().Trim('[', ']').Split(',').Length);
    }

    [Fact]
    public void MissingVocabFile() => CliRunner.AssertUserError(CliRunner.RunWithInput("x\n", "tokenize", "--vocab", "/no/such/vocab.txt"), "/no/such/vocab.txt");

    [Fact]
    public void MissingRequiredOption() => CliRunner.AssertUserError(CliRunner.Run("tokenize"), "--vocab");

    [Fact]
    public void UnknownCommand() => CliRunner.AssertUserError(CliRunner.Run("fly"), "fly");

    [Fact]
    public void MissingTrainingData() =>
        CliRunner.AssertUserError(CliRunner.Run("train", "--data", "/no/such/shards", "--out", Path.GetTempPath()), "/no/such/shards");

    [Fact]
    public void BadRecipeKey() =>
        CliRunner.AssertUserError(CliRunner.Run("train", "--data", "/tmp", "--out", "/tmp/x", "--set", "learning_rat=3"), "learning_rat");

    [Fact]
    public void UnknownModelSize() =>
        CliRunner.AssertUserError(CliRunner.Run("train", "--data", "/tmp", "--out", "/tmp/x", "--set", "model=huge-9000"), "huge-9000");

    [Fact]
    public void UnknownEmojiStyle() =>
        CliRunner.AssertUserError(CliRunner.Run("corpus", "emoji", "--styles", "google,crayon", "--out", Path.Combine(Path.GetTempPath(), "never")), "crayon");

    [Fact]
    public void BadModelConfigFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\"name\": \"x\", \"vision\": {\"image_size\": 65, \"patch_size\": 16}}");
        try { CliRunner.AssertUserError(CliRunner.Run("train", "--data", "/tmp", "--out", "/tmp/x", "--set", $"model={path}"), "multiple of vision.patch_size"); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void MissingCheckpoint() =>
        CliRunner.AssertUserError(CliRunner.Run("eval", "retrieval", "--checkpoint", "/no/ckpt", "--data", "/tmp"), "/no/ckpt");
}
