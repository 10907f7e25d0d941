using Tuwen.Data;

namespace Tuwen.Inference;

/// <summary>
/// L2-normalised features from an <see cref="IEmbeddingRuntime"/> — what retrieval, zero-shot and the search
/// index compare — with images streamed through <see cref="ImageBatchStream"/> and texts tokenized in batches.
/// </summary>
public static class RuntimeFeatures
{
    /// <summary>Normalised image features per batch, rows aligned with the batch's tags.</summary>
    public static IEnumerable<(IReadOnlyList<T> Tags, float[] Features)> Images<T>(IEmbeddingRuntime runtime,
        IEnumerable<(T Tag, byte[] Bytes)> items, int batchSize, Action<SkippedImage<T>>? onCorrupt = null)
    {
        var transform = ImageTransform.ForEval(runtime.ImageSize);
        foreach (var batch in ImageBatchStream.Read(items, transform, batchSize, onCorrupt))
        {
            var features = runtime.EmbedImages(batch.Pixels, batch.Tags.Count);
            Normalize(features, runtime.EmbedDim);
            yield return (batch.Tags, features);
        }
    }

    /// <summary>Normalised text features, row-major [texts, EmbedDim].</summary>
    public static float[] Texts(IEmbeddingRuntime runtime, IReadOnlyList<string> texts, int batchSize, Action<int>? progress = null)
    {
        if (batchSize < 1) throw new TuwenException($"batch size must be at least 1, not {batchSize}");
        int dim = runtime.EmbedDim;
        var all = new float[(long)texts.Count * dim];
        for (int start = 0; start < texts.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, texts.Count - start);
            var ids = runtime.Tokenizer.EncodeBatch(texts.Skip(start).Take(count).ToList(), runtime.ContextLength);
            var features = runtime.EmbedTexts(ids, count);
            Normalize(features, dim);
            features.CopyTo(all.AsSpan(start * dim));
            progress?.Invoke(start + count);
        }
        return all;
    }

    /// <summary>Divides every row of <paramref name="rows"/> ([n, dim], row-major) by its L2 norm, in place.</summary>
    public static void Normalize(Span<float> rows, int dim)
    {
        if (dim < 1 || rows.Length % dim != 0) throw new ArgumentException($"{rows.Length} floats are not rows of {dim}", nameof(rows));
        for (int start = 0; start < rows.Length; start += dim)
        {
            var row = rows.Slice(start, dim);
            double sum = 0;
            foreach (var v in row) sum += (double)v * v;
            if (!double.IsFinite(sum)) throw new TuwenException("the model produced a NaN or infinite feature");
            // A zero vector stays zero instead of becoming NaN; it then scores 0 against everything.
            if (sum == 0) continue;
            var scale = 1.0 / Math.Sqrt(sum);
            for (int i = 0; i < row.Length; i++) row[i] = (float)(row[i] * scale);
        }
    }
}
