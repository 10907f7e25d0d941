using System.CommandLine;
using System.Text.Json.Nodes;
using Tuwen.Corpus;
using Tuwen.Data;

namespace Tuwen.Cli.Commands;

/// <summary>`tuwen corpus emoji`: the default corpus emoji-zh, written as webdataset shards; `build` and `dedup`: web corpora.</summary>
public static class CorpusCommand
{
    public static Command Create()
    {
        var styles = new Option<string>("--styles") { Description = "training styles (google, twitter, facebook, apple)", DefaultValueFactory = _ => "google,twitter" };
        var valStyles = new Option<string>("--val-styles") { Description = "validation styles", DefaultValueFactory = _ => "facebook" };
        var output = new Option<string?>("--out") { Description = "output directory (default $TUWEN_HOME/corpora/emoji-zh)" };
        var shardSize = new Option<int>("--shard-size") { Description = "samples per shard", DefaultValueFactory = _ => 1000 };
        var emoji = new Command("emoji", "Build emoji-zh: Chinese-named emoji images from pinned npm packages") { styles, valStyles, output, shardSize };
        emoji.SetAction((p, cancel) =>
        {
            var options = new EmojiZhCorpusOptions
            {
                Styles = EmojiZhCorpusOptions.ParseStyleList(p.GetValue(styles)!),
                ValidationStyles = EmojiZhCorpusOptions.ParseStyleList(p.GetValue(valStyles)!),
            };
            var result = EmojiCorpusBuilder.Build(options, p.GetValue(output) ?? EmojiCorpusBuilder.DefaultDirectory, p.GetValue(shardSize), force: true, cancel);
            foreach (var line in result.ReportLines) Console.WriteLine(line);
            Console.WriteLine($"wrote {result.TrainDir} and {result.ValidationDir}");
            return 0;
        });
        return new Command("corpus", "Build and inspect image–text corpora") { emoji, CorpusBuildCommand.CreateBuild(), CorpusBuildCommand.CreateDedup(), CorpusConvertCommand.Create() };
    }
}
