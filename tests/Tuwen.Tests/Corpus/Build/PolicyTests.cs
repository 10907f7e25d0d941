using System.Net;
using Tuwen.Corpus.Download;
using Tuwen.Corpus.Pipeline;
using Tuwen.Data;

namespace Tuwen.Tests.Corpus.Build;

public sealed class PolicyTests
{
    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("8.8.8.8", true)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:8.8.8.8", true)]
    [InlineData("2001:4860:4860::8888", true)]
    public void Private_and_special_addresses_are_not_public(string address, bool isPublic)
        => Assert.Equal(isPublic, NetworkGuard.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public void Robots_rules_longest_match_wins_and_wildcards_work()
    {
        var text = """
            User-agent: *
            Disallow: /private/
            Allow: /private/public/
            Disallow: /*.gif$
            Disallow: /tmp

            User-agent: OtherBot
            Disallow: /
            """;
        var rules = RobotsRules.Parse(text, "TuwenCorpusBot/0.1");
        Assert.True(rules.IsAllowed("/a.jpg"));
        Assert.False(rules.IsAllowed("/private/a.jpg"));
        Assert.True(rules.IsAllowed("/private/public/a.jpg"));
        Assert.False(rules.IsAllowed("/img/x.gif"));
        Assert.True(rules.IsAllowed("/img/x.gif?v=1"));
        Assert.False(rules.IsAllowed("/tmp2/a.jpg"));
        Assert.False(RobotsRules.Parse(text, "OtherBot/2.0").IsAllowed("/a.jpg"));
        Assert.True(RobotsRules.Parse("User-agent: *\nDisallow:\n", "x").IsAllowed("/anything"));
        Assert.Null(rules.CrawlDelay);
        var delays = "User-agent: *\nCrawl-delay: 2\n\nUser-agent: TuwenCorpusBot\nCrawl-delay: 0.5\nDisallow: /x\n";
        Assert.Equal(TimeSpan.FromSeconds(0.5), RobotsRules.Parse(delays, "TuwenCorpusBot/0.1").CrawlDelay);
        Assert.Equal(TimeSpan.FromSeconds(2), RobotsRules.Parse(delays, "Other").CrawlDelay);
    }

    [Fact]
    public void Content_is_sniffed_from_bytes()
    {
        Assert.Equal("jpg", ImageFormats.Sniff([0xFF, 0xD8, 0xFF, 0xE0]));
        Assert.Equal("png", ImageFormats.Sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]));
        Assert.Equal("gif", ImageFormats.Sniff("GIF89a..."u8));
        Assert.Equal("webp", ImageFormats.Sniff("RIFF\0\0\0\0WEBPVP8 "u8));
        Assert.Null(ImageFormats.Sniff("<!doctype html>"u8));
        Assert.Null(ImageFormats.Sniff([]));
    }

    [Fact]
    public void Worker_slot_comes_from_flags_or_the_job_environment()
    {
        static Func<string, string?> Env(params (string, string)[] vars) => name => vars.FirstOrDefault(v => v.Item1 == name).Item2;
        Assert.Equal(new WorkerSlot(0, 1), WorkerSlot.Resolve(null, null, Env()));
        Assert.Equal(new WorkerSlot(2, 4), WorkerSlot.Resolve(2, 4, Env(("JOB_COMPLETION_INDEX", "1"))));
        Assert.Equal(new WorkerSlot(3, 8), WorkerSlot.Resolve(null, 8, Env(("JOB_COMPLETION_INDEX", "3"))));
        Assert.Equal(new WorkerSlot(2, 5), WorkerSlot.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "5"))));
        Assert.Throws<TuwenException>(() => WorkerSlot.Resolve(null, 2, Env(("JOB_COMPLETION_INDEX", "2"))));
        Assert.Throws<TuwenException>(() => WorkerSlot.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "x"))));
        var slot = new WorkerSlot(1, 3);
        Assert.Equal([1L, 4L, 7L], Enumerable.Range(0, 9).Select(u => (long)u).Where(slot.Owns));
    }

    [Fact]
    public void A_unit_is_claimed_by_one_holder_at_a_time()
    {
        using var dir = new TempDir();
        var unit = new Tuwen.Corpus.Output.UnitFiles(dir.Path, 3);
        using (var first = unit.TryClaim())
        {
            Assert.NotNull(first);
            Assert.Null(unit.TryClaim());
        }
        using var again = unit.TryClaim();
        Assert.NotNull(again);
    }

    [Fact]
    public void Options_round_trip_through_json_and_reject_unknown_keys()
    {
        using var dir = new TempDir();
        var options = new CorpusBuildOptions { MinSide = 128, ResizeMode = ResizeMode.CenterCrop, Correlation = Correlation.Strong, Inputs = ["a.tsv"], Output = "out" };
        File.WriteAllText(dir.File("c.json"), options.ToJson());
        Assert.Equal(options.ToJson(), CorpusBuildOptions.Load(dir.File("c.json")).ToJson());
        Assert.Contains("\"resize_mode\": \"center_crop\"", options.ToJson());
        File.WriteAllText(dir.File("bad.json"), "{\"min_sidee\": 3}");
        Assert.Throws<TuwenException>(() => CorpusBuildOptions.Load(dir.File("bad.json")));
        Assert.Throws<TuwenException>(() => (options with { MaxAspectRatio = 0.5 }).Validate());
        Assert.Equal(options.ContentFingerprint(), (options with { Concurrency = 3, ShardIndex = 1, ShardCount = 2 }).ContentFingerprint());
        Assert.NotEqual(options.ContentFingerprint(), (options with { MinSide = 100 }).ContentFingerprint());
    }
}
