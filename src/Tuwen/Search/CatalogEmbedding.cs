using Tuwen.Inference;

namespace Tuwen.Search;

/// <summary>Index builds and additions that embed their images first (with the catalog's or a given runtime).</summary>
public static class CatalogEmbedding
{
    /// <summary>
    /// Embeds <paramref name="source"/> into <c>OUT/embeddings</c> (the `tuwen embed` layout, kept for rebuilding
    /// with another kind) and builds the index from it; thumbnails come from a second pass over the source.
    /// </summary>
    public static CatalogBuildResult Build(IEmbeddingRuntime runtime, EmbeddingSource source, string outDir, string model, bool texts,
        CatalogBuildOptions options, int batchSize = 64, Action<long, string>? progress = null)
    {
        IndexKinds.Check(options.Kind);
        if (File.Exists(Path.Combine(outDir, SearchCatalog.ManifestFileName)))
            throw new TuwenException($"{outDir} already holds an index; choose another --out or remove it first");
        var embeddings = Path.Combine(outDir, "embeddings");
        BulkEmbedder.Run(runtime, source, embeddings, new BulkEmbedOptions { BatchSize = batchSize, Texts = texts, Model = model }, progress);
        // Embedded rows follow the source's order minus undecodable images, so one forward pass over the source finds each row's bytes.
        using var images = source.Images.GetEnumerator();
        byte[]? BytesOf(ImageEmbeddingRow row)
        {
            while (images.MoveNext())
                if (images.Current.Row.ImagePath == row.ImagePath) return images.Current.Read();
            return null;
        }
        return CatalogBuilder.Build(embeddings, outDir, options with { ImageBytes = BytesOf }, progress);
    }

    /// <summary>Embeds and adds every image of <paramref name="source"/> to an open catalog; returns the new ids.</summary>
    public static IReadOnlyList<long> AddImages(SearchCatalog catalog, IEmbeddingRuntime runtime, EmbeddingSource source, int batchSize = 64,
        Action<string>? onSkipped = null)
    {
        if (runtime.EmbedDim != catalog.Images.Dim)
            throw new TuwenException($"the model embeds in dimension {runtime.EmbedDim}, the index holds {catalog.Images.Dim}");
        var added = new List<long>();
        var stream = source.Images.Select(i =>
        {
            var bytes = i.Read();
            return ((Row: i.Row, Bytes: bytes), bytes);
        });
        foreach (var (tags, features) in RuntimeFeatures.Images(runtime, stream, batchSize, s => onSkipped?.Invoke($"{s.Tag.Row.ImagePath}: {s.Reason}")))
            for (int i = 0; i < tags.Count; i++)
                added.Add(catalog.AddImage(features.AsSpan(i * runtime.EmbedDim, runtime.EmbedDim), tags[i].Bytes, tags[i].Row.Caption, tags[i].Row.Key));
        catalog.Compact();
        return added;
    }
}
