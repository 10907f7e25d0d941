using System.Collections;

namespace Tuwen.Data;

/// <summary>
/// Batches of one epoch from webdataset shards, decoded and augmented on background threads and
/// prefetched. Each <c>foreach</c> runs the epoch given by <see cref="LoaderOptions.Epoch"/> from
/// <see cref="LoaderOptions.Skip"/> on; the consumer disposes every batch it takes. Corrupt images are
/// skipped and counted, never fatal; a truncated shard or an exception in EncodeText ends the epoch with it.
/// </summary>
public sealed class Loader : IEnumerable<Batch>
{
    private readonly Counters _counters = new();
    private readonly Lazy<long?> _samplesPerEpoch;

    public Loader(LoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _samplesPerEpoch = new Lazy<long?>(() => CountFromStats(options.ShardPaths));
    }

    public LoaderOptions Options { get; }

    /// <summary>Images skipped because they would not decode, over all enumerations of this loader.</summary>
    public long CorruptImages => _counters.CorruptImages;

    /// <summary>Shard samples skipped for lacking an image or captions, over all enumerations of this loader.</summary>
    public long IncompleteSamples => _counters.Reading.IncompleteSamples;

    /// <summary>Samples in the shards per stats.json, null when some shard is not listed there.</summary>
    public long? SamplesPerEpoch => _samplesPerEpoch.Value;

    /// <summary>
    /// Batches in a full epoch per stats.json (null when unknown). Corrupt images make the true number
    /// smaller, so treat it as an upper bound for progress bars and learning-rate schedules.
    /// </summary>
    public long? BatchesPerEpoch => SamplesPerEpoch is { } samples
        ? Options.DropLast ? samples / Options.BatchSize : (samples + Options.BatchSize - 1) / Options.BatchSize
        : null;

    public IEnumerator<Batch> GetEnumerator()
    {
        using var run = new LoaderRun(Options, _counters);
        while (run.TryTake(out var batch)) yield return batch;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static long? CountFromStats(IReadOnlyList<string> shardPaths)
    {
        long total = 0;
        foreach (var directory in shardPaths.GroupBy(p => Path.GetDirectoryName(Path.GetFullPath(p)) ?? ""))
        {
            var stats = DatasetStats.TryRead(directory.Key);
            if (stats is null) return null;
            var samplesByFile = stats.Shards.ToDictionary(s => s.File, s => s.Samples, StringComparer.Ordinal);
            foreach (var path in directory)
            {
                if (!samplesByFile.TryGetValue(Path.GetFileName(path), out var samples)) return null;
                total += samples;
            }
        }
        return total;
    }

    internal sealed class Counters
    {
        private long _corruptImages;

        public ShardReadCounters Reading { get; } = new();
        public long CorruptImages => Interlocked.Read(ref _corruptImages);
        public void CountCorruptImage() => Interlocked.Increment(ref _corruptImages);
    }
}
