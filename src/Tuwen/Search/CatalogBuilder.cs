using System.Text.Json.Nodes;
using Tuwen.Inference;

namespace Tuwen.Search;

public sealed record CatalogBuildOptions
{
    public string Kind { get; init; } = "exact";
    /// <summary>IVF lists (default ≈ √rows) and lists probed per query (default lists / 64, at least 8).</summary>
    public int? Lists { get; init; }
    public int? NProbe { get; init; }
    /// <summary>The encoded image for a metadata row (for its thumbnail), or null when it cannot be read.</summary>
    public Func<ImageEmbeddingRow, byte[]?>? ImageBytes { get; init; }
}

public sealed record CatalogBuildResult(long Images, long Texts, long Thumbnails, string Kind);

/// <summary>Turns a `tuwen embed` output directory into an index directory (<see cref="SearchCatalog"/>).</summary>
public static class CatalogBuilder
{
    public static CatalogBuildResult Build(string embeddingsDir, string outDir, CatalogBuildOptions options, Action<long, string>? progress = null)
    {
        IndexKinds.Check(options.Kind);
        var manifestPath = Path.Combine(embeddingsDir, BulkEmbedder.ManifestFileName);
        if (!File.Exists(manifestPath)) throw new TuwenException($"{embeddingsDir} holds no embeddings ({BulkEmbedder.ManifestFileName} missing)");
        JsonObject embedded;
        try { embedded = JsonNode.Parse(File.ReadAllText(manifestPath)) as JsonObject ?? throw new TuwenException($"{manifestPath} is not a JSON object"); }
        catch (System.Text.Json.JsonException e) { throw new TuwenException($"{manifestPath} is not valid JSON ({e.Message.Split('\n')[0]})"); }
        int dim = embedded["dim"]?.GetValue<int>() ?? throw new TuwenException($"{manifestPath} has no dim");
        if (File.Exists(Path.Combine(outDir, SearchCatalog.ManifestFileName)) || File.Exists(Path.Combine(outDir, "images.tvx")))
            throw new TuwenException($"{outDir} already holds an index; choose another --out or remove it first");
        Directory.CreateDirectory(outDir);

        long images, thumbnails = 0;
        using (var log = new CatalogLog(Path.Combine(outDir, "images.meta"), Path.Combine(outDir, "thumbnails.bin")))
        using (var index = MakeIndex<ImageEmbeddingRow>(embeddingsDir, "img_emb", "metadata", Path.Combine(outDir, "images.tvx"), dim, options))
        {
            long id = 0;
            foreach (var (rows, features) in EmbeddingsReader.Parts<ImageEmbeddingRow>(embeddingsDir, "img_emb", "metadata", dim))
            {
                var ids = new long[rows.Count];
                for (int i = 0; i < rows.Count; i++, id++)
                {
                    ids[i] = id;
                    var row = rows[i];
                    var bytes = options.ImageBytes?.Invoke(row);
                    var thumbnail = bytes == null ? null : Thumbnails.Make(bytes);
                    if (thumbnail != null) thumbnails++;
                    var captions = row.Captions?.Split('\n') ?? (row.Caption == null ? [] : [row.Caption]);
                    log.Append(ids[i], new StoredItem(row.Key, captions, row.ImagePath), thumbnail);
                }
                index.Add(ids, features);
                progress?.Invoke(id, "images");
            }
            images = id;
            index.Save();
            log.Flush();
        }

        long texts = 0;
        bool hasTexts = Directory.Exists(Path.Combine(embeddingsDir, "text_emb"));
        if (hasTexts)
        {
            using var log = new CatalogLog(Path.Combine(outDir, "texts.meta"), null);
            using var index = MakeIndex<TextEmbeddingRow>(embeddingsDir, "text_emb", "text_metadata", Path.Combine(outDir, "texts.tvx"), dim, options);
            foreach (var (rows, features) in EmbeddingsReader.Parts<TextEmbeddingRow>(embeddingsDir, "text_emb", "text_metadata", dim))
            {
                var ids = new long[rows.Count];
                for (int i = 0; i < rows.Count; i++, texts++)
                {
                    ids[i] = texts;
                    log.Append(texts, new StoredItem(rows[i].Key, [rows[i].Caption], rows[i].Source), null);
                }
                index.Add(ids, features);
                progress?.Invoke(texts, "texts");
            }
            index.Save();
            log.Flush();
        }

        SearchCatalog.WriteManifest(outDir, new JsonObject
        {
            ["schema"] = SearchCatalog.Schema,
            ["model"] = embedded["model"]?.GetValue<string>() ?? "",
            ["runtime"] = embedded["runtime"]?.GetValue<string>() ?? "torch",
            ["dim"] = dim,
            ["kind"] = options.Kind,
            ["images"] = images,
            ["texts"] = texts,
            ["has_texts"] = hasTexts,
            ["thumbnails"] = thumbnails,
            ["source"] = embedded["source"]?.GetValue<string>() ?? embeddingsDir,
            ["created"] = SearchCatalog.Now(),
        });
        return new CatalogBuildResult(images, texts, thumbnails, options.Kind);
    }

    private static EmbeddedVectorIndex MakeIndex<TRow>(string embeddingsDir, string folder, string metadataFolder, string path, int dim, CatalogBuildOptions options)
        where TRow : class, new()
    {
        if (!IndexKinds.Approximate(options.Kind)) return IndexKinds.Create(options.Kind, path, dim, [], 0, 0);
        // Reservoir sample over all parts, so the lists fit the whole corpus and not its first part.
        long rows = EmbeddingsReader.Parts<TRow>(embeddingsDir, folder, metadataFolder, dim).Sum(p => (long)p.Rows.Count);
        int size = IndexKinds.SampleSize(rows);
        var sample = new float[(long)size * dim];
        var random = new Random(1);
        long seen = 0;
        foreach (var (_, features) in EmbeddingsReader.Parts<TRow>(embeddingsDir, folder, metadataFolder, dim))
            for (int i = 0; i < features.Length / dim; i++, seen++)
            {
                long slot = seen < size ? seen : random.NextInt64(seen + 1);
                if (slot < size) features.AsSpan(i * dim, dim).CopyTo(sample.AsSpan((int)slot * dim, dim));
            }
        return IndexKinds.Create(options.Kind, path, dim, sample, size, rows, options.Lists, options.NProbe);
    }
}
