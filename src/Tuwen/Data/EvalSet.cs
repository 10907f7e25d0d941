using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Tuwen.Data;

/// <summary>
/// A whole evaluation dataset in memory, in dataset order: images through the eval transform as one
/// tensor [N,3,S,S] (owned; dispose the set), keys, metadata (zero-shot labels live there), and every
/// caption with the index of its image. Samples whose image does not decode are left out and counted.
/// </summary>
public sealed class EvalSet : IDisposable
{
    private const int BlockSize = 64;

    private EvalSet(Tensor images, List<string> keys, List<JsonObject> metadata, List<string> captions, List<int> captionImage,
        long corruptImages, long incompleteSamples)
    {
        Images = images;
        Keys = keys;
        Metadata = metadata;
        Captions = captions;
        CaptionImage = captionImage;
        CorruptImages = corruptImages;
        IncompleteSamples = incompleteSamples;
    }

    /// <summary>[N,3,S,S] float32, normalised like the training images.</summary>
    public Tensor Images { get; }

    public int Count => Keys.Count;
    public IReadOnlyList<string> Keys { get; }
    public IReadOnlyList<JsonObject> Metadata { get; }

    /// <summary>All captions of all kept samples, sample by sample.</summary>
    public IReadOnlyList<string> Captions { get; }

    /// <summary>For each caption, the row of its image in <see cref="Images"/>.</summary>
    public IReadOnlyList<int> CaptionImage { get; }

    public long CorruptImages { get; }
    public long IncompleteSamples { get; }

    public static EvalSet Load(string datasetDirOrTarFile, ImageTransform transform, int workers = 2)
        => Load(ShardReader.FindShards(datasetDirOrTarFile), transform, workers);

    public static EvalSet Load(IEnumerable<string> shardPaths, ImageTransform transform, int workers = 2)
    {
        ArgumentNullException.ThrowIfNull(transform);
        if (transform.Training) throw new ArgumentException("an evaluation set needs an evaluation transform", nameof(transform));
        var counters = new ShardReadCounters();
        var keys = new List<string>();
        var metadata = new List<JsonObject>();
        var captions = new List<string>();
        var captionImage = new List<int>();
        var blocks = new List<float[]>();
        long corrupt = 0;
        foreach (var block in ShardReader.Read(shardPaths, counters).Chunk(BlockSize))
        {
            var pixels = new float[block.Length * transform.Length];
            var decoded = new bool[block.Length];
            Parallel.For(0, block.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, workers) }, i =>
            {
                try
                {
                    transform.Apply(block[i].Image, pixels.AsSpan(i * transform.Length, transform.Length), null);
                    decoded[i] = true;
                }
                catch (CorruptImageException)
                {
                }
            });
            var kept = 0;
            for (var i = 0; i < block.Length; i++)
            {
                if (!decoded[i])
                {
                    corrupt++;
                    continue;
                }
                // Close the gaps left by corrupt images so the block holds exactly its kept rows.
                if (kept != i) pixels.AsSpan(i * transform.Length, transform.Length).CopyTo(pixels.AsSpan(kept * transform.Length));
                foreach (var caption in block[i].Captions)
                {
                    captions.Add(caption);
                    captionImage.Add(keys.Count);
                }
                keys.Add(block[i].Key);
                metadata.Add(block[i].Metadata);
                kept++;
            }
            blocks.Add(kept == block.Length ? pixels : pixels[..(kept * transform.Length)]);
        }
        var images = StackBlocks(blocks, keys.Count, transform.Size);
        return new EvalSet(images, keys, metadata, captions, captionImage, corrupt, counters.IncompleteSamples);
    }

    public void Dispose() => Images.Dispose();

    private static Tensor StackBlocks(List<float[]> blocks, int count, int size)
    {
        var images = zeros([count, 3, size, size], ScalarType.Float32);
        try
        {
            long row = 0;
            var perImage = 3 * size * size;
            for (var b = 0; b < blocks.Count; b++)
            {
                var rows = blocks[b].Length / perImage;
                if (rows == 0) continue;
                using var part = tensor(blocks[b], [rows, 3, size, size]);
                using var target = images.narrow(0, row, rows);
                target.copy_(part);
                row += rows;
                blocks[b] = []; // let the block go while the rest is copied
            }
            return images;
        }
        catch
        {
            images.Dispose();
            throw;
        }
    }
}
