namespace Tuwen.Search;

/// <summary>
/// The embedded index: vectors in one memory-mapped file (<see cref="VectorFile"/>), grouped into lists. Exact
/// search is one list scanned whole; IVF keeps k-means centroids and scans only the <see cref="NProbe"/> lists
/// nearest each query. Added rows live in memory per list until <see cref="Save"/>; deleted rows are tombstones
/// until <see cref="Save"/> rewrites the file without them. Searches run concurrently; changes take a write lock.
/// </summary>
public sealed partial class EmbeddedVectorIndex : IVectorIndex
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly string _path;
    private readonly float[] _centroids;
    private readonly int _lists;
    private VectorFile? _base;
    private DeltaList[] _delta;
    private byte[] _dead = [];
    private readonly Dictionary<long, int> _rowOfId = [];
    private readonly List<(int List, int Index)> _deltaLocation = [];
    private int _baseRows;
    private long _live;

    public VectorEncoding Encoding { get; }
    public bool Approximate { get; }
    public int Dim { get; }
    public string Path => _path;

    /// <summary>Lists an IVF query scans (clamped to 1…lists); ignored by exact search.</summary>
    public int NProbe { get; set; }

    public string Kind => (Approximate ? "ivf" : "exact") + (Encoding == VectorEncoding.Int8 ? "-int8" : "");

    public long Count
    {
        get
        {
            _lock.EnterReadLock();
            try { return _live; } finally { _lock.ExitReadLock(); }
        }
    }

    private EmbeddedVectorIndex(string path, VectorEncoding encoding, int dim, bool approximate, float[] centroids, int lists, int nprobe)
    {
        _path = path;
        Encoding = encoding;
        Dim = dim;
        Approximate = approximate;
        _centroids = centroids;
        _lists = lists;
        NProbe = nprobe;
        _delta = NewDelta();
    }

    /// <summary>A new empty exact index that will be saved at <paramref name="path"/>.</summary>
    public static EmbeddedVectorIndex CreateExact(string path, int dim, VectorEncoding encoding = VectorEncoding.Float16)
    {
        if (dim < 1) throw new TuwenException($"vector dimension must be at least 1, not {dim}");
        return new EmbeddedVectorIndex(path, encoding, dim, false, [], 1, 1);
    }

    /// <summary>A new empty IVF index over trained <paramref name="centroids"/> ([lists, dim], see <see cref="KMeans"/>).</summary>
    public static EmbeddedVectorIndex CreateIvf(string path, int dim, float[] centroids, int nprobe, VectorEncoding encoding = VectorEncoding.Float16)
    {
        if (dim < 1 || centroids.Length == 0 || centroids.Length % dim != 0)
            throw new TuwenException($"IVF centroids ({centroids.Length} floats) do not fit dimension {dim}");
        return new EmbeddedVectorIndex(path, encoding, dim, true, centroids, centroids.Length / dim, nprobe);
    }

    /// <summary>Opens a saved index file (the rows stay on disk, memory-mapped).</summary>
    public static EmbeddedVectorIndex Open(string path)
    {
        var file = VectorFile.Open(path);
        var index = new EmbeddedVectorIndex(path, file.Encoding, file.Dim, file.Approximate, file.Centroids, file.Lists, file.NProbe);
        index.Attach(file);
        return index;
    }

    private void Attach(VectorFile file)
    {
        _base = file;
        _baseRows = (int)file.Rows;
        _dead = new byte[Math.Max(16, _baseRows)];
        _rowOfId.Clear();
        _deltaLocation.Clear();
        _delta = NewDelta();
        for (int row = 0; row < _baseRows; row++)
            if (!_rowOfId.TryAdd(file.Ids[row], row)) throw new TuwenException($"{_path}: id {file.Ids[row]} is stored twice");
        _live = _baseRows;
    }

    private DeltaList[] NewDelta() => [.. Enumerable.Range(0, _lists).Select(_ => new DeltaList(VectorCodec.RowBytes(Encoding, Dim)))];

    public void Add(ReadOnlySpan<long> ids, ReadOnlySpan<float> vectors)
    {
        if (vectors.Length != (long)ids.Length * Dim)
            throw new TuwenException($"vectors hold {vectors.Length} floats, expected {ids.Length} × {Dim}");
        var lists = AssignLists(vectors, ids.Length);
        int rowBytes = VectorCodec.RowBytes(Encoding, Dim);
        var encoded = new byte[rowBytes];
        _lock.EnterWriteLock();
        try
        {
            for (int i = 0; i < ids.Length; i++)
            {
                RemoveLocked(ids[i]);
                float scale = VectorCodec.Encode(Encoding, vectors.Slice(i * Dim, Dim), encoded);
                int row = _baseRows + _deltaLocation.Count;
                _deltaLocation.Add((lists[i], _delta[lists[i]].Append(encoded, scale, ids[i], row)));
                if (row >= _dead.Length) Array.Resize(ref _dead, Math.Max(row + 1, _dead.Length * 2));
                _rowOfId[ids[i]] = row;
                _live++;
            }
        }
        finally { _lock.ExitWriteLock(); }
    }

    public long Delete(ReadOnlySpan<long> ids)
    {
        _lock.EnterWriteLock();
        try
        {
            long removed = 0;
            foreach (var id in ids) if (RemoveLocked(id)) removed++;
            return removed;
        }
        finally { _lock.ExitWriteLock(); }
    }

    private bool RemoveLocked(long id)
    {
        if (!_rowOfId.Remove(id, out int row)) return false;
        _dead[row] = 1;
        _live--;
        return true;
    }

    /// <summary>The ids of every live vector, in no particular order (a snapshot).</summary>
    public long[] Ids()
    {
        _lock.EnterReadLock();
        try { return [.. _rowOfId.Keys]; } finally { _lock.ExitReadLock(); }
    }

    public bool TryGetVector(long id, Span<float> into)
    {
        if (into.Length != Dim) throw new TuwenException($"vector buffer holds {into.Length} floats, expected {Dim}");
        _lock.EnterReadLock();
        try
        {
            if (!_rowOfId.TryGetValue(id, out int row)) return false;
            if (row < _baseRows)
                VectorCodec.DecodeRow(Encoding, _base!.RowBytes(row, 1), Encoding == VectorEncoding.Int8 ? _base.Scales[row] : 1f, into);
            else
            {
                var (list, index) = _deltaLocation[row - _baseRows];
                var delta = _delta[list];
                VectorCodec.DecodeRow(Encoding, delta.RowBytes(index, 1), delta.Scales[index], into);
            }
            return true;
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// Writes every live row (stored and added, list by list, deleted ones dropped) to a new file, swaps it in
    /// and maps it; added rows then leave memory.
    /// </summary>
    public void Save()
    {
        _lock.EnterWriteLock();
        try
        {
            int rowBytes = VectorCodec.RowBytes(Encoding, Dim);
            var offsets = new long[_lists + 1];
            var ids = new List<long>((int)_live);
            var scales = new List<float>(Encoding == VectorEncoding.Int8 ? (int)_live : 0);
            var plan = new List<(bool FromBase, int List, int Index)>((int)_live);
            for (int list = 0; list < _lists; list++)
            {
                if (_base != null)
                    for (long r = _base.ListOffsets[list]; r < _base.ListOffsets[list + 1]; r++)
                        if (_dead[r] == 0) { plan.Add((true, list, (int)r)); ids.Add(_base.Ids[r]); if (Encoding == VectorEncoding.Int8) scales.Add(_base.Scales[r]); }
                var delta = _delta[list];
                for (int i = 0; i < delta.Count; i++)
                    if (_dead[delta.Rows[i]] == 0) { plan.Add((false, list, i)); ids.Add(delta.Ids[i]); if (Encoding == VectorEncoding.Int8) scales.Add(delta.Scales[i]); }
                offsets[list + 1] = ids.Count;
            }
            VectorFile.Write(_path, Encoding, Dim, Approximate, NProbe, _centroids, offsets, [.. ids], [.. scales], stream =>
            {
                foreach (var (fromBase, list, index) in plan)
                    stream.Write(fromBase ? _base!.RowBytes(index, 1) : _delta[list].RowBytes(index, 1));
            });
            _base?.Dispose();
            Attach(VectorFile.Open(_path));
        }
        finally { _lock.ExitWriteLock(); }
    }

    public void Dispose()
    {
        _base?.Dispose();
        _base = null;
        _lock.Dispose();
    }

    /// <summary>Rows added since the last save, for one list: encoded bytes, scales, ids and row numbers, grown by doubling.</summary>
    private sealed class DeltaList(int rowBytes)
    {
        public byte[] Data = [];
        public float[] Scales = [];
        public long[] Ids = [];
        public int[] Rows = [];
        public int Count;

        public int Append(ReadOnlySpan<byte> encoded, float scale, long id, int row)
        {
            if (Count == Ids.Length)
            {
                int capacity = Math.Max(16, Count * 2);
                Array.Resize(ref Data, capacity * rowBytes);
                Array.Resize(ref Scales, capacity);
                Array.Resize(ref Ids, capacity);
                Array.Resize(ref Rows, capacity);
            }
            encoded.CopyTo(Data.AsSpan(Count * rowBytes, rowBytes));
            Scales[Count] = scale;
            Ids[Count] = id;
            Rows[Count] = row;
            return Count++;
        }

        public ReadOnlySpan<byte> RowBytes(int first, int count) => Data.AsSpan(first * rowBytes, count * rowBytes);
    }
}
