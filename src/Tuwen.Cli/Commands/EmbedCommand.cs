using System.CommandLine;
using Tuwen.Inference;

namespace Tuwen.Cli.Commands;

/// <summary>`tuwen embed`: bulk image (and text) embeddings in clip-retrieval's .npy + Parquet layout.</summary>
public static class EmbedCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "checkpoint or run directory (torch), or an exported ONNX directory (onnx)", Required = true };
        var runtime = new Option<string>("--runtime") { Description = "torch or onnx", DefaultValueFactory = _ => "torch" };
        var shards = new Option<string?>("--shards") { Description = "webdataset shards (dataset directory or .tar)" };
        var imageFolder = new Option<string?>("--image-folder") { Description = "every image file under a folder" };
        var cnclip = new Option<string?>("--cnclip") { Description = "Chinese-CLIP dataset directory (with --split)" };
        var split = new Option<string>("--split") { Description = "Chinese-CLIP split", DefaultValueFactory = _ => "valid" };
        var texts = new Option<bool>("--texts") { Description = "also embed the captions / texts (into text_emb/)" };
        var output = new Option<string>("--out") { Description = "output directory", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "float16 or float32", DefaultValueFactory = _ => "float16" };
        dtype.AcceptOnlyFromAmong("float16", "float32");
        var batch = new Option<int>("--batch") { Description = "inputs per forward pass", DefaultValueFactory = _ => 64 };
        var partRows = new Option<int>("--part-rows") { Description = "rows per .npy/.parquet part", DefaultValueFactory = _ => 100_000 };
        var device = new Option<string>("--device") { Description = Models.DeviceOption.Help, DefaultValueFactory = _ => "cpu" };

        var command = new Command("embed", "Embed images (and texts) into img_emb/*.npy + metadata/*.parquet for indexing")
            { checkpoint, runtime, shards, imageFolder, cnclip, split, texts, output, dtype, batch, partRows, device };
        command.SetAction((p, _) =>
        {
            var onDevice = Models.DeviceOption.Parse(p.GetValue(device));   // a bad --device fails before any data is read
            var given = new[] { ("--shards", p.GetValue(shards)), ("--image-folder", p.GetValue(imageFolder)), ("--cnclip", p.GetValue(cnclip)) }
                .Where(g => g.Item2 != null).ToList();
            if (given.Count != 1) throw new TuwenException("give exactly one input: --shards DIR, --image-folder DIR or --cnclip DIR");
            var (which, path) = given[0];
            var source = which switch
            {
                "--shards" => EmbeddingSources.Shards(path!),
                "--image-folder" => EmbeddingSources.ImageFolder(path!),
                _ => EmbeddingSources.ChineseClip(CliApp.RequireDirectory(path, "Chinese-CLIP dataset directory"), p.GetValue(split)!),
            };
            if (which == "--image-folder" && p.GetValue(texts)) throw new TuwenException("--texts: an image folder has no texts");
            CliApp.ConfigureTorch();
            using var model = EmbeddingRuntimes.Open(p.GetValue(runtime)!, p.GetValue(checkpoint)!, onDevice);
            var options = new BulkEmbedOptions
            {
                Dtype = p.GetValue(dtype) == "float32" ? EmbeddingDtype.Float32 : EmbeddingDtype.Float16,
                BatchSize = p.GetValue(batch),
                PartRows = p.GetValue(partRows),
                Texts = p.GetValue(texts),
                Model = Path.GetFullPath(p.GetValue(checkpoint)!),
            };
            var result = ProgressView.Run("embedding", report =>
                BulkEmbedder.Run(model, source, p.GetValue(output)!, options, (done, what) => EvalChineseClipCommand.Throttled(report, options.BatchSize)(done, 0, what)));
            Console.WriteLine($"{result.Images} image and {result.Texts} text embeddings ({options.Dtype}, dim {model.EmbedDim}, L2-normalised) in {p.GetValue(output)}");
            if (result.Skipped.Count > 0) Console.Error.WriteLine($"skipped {result.Skipped.Count} images that do not decode (listed in {result.ManifestPath})");
            return 0;
        });
        return command;
    }
}
