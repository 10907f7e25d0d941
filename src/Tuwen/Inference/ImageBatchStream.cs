using Tuwen.Data;

namespace Tuwen.Inference;

/// <summary>One batch of decoded, pre-processed images: <see cref="Pixels"/> holds <see cref="Tags"/>.Count images, CHW, in order.</summary>
public sealed record ImageBatch<T>(IReadOnlyList<T> Tags, float[] Pixels);

/// <summary>An input that did not decode and was skipped.</summary>
public sealed record SkippedImage<T>(T Tag, string Reason);

/// <summary>
/// Streams encoded images through <see cref="ImageTransform"/> on worker threads in batches of a fixed size.
/// At most two batches are in memory (the one being consumed and the one being decoded), so a corpus larger
/// than memory goes through; the order of the input is kept. Reading the encoded bytes stays on the caller's
/// enumerator (files and TSV lines are read sequentially); only decoding and resizing run in parallel.
/// </summary>
public static class ImageBatchStream
{
    public static IEnumerable<ImageBatch<T>> Read<T>(IEnumerable<(T Tag, byte[] Bytes)> items, ImageTransform transform, int batchSize,
        Action<SkippedImage<T>>? onCorrupt = null, int workers = 0)
    {
        if (batchSize < 1) throw new TuwenException($"batch size must be at least 1, not {batchSize}");
        if (transform.Training) throw new ArgumentException("embedding needs an evaluation transform", nameof(transform));
        workers = workers > 0 ? workers : Math.Max(1, Environment.ProcessorCount);
        using var source = items.GetEnumerator();
        var pending = Task.Run(() => Decode(Take(source, batchSize), transform, workers));
        try
        {
            while (true)
            {
                var (batch, skipped) = pending.GetAwaiter().GetResult();
                if (batch == null) yield break;
                // Decode the next batch while the caller runs the model on this one.
                pending = Task.Run(() => Decode(Take(source, batchSize), transform, workers));
                foreach (var s in skipped)
                {
                    if (onCorrupt == null) throw new TuwenException($"image {s.Tag} does not decode: {s.Reason}");
                    onCorrupt(s);
                }
                if (batch.Tags.Count > 0) yield return batch;
            }
        }
        finally
        {
            // A consumer that stops early must not leave a decode running on the disposed enumerator.
            if (!pending.IsCompleted) ((IAsyncResult)pending).AsyncWaitHandle.WaitOne();
        }
    }

    private static List<(T Tag, byte[] Bytes)> Take<T>(IEnumerator<(T Tag, byte[] Bytes)> source, int count)
    {
        var list = new List<(T, byte[])>(count);
        while (list.Count < count && source.MoveNext()) list.Add(source.Current);
        return list;
    }

    private static (ImageBatch<T>? Batch, List<SkippedImage<T>> Skipped) Decode<T>(List<(T Tag, byte[] Bytes)> items, ImageTransform transform, int workers)
    {
        var skipped = new List<SkippedImage<T>>();
        if (items.Count == 0) return (null, skipped);
        int length = transform.Length;
        var pixels = new float[items.Count * length];
        var errors = new string?[items.Count];
        Parallel.For(0, items.Count, new ParallelOptions { MaxDegreeOfParallelism = workers }, i =>
        {
            try
            {
                transform.Apply(items[i].Bytes, pixels.AsSpan(i * length, length), null);
            }
            catch (CorruptImageException e)
            {
                errors[i] = e.Message;
            }
        });
        if (errors.All(e => e == null)) return (new ImageBatch<T>(items.Select(i => i.Tag).ToArray(), pixels), skipped);

        // Compact the batch so the rows stay aligned with the tags that decoded.
        var tags = new List<T>(items.Count);
        var kept = new float[(items.Count - errors.Count(e => e != null)) * length];
        for (int i = 0; i < items.Count; i++)
        {
            if (errors[i] is { } reason)
            {
                skipped.Add(new SkippedImage<T>(items[i].Tag, reason));
                continue;
            }
            pixels.AsSpan(i * length, length).CopyTo(kept.AsSpan(tags.Count * length));
            tags.Add(items[i].Tag);
        }
        return (new ImageBatch<T>(tags, kept), skipped);
    }
}
