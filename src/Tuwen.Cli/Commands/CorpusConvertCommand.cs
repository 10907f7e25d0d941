using System.CommandLine;
using Tuwen.Interop;

namespace Tuwen.Cli.Commands;

/// <summary>
/// `tuwen corpus convert`: between Chinese-CLIP's TSV/JSONL and LMDB forms, Tuwen webdataset shards and img2dataset
/// Parquet output. Every path goes through Tuwen samples, so image bytes pass unchanged; the formats themselves
/// live in Tuwen.Interop behind <see cref="CorpusFormats"/>.
/// </summary>
public static class CorpusConvertCommand
{
    public static Command Create()
    {
        var names = string.Join(", ", CorpusFormats.Names);
        var from = new Option<string>("--from") { Description = $"input format: {names}", Required = true };
        var to = new Option<string>("--to") { Description = $"output format: {names}", Required = true };
        var input = new Option<string>("--input") { Description = "input directory", Required = true };
        var output = new Option<string>("--out") { Description = "output directory", Required = true };
        var split = new Option<string>("--split") { Description = "Chinese-CLIP split name ({split}_imgs.tsv, lmdb/{split}/)", DefaultValueFactory = _ => "valid" };
        var shardSize = new Option<int>("--shard-size") { Description = "samples per shard or Parquet file when writing shards or img2dataset", DefaultValueFactory = _ => 1000 };
        var command = new Command("convert", $"Convert image–text datasets between formats ({names})") { from, to, input, output, split, shardSize };
        command.SetAction((p, cancel) =>
        {
            var source = CorpusFormats.Get(p.GetValue(from)!, "--from");
            var target = CorpusFormats.Get(p.GetValue(to)!, "--to");
            if (source == target) throw new TuwenException($"--from and --to are both {source.Name}; nothing to convert");
            var (inputDir, outputDir, splitName) = (p.GetValue(input)!, p.GetValue(output)!, p.GetValue(split)!);
            if (!Directory.Exists(inputDir) && !File.Exists(inputDir)) throw new TuwenException($"input directory not found: {inputDir}");
            var options = new CorpusFormatOptions(splitName, p.GetValue(shardSize), ShardName: $"{source.Name}-{splitName}");
            if (target.DirectFrom?.GetValueOrDefault(source.Name) is { } direct)
            {
                Console.WriteLine(ProgressView.Run("converting", report => direct(inputDir, outputDir, options, (done, total) => report(done, total, ""))));
                return 0;
            }
            return Convert(source.OpenReader(inputDir, options), () => target.CreateWriter(outputDir, options), cancel);
        });
        return command;
    }

    private static int Convert(ICorpusFormatReader reader, Func<ICorpusFormatWriter> createWriter, CancellationToken cancel)
    {
        var total = reader.Total;
        using var samples = reader.Read().GetEnumerator();
        // Readers check ids, counts and links before their first sample, so most broken inputs fail before the writer
        // exists; a corrupt image met later fails the writer, which then removes what it can (LMDB, img2dataset).
        bool any = samples.MoveNext();
        using var writer = createWriter();
        long written = ProgressView.Run("converting", report =>
        {
            long done = 0;
            for (; any; any = samples.MoveNext())
            {
                cancel.ThrowIfCancellationRequested();
                writer.Write(samples.Current);
                done++;
                report(done, Math.Max(done, total ?? done), "");
            }
            report(done, done, "");
            return done;
        });
        writer.Complete();
        Console.WriteLine(reader.Summary);
        Console.WriteLine(writer.Summary);
        Console.WriteLine($"converted {written} samples");
        return 0;
    }
}
