using Tuwen.Data;
using Tuwen.Interop.Img2Dataset;

namespace Tuwen.Interop;

/// <summary>
/// Tuwen's webdataset shards and img2dataset Parquet output as <see cref="CorpusFormat"/>s. Shards keep every
/// caption and the metadata as they are; img2dataset has one caption per row, so the rest travel in Tuwen's
/// extra columns (see <see cref="Img2DatasetColumns.TuwenCaptions"/>).
/// </summary>
public static class ShardCorpusFormats
{
    public static readonly CorpusFormat Shards = new(
        "shards",
        "Tuwen webdataset shards (*.tar + stats.json)",
        (dir, _) => new ShardSource(dir),
        (dir, o) => new ShardTarget(dir, o));

    public static readonly CorpusFormat Img2Dataset = new(
        "img2dataset",
        "img2dataset output_format=parquet (NNNNN.parquet with image bytes)",
        (dir, _) => new Img2DatasetSource(dir),
        (dir, o) => new Img2DatasetTarget(dir, o.SamplesPerShard));

    sealed class ShardSource : ICorpusFormatReader
    {
        readonly IReadOnlyList<string> _shards;
        readonly ShardReadCounters _counters = new();

        public ShardSource(string directory)
        {
            _shards = ShardReader.FindShards(directory);
            Total = ShardReader.TryReadStats(directory)?.Samples;
        }

        public long? Total { get; }

        public IEnumerable<Sample> Read() => ShardReader.Read(_shards, _counters);

        public string Summary => $"read {_counters.Samples} samples from {_shards.Count} shard(s) ({_counters.IncompleteSamples} incomplete skipped)";
    }

    sealed class ShardTarget(string directory, CorpusFormatOptions options) : ICorpusFormatWriter
    {
        readonly ShardWriter _writer = new(directory, options.ShardName, options.SamplesPerShard);
        long _samples;

        public void Write(Sample sample) => _writer.Write(sample);

        public void Complete()
        {
            _samples = _writer.Samples;
            _writer.Dispose();
        }

        public void Dispose() => _writer.Dispose();

        public string Summary => $"wrote {_samples} samples to {_writer.Directory}";
    }

    sealed class Img2DatasetSource(string directory) : ICorpusFormatReader
    {
        readonly Img2DatasetReader _reader = new(directory);
        readonly Img2DatasetReadCounts _counts = new();

        public long? Total => _reader.RowCount;

        public IEnumerable<Sample> Read() => _reader.ReadSamples(_counts);

        public string Summary => $"read {_counts.Rows} rows ({_counts.Failed} failed downloads and {_counts.WithoutCaption} without caption skipped)";
    }

    sealed class Img2DatasetTarget(string directory, int samplesPerShard) : ICorpusFormatWriter
    {
        readonly Img2DatasetWriter _writer = new(directory, samplesPerShard);
        readonly string _directory = directory;

        public void Write(Sample sample) => _writer.Write(sample);

        public void Complete() => _writer.Complete();

        public void Dispose() => _writer.Dispose();

        public string Summary => $"wrote {_writer.Samples} samples in {_writer.Shards} Parquet file(s) to {_directory}";
    }
}
