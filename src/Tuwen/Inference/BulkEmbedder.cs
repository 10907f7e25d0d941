using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet.Serialization;
using Tuwen.Data;

namespace Tuwen.Inference;

public sealed record BulkEmbedOptions
{
    public EmbeddingDtype Dtype { get; init; } = EmbeddingDtype.Float16;
    public int BatchSize { get; init; } = 64;
    /// <summary>Rows per output part (clip-retrieval writes one .npy + .parquet pair per part).</summary>
    public int PartRows { get; init; } = 100_000;
    public bool Texts { get; init; }
    /// <summary>Model reference written to embeddings.json (the checkpoint path).</summary>
    public string Model { get; init; } = "";
}

public sealed record BulkEmbedResult(long Images, long Texts, int ImageParts, int TextParts, IReadOnlyList<string> Skipped, string ManifestPath);

/// <summary>
/// Embeds a stream of images (and optionally texts) into clip-retrieval's output layout, so an index built for
/// that layout reads ours: <c>img_emb/img_emb_{part}.npy</c> (float16 or float32, shape (rows, dim), L2-normalised
/// rows) with <c>metadata/metadata_{part}.parquet</c> holding one row per embedding row in the same order;
/// texts likewise in <c>text_emb/</c> and <c>text_metadata/</c> (a separate table, since an image may have many
/// captions). <c>embeddings.json</c> records model, runtime, dim, dtype, normalisation and counts. Memory is
/// bounded by two image batches plus one part's metadata rows; every file is written as .tmp and renamed when complete.
/// </summary>
public static class BulkEmbedder
{
    public const string ManifestFileName = "embeddings.json";
    public const string Schema = "tuwen.embeddings/1";

    public static BulkEmbedResult Run(IEmbeddingRuntime runtime, EmbeddingSource source, string outDir, BulkEmbedOptions options,
        Action<long, string>? progress = null)
    {
        if (options.BatchSize < 1) throw new TuwenException($"batch size must be at least 1, not {options.BatchSize}");
        if (options.PartRows < 1) throw new TuwenException($"rows per part must be at least 1, not {options.PartRows}");
        // Parts of an earlier run would mix with this run's (a shorter run leaves the old tail behind), and
        // deleting them could lose someone's data, so an output directory that already holds parts is refused.
        foreach (var folder in new[] { "img_emb", "metadata", "text_emb", "text_metadata" })
            if (Directory.Exists(Path.Combine(outDir, folder)) && Directory.EnumerateFileSystemEntries(Path.Combine(outDir, folder)).Any())
                throw new TuwenException($"{outDir} already holds embeddings ({folder}/); choose another --out or remove them first");
        Directory.CreateDirectory(outDir);
        var manifest = Path.Combine(outDir, ManifestFileName);

        var skipped = new List<string>();
        long images = 0;
        int imageParts;
        using (var parts = new PartWriter<ImageEmbeddingRow>(outDir, "img_emb", "metadata", runtime.EmbedDim, options))
        {
            var stream = source.Images.Select(i => (i.Row, i.Read()));
            foreach (var (rows, features) in RuntimeFeatures.Images(runtime, stream, options.BatchSize,
                s => skipped.Add($"{s.Tag.ImagePath}: {s.Reason}")))
            {
                parts.Append(rows, features);
                images += rows.Count;
                progress?.Invoke(images, "images");
            }
            imageParts = parts.Finish();
        }

        long texts = 0;
        int textParts = 0;
        if (options.Texts)
        {
            using var parts = new PartWriter<TextEmbeddingRow>(outDir, "text_emb", "text_metadata", runtime.EmbedDim, options);
            foreach (var batch in source.Texts.Chunk(options.BatchSize))
            {
                var features = RuntimeFeatures.Texts(runtime, batch.Select(t => t.Caption).ToList(), options.BatchSize);
                parts.Append(batch, features);
                texts += batch.Length;
                progress?.Invoke(texts, "texts");
            }
            textParts = parts.Finish();
        }
        if (images == 0 && texts == 0) throw new TuwenException($"nothing to embed in {source.Description}");

        var json = new JsonObject
        {
            ["schema"] = Schema,
            ["model"] = options.Model,
            ["runtime"] = runtime.Name,
            ["dim"] = runtime.EmbedDim,
            ["dtype"] = NpyWriter.Descr(options.Dtype) == "<f2" ? "float16" : "float32",
            ["npy_descr"] = NpyWriter.Descr(options.Dtype),
            ["normalized"] = true,
            ["image_size"] = runtime.ImageSize,
            ["context_length"] = runtime.ContextLength,
            ["source"] = source.Description,
            ["images"] = images,
            ["texts"] = texts,
            ["image_parts"] = imageParts,
            ["text_parts"] = textParts,
            ["layout"] = new JsonObject
            {
                ["image_embeddings"] = "img_emb/img_emb_{part}.npy",
                ["image_metadata"] = "metadata/metadata_{part}.parquet",
                ["text_embeddings"] = "text_emb/text_emb_{part}.npy",
                ["text_metadata"] = "text_metadata/text_metadata_{part}.parquet",
                ["part"] = "0, 1, … zero-padded to the number of digits of the part count (clip-retrieval's naming); rows in part order",
            },
            ["skipped_images"] = new JsonArray([.. skipped.Select(s => JsonValue.Create(s))]),
        };
        AtomicFile.WriteText(manifest, w => w.Write(json.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) + "\n"));
        return new BulkEmbedResult(images, texts, imageParts, textParts, skipped, manifest);
    }

    /// <summary>Writes rows into numbered parts: one .npy and one .parquet per part, each complete before the next begins.</summary>
    private sealed class PartWriter<TRow>(string outDir, string embeddingFolder, string metadataFolder, int dim, BulkEmbedOptions options)
        : IDisposable where TRow : class
    {
        private readonly List<TRow> _rows = [];
        private NpyWriter? _npy;
        private int _parts;

        public void Append(IReadOnlyList<TRow> rows, float[] features)
        {
            for (int start = 0; start < rows.Count;)
            {
                _npy ??= Open();
                int take = Math.Min(rows.Count - start, options.PartRows - _rows.Count);
                _npy.Append(features.AsSpan(start * dim, take * dim));
                _rows.AddRange(rows.Skip(start).Take(take));
                start += take;
                if (_rows.Count == options.PartRows) Close();
            }
        }

        /// <summary>
        /// Completes the last part and, with ten parts or more, renames them to zero-padded numbers as clip-retrieval
        /// names them (width = digits of the part count), so name order is row order; returns the number of parts.
        /// </summary>
        public int Finish()
        {
            if (_npy != null) Close();
            int width = _parts.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
            for (int part = 0; part < _parts && width > 1; part++)
            {
                var padded = part.ToString(new string('0', width), System.Globalization.CultureInfo.InvariantCulture);
                if (padded == part.ToString(System.Globalization.CultureInfo.InvariantCulture)) continue;
                File.Move(Path.Combine(outDir, metadataFolder, $"{metadataFolder}_{part}.parquet"),
                    Path.Combine(outDir, metadataFolder, $"{metadataFolder}_{padded}.parquet"), overwrite: true);
                File.Move(Path.Combine(outDir, embeddingFolder, $"{embeddingFolder}_{part}.npy"),
                    Path.Combine(outDir, embeddingFolder, $"{embeddingFolder}_{padded}.npy"), overwrite: true);
            }
            return _parts;
        }

        private NpyWriter Open()
        {
            Directory.CreateDirectory(Path.Combine(outDir, embeddingFolder));
            Directory.CreateDirectory(Path.Combine(outDir, metadataFolder));
            return new NpyWriter(Path.Combine(outDir, embeddingFolder, $"{embeddingFolder}_{_parts}.npy"), dim, options.Dtype);
        }

        private void Close()
        {
            var metadata = Path.Combine(outDir, metadataFolder, $"{metadataFolder}_{_parts}.parquet");
            // Metadata first: the .npy only gets its final name once its rows are described.
            AtomicFile.Write(metadata, stream => ParquetSerializer.SerializeAsync(_rows, stream).GetAwaiter().GetResult());
            _npy!.Complete();
            _npy.Dispose();
            _npy = null;
            _rows.Clear();
            _parts++;
        }

        public void Dispose() => _npy?.Dispose();
    }
}
