using System.Text;
using Tuwen.Corpus;

namespace Tuwen.Tests.Corpus;

public sealed class NpmPackTests
{
    private static NpmPack WritePack(TempFolder folder)
    {
        EmojiZhHandMade.WriteNpmTarball(Path.Combine(folder.Path, "demo-1.2.3.tgz"),
        [
            ("package.json", """{"name": "demo"}"""u8.ToArray()),
            ("data/a.txt", "甲"u8.ToArray()),
            ("data/b.txt", Encoding.UTF8.GetBytes(new string('乙', 100_000))),
            ("data/empty.txt", []),
        ]);
        return NpmPack.Locate("demo", "1.2.3", folder.Path);
    }

    [Fact]
    public void EntriesAreAddressedBelowTheTopFolder()
    {
        using var folder = new TempFolder();
        var pack = WritePack(folder);
        var files = pack.ReadFiles("data/b.txt", "data/empty.txt");
        Assert.Equal(new string('乙', 100_000), Encoding.UTF8.GetString(files["data/b.txt"]));
        Assert.Empty(files["data/empty.txt"]);
        Assert.Equal("demo", pack.ReadJson("package.json")["name"]!.GetValue<string>());
    }

    [Fact]
    public void ScanListsEveryFileButReadsOnlyTheWantedOnes()
    {
        using var folder = new TempFolder();
        var entries = WritePack(folder).Scan(p => p == "data/a.txt").ToList();
        Assert.Equal(["package.json", "data/a.txt", "data/b.txt", "data/empty.txt"], entries.Select(e => e.Path));
        Assert.Equal(["data/a.txt"], entries.Where(e => e.Content is not null).Select(e => e.Path));
        Assert.Equal(300_000, entries.Single(e => e.Path == "data/b.txt").Length);
    }

    [Fact]
    public void MissingTarballNamesTheFileAndTheSetUp()
    {
        using var folder = new TempFolder();
        var error = Assert.Throws<TuwenException>(() => NpmPack.Locate("emoji-datasource-google", "16.0.0", folder.Path));
        Assert.Contains(Path.Combine(folder.Path, "emoji-datasource-google-16.0.0.tgz"), error.Message);
        Assert.Contains("./tuwen", error.Message);
        Assert.DoesNotContain("TUWEN_EXTRA_PACKS", error.Message);
    }

    [Fact]
    public void MissingEntryAndCorruptTarballAreUserErrors()
    {
        using var folder = new TempFolder();
        var pack = WritePack(folder);
        Assert.Contains("data/none.txt", Assert.Throws<TuwenException>(() => pack.ReadFiles("data/a.txt", "data/none.txt")).Message);

        File.WriteAllBytes(Path.Combine(folder.Path, "broken-1.0.0.tgz"), Encoding.ASCII.GetBytes("not a gzip stream at all"));
        var broken = NpmPack.Locate("broken", "1.0.0", folder.Path);
        Assert.Contains("broken-1.0.0.tgz", Assert.Throws<TuwenException>(() => broken.ReadFiles("x")).Message);
    }
}
