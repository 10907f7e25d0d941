using System.CommandLine;
using Tuwen.Data;
using Tuwen.Interop;

namespace Tuwen.Cli.Commands;

/// <summary>`tuwen corpus convert`: Chinese-CLIP raw TSV/JSONL datasets ⇄ Tuwen webdataset shards.</summary>
public static class CorpusConvertCommand
{
    private static readonly string[] Formats = ["cnclip", "shards"];

    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "input format: cnclip or shards", Required = true };
        var to = new Option<string>("--to") { Description = "output format: cnclip or shards", Required = true };
        var input = new Option<string>("--input") { Description = "input directory", Required = true };
        var output = new Option<string>("--out") { Description = "output directory", Required = true };
        var split = new Option<string>("--split") { Description = "Chinese-CLIP split name ({split}_imgs.tsv, {split}_texts.jsonl)", DefaultValueFactory = _ => "valid" };
        var shardSize = new Option<int>("--shard-size") { Description = "samples per shard when writing shards", DefaultValueFactory = _ => 1000 };
        var command = new Command("convert", "Convert between Chinese-CLIP's TSV/JSONL layout and Tuwen shards") { from, to, input, output, split, shardSize };
        command.SetAction((p, cancel) =>
        {
            var (source, target) = (Format(p.GetValue(from)!, "--from"), Format(p.GetValue(to)!, "--to"));
            if (source == target) throw new TuwenException($"--from and --to are both {source}; nothing to convert");
            var (inputDir, outputDir, splitName) = (p.GetValue(input)!, p.GetValue(output)!, p.GetValue(split)!);
            if (!Directory.Exists(inputDir)) throw new TuwenException($"input directory not found: {inputDir}");
            return source == "cnclip"
                ? ToShards(inputDir, splitName, outputDir, p.GetValue(shardSize), cancel)
                : ToChineseClip(inputDir, splitName, outputDir, cancel);
        });
        return command;
    }

    private static string Format(string value, string option)
    {
        var format = value.Trim().ToLowerInvariant();
        return Formats.Contains(format) ? format : throw new TuwenException($"{option} must be cnclip or shards, not \"{value}\"");
    }

    private static int ToShards(string inputDir, string split, string outputDir, int shardSize, CancellationToken cancel)
    {
        var counts = new ChineseClipReadCounts();
        long samples;
        using (var writer = new ShardWriter(outputDir, $"cnclip-{split}", shardSize))
        {
            foreach (var sample in ChineseClipDataset.ReadSamples(inputDir, split, counts))
            {
                cancel.ThrowIfCancellationRequested();
                writer.Write(sample);
            }
            samples = writer.Samples;
        }
        Console.WriteLine($"read {counts.Images} images and {counts.Texts} texts ({counts.UnlabeledTexts} without images, {counts.ImagesWithoutText} images without texts skipped)");
        Console.WriteLine($"wrote {samples} samples to {outputDir}");
        return 0;
    }

    private static int ToChineseClip(string inputDir, string split, string outputDir, CancellationToken cancel)
    {
        using var writer = new ChineseClipWriter(outputDir, split);
        foreach (var sample in ShardReader.Read(ShardReader.FindShards(inputDir)))
        {
            cancel.ThrowIfCancellationRequested();
            writer.Write(sample);
        }
        writer.Dispose();
        Console.WriteLine($"wrote {writer.Images} images to {writer.ImagesPath} and {writer.Texts} texts to {writer.TextsPath}");
        return 0;
    }
}
