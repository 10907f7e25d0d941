using System.CommandLine;
using System.Globalization;
using Tuwen.Inference;
using Tuwen.Search;

namespace Tuwen.Cli.Commands;

/// <summary>`tuwen index build|add|delete|info`: the search index directory `tuwen serve` opens.</summary>
public static class IndexCommand
{
    public static Command Create()
    {
        var command = new Command("index", "Build and change a search index (vectors, metadata, thumbnails)");
        command.Add(Build());
        command.Add(AddImages());
        command.Add(Delete());
        command.Add(Info());
        return command;
    }

    private static Command Build()
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "checkpoint or run directory (torch), or an exported ONNX directory (onnx)" };
        var runtime = new Option<string>("--runtime") { Description = "torch or onnx", DefaultValueFactory = _ => "torch" };
        var shards = new Option<string?>("--shards") { Description = "webdataset shards (dataset directory or .tar)" };
        var imageFolder = new Option<string?>("--image-folder") { Description = "every image file under a folder" };
        var cnclip = new Option<string?>("--cnclip") { Description = "Chinese-CLIP dataset directory (with --split)" };
        var split = new Option<string>("--split") { Description = "Chinese-CLIP split", DefaultValueFactory = _ => "valid" };
        var embeddings = new Option<string?>("--embeddings") { Description = "index an existing `tuwen embed` output instead of embedding" };
        var texts = new Option<bool>("--texts") { Description = "also index the captions (image→text search)" };
        var output = new Option<string>("--out") { Description = "index directory to create", Required = true };
        var kind = new Option<string>("--kind") { Description = "exact, exact-int8, ivf or ivf-int8", DefaultValueFactory = _ => "exact" };
        kind.AcceptOnlyFromAmong(IndexKinds.Names);
        var lists = new Option<int?>("--lists") { Description = "IVF lists (default ≈ √images)" };
        var nprobe = new Option<int?>("--nprobe") { Description = "IVF lists probed per query (default lists / 64, at least 8)" };
        var batch = new Option<int>("--batch") { Description = "images per forward pass", DefaultValueFactory = _ => 64 };
        var command = new Command("build", "Embed a corpus with a checkpoint and write an index directory")
            { checkpoint, runtime, shards, imageFolder, cnclip, split, embeddings, texts, output, kind, lists, nprobe, batch };
        command.SetAction((p, _) =>
        {
            var options = new CatalogBuildOptions { Kind = p.GetValue(kind)!, Lists = p.GetValue(lists), NProbe = p.GetValue(nprobe) };
            var outDir = p.GetValue(output)!;
            CatalogBuildResult result;
            if (p.GetValue(embeddings) is { } embeddingsDir)
            {
                if (p.GetValue(shards) != null || p.GetValue(imageFolder) != null || p.GetValue(cnclip) != null)
                    throw new TuwenException("--embeddings replaces --shards / --image-folder / --cnclip: give one or the other");
                // Thumbnails from the files the rows name, where they are plain files.
                result = ProgressView.Run("indexing", report => CatalogBuilder.Build(CliApp.RequireDirectory(embeddingsDir, "embeddings directory"), outDir,
                    options with { ImageBytes = row => File.Exists(row.ImagePath) ? File.ReadAllBytes(row.ImagePath) : null },
                    (done, what) => report(done, 0, what)));
            }
            else
            {
                var source = Source(p, shards, imageFolder, cnclip, split);
                if (p.GetValue(imageFolder) != null && p.GetValue(texts)) throw new TuwenException("--texts: an image folder has no texts");
                var model = p.GetValue(checkpoint) ?? throw new TuwenException("--checkpoint is required to embed (or give --embeddings DIR)");
                CliApp.ConfigureTorch();
                using var embedder = EmbeddingRuntimes.Open(p.GetValue(runtime)!, model);
                result = ProgressView.Run("indexing", report =>
                {
                    var throttled = EvalChineseClipCommand.Throttled(report, p.GetValue(batch));
                    return CatalogEmbedding.Build(embedder, source, outDir, Path.GetFullPath(model), p.GetValue(texts), options, p.GetValue(batch),
                        (done, what) => throttled(done, 0, what));
                });
            }
            Console.WriteLine($"{result.Kind} index of {result.Images} images ({result.Thumbnails} thumbnails) and {result.Texts} texts in {outDir}");
            return 0;
        });
        return command;
    }

    private static EmbeddingSource Source(ParseResult p, Option<string?> shards, Option<string?> imageFolder, Option<string?> cnclip, Option<string> split)
    {
        var given = new[] { ("--shards", p.GetValue(shards)), ("--image-folder", p.GetValue(imageFolder)), ("--cnclip", p.GetValue(cnclip)) }
            .Where(g => g.Item2 != null).ToList();
        if (given.Count != 1) throw new TuwenException("give exactly one input: --shards DIR, --image-folder DIR or --cnclip DIR (or --embeddings DIR)");
        var (which, path) = given[0];
        return which switch
        {
            "--shards" => EmbeddingSources.Shards(path!),
            "--image-folder" => EmbeddingSources.ImageFolder(path!),
            _ => EmbeddingSources.ChineseClip(CliApp.RequireDirectory(path, "Chinese-CLIP dataset directory"), p.GetValue(split)!),
        };
    }

    private static Command AddImages()
    {
        var index = new Option<string>("--index") { Description = "index directory", Required = true };
        var shards = new Option<string?>("--shards") { Description = "webdataset shards (dataset directory or .tar)" };
        var imageFolder = new Option<string?>("--image-folder") { Description = "every image file under a folder" };
        var batch = new Option<int>("--batch") { Description = "images per forward pass", DefaultValueFactory = _ => 64 };
        var command = new Command("add", "Embed images with the index's own model and add them") { index, shards, imageFolder, batch };
        command.SetAction((p, _) =>
        {
            var given = new[] { p.GetValue(shards), p.GetValue(imageFolder) }.Count(g => g != null);
            if (given != 1) throw new TuwenException("give exactly one input: --shards DIR or --image-folder DIR");
            var source = p.GetValue(shards) is { } s ? EmbeddingSources.Shards(s) : EmbeddingSources.ImageFolder(p.GetValue(imageFolder)!);
            using var catalog = SearchCatalog.Open(p.GetValue(index)!);
            CliApp.ConfigureTorch();
            using var embedder = EmbeddingRuntimes.Open(catalog.Runtime, catalog.ModelPath);
            var skipped = new List<string>();
            var ids = CatalogEmbedding.AddImages(catalog, embedder, source, p.GetValue(batch), skipped.Add);
            Console.WriteLine(ids.Count == 0 ? "no images added" : $"added {ids.Count} images (ids {ids[0]}–{ids[^1]}); the index holds {catalog.Images.Count}");
            foreach (var skip in skipped) Console.Error.WriteLine($"skipped {skip}");
            return 0;
        });
        return command;
    }

    private static Command Delete()
    {
        var index = new Option<string>("--index") { Description = "index directory", Required = true };
        var ids = new Option<string>("--ids") { Description = "comma-separated image ids", Required = true };
        var command = new Command("delete", "Delete images by id") { index, ids };
        command.SetAction((p, _) =>
        {
            var parsed = p.GetValue(ids)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(t => long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : throw new TuwenException($"--ids: '{t}' is not an image id"))
                .ToArray();
            if (parsed.Length == 0) throw new TuwenException("--ids: no ids given");
            using var catalog = SearchCatalog.Open(p.GetValue(index)!);
            long removed = catalog.DeleteImages(parsed);
            catalog.Compact();
            Console.WriteLine($"deleted {removed} of {parsed.Length} ids; the index holds {catalog.Images.Count} images");
            return 0;
        });
        return command;
    }

    private static Command Info()
    {
        var index = new Option<string>("--index") { Description = "index directory", Required = true };
        var command = new Command("info", "Show an index's model, kind and counts") { index };
        command.SetAction((p, _) =>
        {
            using var catalog = SearchCatalog.Open(p.GetValue(index)!);
            Console.WriteLine($"model    {catalog.ModelPath} ({catalog.Runtime})");
            Console.WriteLine($"kind     {catalog.Images.Kind}, dim {catalog.Images.Dim}");
            Console.WriteLine($"images   {catalog.Images.Count}");
            Console.WriteLine($"texts    {catalog.Texts?.Count.ToString(CultureInfo.InvariantCulture) ?? "none"}");
            Console.WriteLine($"created  {catalog.Manifest["created"]}");
            return 0;
        });
        return command;
    }
}
