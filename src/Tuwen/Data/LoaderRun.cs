using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using static TorchSharp.torch;

namespace Tuwen.Data;

/// <summary>
/// The threads of one loader epoch. A reader thread walks the shards (shuffled order, shuffle buffer) and
/// cuts the sample stream into numbered chunks; workers decode and encode chunks in any order; an
/// assembler thread takes chunks back in stream order, drops corrupt images and forms batches. Every
/// random draw of a sample comes from a Random derived from its position in the stream, so results do
/// not depend on which worker handled it.
/// </summary>
internal sealed class LoaderRun : IDisposable
{
    private const int MaxChunkSize = 16;

    private readonly LoaderOptions _options;
    private readonly Loader.Counters _counters;
    private readonly int _chunkSize;
    private readonly CancellationTokenSource _stop = new();
    private readonly BlockingCollection<Chunk> _inOrder;
    private readonly BlockingCollection<Chunk> _toDecode = new();
    private readonly BlockingCollection<Batch> _ready;
    private readonly ConcurrentBag<Chunk> _spareChunks = [];
    private readonly List<Thread> _threads = [];
    private volatile Exception? _failure;

    public LoaderRun(LoaderOptions options, Loader.Counters counters)
    {
        _options = options;
        _counters = counters;
        _chunkSize = Math.Min(options.BatchSize, MaxChunkSize);
        // Enough chunks in flight that every worker has one while the assembler waits for the oldest.
        var chunksPerBatch = (options.BatchSize + _chunkSize - 1) / _chunkSize;
        _inOrder = new BlockingCollection<Chunk>(chunksPerBatch + 2 * options.Workers);
        _ready = new BlockingCollection<Batch>(options.Prefetch);
        Start("tuwen-loader-reader", ReadShards);
        for (var i = 0; i < options.Workers; i++) Start($"tuwen-loader-worker-{i}", DecodeChunks);
        Start("tuwen-loader-batches", AssembleBatches);
    }

    /// <summary>The next batch, false at the end of the epoch; rethrows what stopped a loader thread.</summary>
    public bool TryTake(out Batch batch)
    {
        try
        {
            if (_ready.TryTake(out batch!, Timeout.Infinite, _stop.Token)) return true;
        }
        catch (OperationCanceledException) when (_failure is not null)
        {
        }
        if (_failure is not null) ExceptionDispatchInfo.Capture(_failure).Throw();
        batch = null!;
        return false;
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var thread in _threads) thread.Join();
        while (_ready.TryTake(out var unclaimed)) unclaimed.Dispose();
        _ready.Dispose();
        _inOrder.Dispose();
        _toDecode.Dispose();
        _stop.Dispose();
    }

    private void Start(string name, Action body)
    {
        var thread = new Thread(() => RunRecordingFailure(body)) { IsBackground = true, Name = name };
        _threads.Add(thread);
        thread.Start();
    }

    private void RunRecordingFailure(Action body)
    {
        try
        {
            body();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Record before cancelling, so the consumer that wakes on the cancellation finds the cause.
            Interlocked.CompareExchange(ref _failure, e, null);
            _stop.Cancel();
        }
    }

    private void ReadShards()
    {
        var token = _stop.Token;
        try
        {
            var shards = _options.ShardPaths.ToArray();
            // Every rank shuffles the shard order with the same seed, then takes its own.
            if (_options.Shuffle) LoaderSeeds.For(_options, LoaderSeeds.ShardOrder).Shuffle(shards);
            var part = _options.Partition;
            if (part is { Split: DataSplit.Shards }) shards = shards.Where((_, i) => i % part.WorldSize == part.Rank).ToArray();
            var samples = ShardReader.Read(shards, _counters.Reading);
            if (_options.Shuffle) samples = ShuffleBuffer(samples, LoaderSeeds.For(_options, LoaderSeeds.ShuffleBuffer));
            var skip = part?.LocalSkip(_options.Skip) ?? _options.Skip;
            long position = 0;
            Chunk? chunk = null;
            foreach (var sample in samples)
            {
                token.ThrowIfCancellationRequested();
                var at = position++;
                if (at < skip || part?.Keeps(at, _options.BatchSize) == false) continue;
                chunk ??= TakeChunk();
                chunk.Positions[chunk.Count] = at;
                chunk.Samples[chunk.Count++] = sample;
                if (chunk.Count == _chunkSize)
                {
                    Dispatch(chunk, token);
                    chunk = null;
                }
            }
            if (chunk is not null) Dispatch(chunk, token);
        }
        finally
        {
            _inOrder.CompleteAdding();
            _toDecode.CompleteAdding();
        }
    }

    private IEnumerable<Sample> ShuffleBuffer(IEnumerable<Sample> samples, Random rng)
    {
        var buffer = new List<Sample>(Math.Min(_options.ShuffleBuffer, 1 << 16));
        foreach (var sample in samples)
        {
            if (buffer.Count < _options.ShuffleBuffer)
            {
                buffer.Add(sample);
                continue;
            }
            var pick = rng.Next(buffer.Count);
            yield return buffer[pick];
            buffer[pick] = sample;
        }
        while (buffer.Count > 0)
        {
            var pick = rng.Next(buffer.Count);
            yield return buffer[pick];
            buffer[pick] = buffer[^1];
            buffer.RemoveAt(buffer.Count - 1);
        }
    }

    private void Dispatch(Chunk chunk, CancellationToken token)
    {
        // In-order queue first: its bound is what holds the reader back when workers fall behind.
        _inOrder.Add(chunk, token);
        _toDecode.Add(chunk, token);
    }

    private void DecodeChunks()
    {
        var token = _stop.Token;
        var transform = _options.Transform;
        foreach (var chunk in _toDecode.GetConsumingEnumerable(token))
        {
            for (var i = 0; i < chunk.Count; i++)
            {
                token.ThrowIfCancellationRequested();
                DecodeSample(chunk, i, transform);
                chunk.Samples[i] = null; // the encoded bytes are no longer needed
            }
            chunk.Done.Set();
        }
    }

    private void DecodeSample(Chunk chunk, int i, ImageTransform transform)
    {
        var sample = chunk.Samples[i]!;
        var rng = LoaderSeeds.For(_options, LoaderSeeds.Sample, _options.Partition?.SeedIndex(chunk.Positions[i]) ?? chunk.Positions[i]);
        var captions = sample.Captions;
        var caption = _options.FixedCaption is { } fixedIndex ? fixedIndex % captions.Count : rng.Next(captions.Count);
        chunk.Keys[i] = sample.Key;
        chunk.CaptionIndex[i] = caption;
        try
        {
            transform.Apply(sample.Image, chunk.Pixels.AsSpan(i * transform.Length, transform.Length), rng);
            chunk.Decoded[i] = true;
        }
        catch (CorruptImageException)
        {
            chunk.Decoded[i] = false;
            _counters.CountCorruptImage();
            return;
        }
        var ids = _options.EncodeText(captions[caption]);
        var row = chunk.Tokens.AsSpan(i * _options.ContextLength, _options.ContextLength);
        var kept = Math.Min(ids.Length, row.Length);
        ids.AsSpan(0, kept).CopyTo(row);
        row[kept..].Clear();
    }

    private void AssembleBatches()
    {
        var token = _stop.Token;
        try
        {
            var batch = new BatchBuilder(_options);
            foreach (var chunk in _inOrder.GetConsumingEnumerable(token))
            {
                chunk.Done.Wait(token);
                for (var i = 0; i < chunk.Count; i++)
                {
                    if (!chunk.Decoded[i]) continue;
                    batch.Add(chunk, i);
                    if (batch.Count == _options.BatchSize) HandOver(batch.Build(Consumed(chunk.Positions[i] + 1)), token);
                }
                _spareChunks.Add(chunk);
            }
            if (batch.Count > 0 && !_options.DropLast) HandOver(batch.Build(Consumed(batch.LastPosition + 1)), token);
        }
        finally
        {
            _ready.CompleteAdding();
        }
    }

    private void HandOver(Batch batch, CancellationToken token)
    {
        try
        {
            _ready.Add(batch, token);
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    /// <summary>Samples of the epoch consumed once this process's stream reached <paramref name="next"/>.</summary>
    private long Consumed(long next) => _options.Partition?.JobConsumed(next, _options.BatchSize) ?? next;

    private Chunk TakeChunk()
    {
        var chunk = _spareChunks.TryTake(out var spare) ? spare : new Chunk(_chunkSize, _options);
        chunk.Reset();
        return chunk;
    }

    /// <summary>Stream samples decoded together, in stream order; recycled once assembled.</summary>
    private sealed class Chunk(int capacity, LoaderOptions options)
    {
        public int Count;
        public readonly long[] Positions = new long[capacity];
        public readonly Sample?[] Samples = new Sample?[capacity];
        public readonly string[] Keys = new string[capacity];
        public readonly int[] CaptionIndex = new int[capacity];
        public readonly bool[] Decoded = new bool[capacity];
        public readonly float[] Pixels = new float[capacity * options.Transform.Length];
        public readonly long[] Tokens = new long[capacity * options.ContextLength];
        public readonly ManualResetEventSlim Done = new();

        public void Reset()
        {
            Count = 0;
            Done.Reset();
        }
    }

    /// <summary>Collects decoded samples into reused arrays; tensors copy them, so the arrays serve every batch.</summary>
    private sealed class BatchBuilder(LoaderOptions options)
    {
        private readonly int _imageLength = options.Transform.Length;
        private readonly float[] _pixels = new float[options.BatchSize * options.Transform.Length];
        private readonly long[] _tokens = new long[options.BatchSize * options.ContextLength];
        private readonly List<string> _keys = new(options.BatchSize);
        private readonly List<int> _captionIndex = new(options.BatchSize);

        public int Count => _keys.Count;
        public long LastPosition { get; private set; }

        public void Add(Chunk chunk, int i)
        {
            var n = Count;
            chunk.Pixels.AsSpan(i * _imageLength, _imageLength).CopyTo(_pixels.AsSpan(n * _imageLength));
            chunk.Tokens.AsSpan(i * options.ContextLength, options.ContextLength).CopyTo(_tokens.AsSpan(n * options.ContextLength));
            _keys.Add(chunk.Keys[i]);
            _captionIndex.Add(chunk.CaptionIndex[i]);
            LastPosition = chunk.Positions[i];
        }

        public Batch Build(long samplesConsumed)
        {
            var n = Count;
            var size = options.Transform.Size;
            var pixels = n == options.BatchSize ? _pixels : _pixels[..(n * _imageLength)];
            var tokens = n == options.BatchSize ? _tokens : _tokens[..(n * options.ContextLength)];
            var images = tensor(pixels, [n, 3, size, size]);
            Tensor ids;
            try
            {
                ids = tensor(tokens, [n, options.ContextLength]);
            }
            catch
            {
                images.Dispose();
                throw;
            }
            var batch = new Batch(images, ids, [.. _keys], [.. _captionIndex]) { SamplesConsumed = samplesConsumed };
            _keys.Clear();
            _captionIndex.Clear();
            return batch;
        }
    }
}
