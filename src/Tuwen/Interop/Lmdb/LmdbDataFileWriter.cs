using System.Buffers.Binary;

namespace Tuwen.Interop.Lmdb;

/// <summary>
/// Writes a fresh LMDB 0.9 environment (<c>data.mdb</c>, main database only) in one go, laid out as LMDB's own
/// compacting copy lays it out: two meta pages, the values too large for a leaf on overflow pages as they come,
/// then on <see cref="Complete"/> the leaves in key order and the branch levels above them. Any LMDB 0.9 reader
/// (python-lmdb, so Chinese-CLIP) opens the result. Small values wait in memory until the end because leaves
/// can only be written once all keys are known; large ones (images) do not.
/// </summary>
public sealed class LmdbDataFileWriter : IDisposable
{
    const int PageSize = 4096;
    // LMDB's own limits for a 4 KiB page: a node larger than this goes to overflow pages; keys at most 511 bytes.
    const int NodeMax = ((PageSize - LmdbDataFile.PageHeaderSize) / 2 & -2) - 2;
    const int MaxKeySize = 511;
    // Recorded in the meta page; what the build script asks for, so a later python-lmdb writer has room.
    const ulong MapSize = 1UL << 40;

    readonly FileStream _file;
    readonly string _path;
    readonly SortedDictionary<byte[], (byte[]? Inline, ulong OverflowPage, int Size)> _entries = new(ByteOrder.Instance);
    ulong _nextPage = 2;
    ulong _overflowPages;
    bool _completed;

    public LmdbDataFileWriter(string environment)
    {
        Directory.CreateDirectory(environment);
        _path = Path.Combine(environment, "data.mdb");
        if (File.Exists(_path)) throw new TuwenException($"{_path} already exists; remove it or write elsewhere");
        _file = new FileStream(_path, FileMode.CreateNew, FileAccess.ReadWrite);
    }

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (key.Length is 0 or > MaxKeySize) throw new ArgumentException($"LMDB keys are 1 to {MaxKeySize} bytes", nameof(key));
        var keyBytes = key.ToArray();
        if (_entries.ContainsKey(keyBytes)) throw new InvalidOperationException($"key {Convert.ToHexString(key)} written twice");
        if (LmdbDataFile.NodeHeaderSize + key.Length + value.Length <= NodeMax)
        {
            _entries[keyBytes] = (value.ToArray(), 0, value.Length);
            return;
        }
        ulong first = _nextPage;
        ulong pages = (ulong)((LmdbDataFile.PageHeaderSize - 1 + value.Length) / PageSize + 1);
        var header = new byte[LmdbDataFile.PageHeaderSize];
        BinaryPrimitives.WriteUInt64LittleEndian(header, first);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(10), LmdbDataFile.OverflowPage);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), checked((uint)pages));
        _file.Position = (long)first * PageSize;
        _file.Write(header);
        _file.Write(value);
        _file.Write(new byte[(int)((long)pages * PageSize - LmdbDataFile.PageHeaderSize - value.Length)]);
        _nextPage += pages;
        _overflowPages += pages;
        _entries[keyBytes] = (null, first, value.Length);
    }

    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _completed = true;
        ulong leafPages = 0, branchPages = 0, depth = 0, root = LmdbDataFile.NoPage;
        if (_entries.Count > 0)
        {
            var level = WriteLeaves(ref leafPages);
            depth = 1;
            while (level.Count > 1)
            {
                level = WriteBranches(level, ref branchPages);
                depth++;
            }
            root = level[0].Page;
        }
        var meta = new DatabaseRecord(depth, branchPages, leafPages, _overflowPages, (ulong)_entries.Count, root);
        // Page 0 holds the empty starting state (transaction 0), page 1 the data (transaction 1), as a compacting copy has it.
        WriteMeta(0, lastPage: 1, txnId: 0, new DatabaseRecord(0, 0, 0, 0, 0, LmdbDataFile.NoPage));
        WriteMeta(1, lastPage: _nextPage - 1, txnId: 1, meta);
        _file.SetLength((long)_nextPage * PageSize);
        _file.Flush(flushToDisk: true);
        _file.Dispose();
    }

    public void Dispose()
    {
        if (_completed) return;
        _completed = true;
        _file.Dispose();
        File.Delete(_path);
    }

    List<(byte[] FirstKey, ulong Page)> WriteLeaves(ref ulong count)
    {
        var pages = new List<(byte[], ulong)>();
        var page = new PageBuilder(LmdbDataFile.LeafPage);
        byte[]? first = null;
        foreach (var (key, entry) in _entries)
        {
            var node = LeafNode(key, entry);
            if (!page.Fits(node.Length))
            {
                pages.Add((first!, Flush(page)));
                page = new PageBuilder(LmdbDataFile.LeafPage);
                first = null;
            }
            first ??= key;
            page.Add(node);
        }
        pages.Add((first!, Flush(page)));
        count += (ulong)pages.Count;
        return pages;
    }

    List<(byte[] FirstKey, ulong Page)> WriteBranches(List<(byte[] FirstKey, ulong Page)> children, ref ulong count)
    {
        // Greedy packing, but never leave a last page with a single child: LMDB expects at least two per branch page.
        var groups = new List<List<(byte[] FirstKey, ulong Page)>> { new() };
        int used = 0;
        foreach (var child in children)
        {
            int size = 2 + Even(LmdbDataFile.NodeHeaderSize + (groups[^1].Count == 0 ? 0 : child.FirstKey.Length));
            if (groups[^1].Count > 0 && used + size > PageSize - LmdbDataFile.PageHeaderSize)
            {
                groups.Add([]);
                used = 0;
                size = 2 + LmdbDataFile.NodeHeaderSize;
            }
            groups[^1].Add(child);
            used += size;
        }
        if (groups.Count > 1 && groups[^1].Count == 1)
        {
            var moved = groups[^2][^1];
            groups[^2].RemoveAt(groups[^2].Count - 1);
            groups[^1].Insert(0, moved);
        }
        var parents = new List<(byte[], ulong)>();
        foreach (var group in groups)
        {
            var page = new PageBuilder(LmdbDataFile.BranchPage);
            for (int i = 0; i < group.Count; i++)
                page.Add(BranchNode(i == 0 ? [] : group[i].FirstKey, group[i].Page));
            parents.Add((group[0].FirstKey, Flush(page)));
        }
        count += (ulong)parents.Count;
        return parents;
    }

    static byte[] LeafNode(byte[] key, (byte[]? Inline, ulong OverflowPage, int Size) entry)
    {
        int dataLength = entry.Inline?.Length ?? 8;
        var node = new byte[Even(LmdbDataFile.NodeHeaderSize + key.Length + dataLength)];
        BinaryPrimitives.WriteUInt16LittleEndian(node, (ushort)entry.Size);
        BinaryPrimitives.WriteUInt16LittleEndian(node.AsSpan(2), (ushort)(entry.Size >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(node.AsSpan(4), entry.Inline is null ? LmdbDataFile.BigDataNode : (ushort)0);
        BinaryPrimitives.WriteUInt16LittleEndian(node.AsSpan(6), (ushort)key.Length);
        key.CopyTo(node, LmdbDataFile.NodeHeaderSize);
        var data = node.AsSpan(LmdbDataFile.NodeHeaderSize + key.Length);
        if (entry.Inline is null) BinaryPrimitives.WriteUInt64LittleEndian(data, entry.OverflowPage);
        else entry.Inline.CopyTo(data);
        return node;
    }

    static byte[] BranchNode(byte[] key, ulong child)
    {
        var node = new byte[Even(LmdbDataFile.NodeHeaderSize + key.Length)];
        BinaryPrimitives.WriteUInt16LittleEndian(node, (ushort)child);
        BinaryPrimitives.WriteUInt16LittleEndian(node.AsSpan(2), (ushort)(child >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(node.AsSpan(4), (ushort)(child >> 32));
        BinaryPrimitives.WriteUInt16LittleEndian(node.AsSpan(6), (ushort)key.Length);
        key.CopyTo(node, LmdbDataFile.NodeHeaderSize);
        return node;
    }

    static int Even(int n) => (n + 1) & ~1;

    ulong Flush(PageBuilder page)
    {
        ulong pgno = _nextPage++;
        _file.Position = (long)pgno * PageSize;
        _file.Write(page.Finish(pgno));
        return pgno;
    }

    readonly record struct DatabaseRecord(ulong Depth, ulong BranchPages, ulong LeafPages, ulong OverflowPages, ulong Entries, ulong Root);

    void WriteMeta(ulong pgno, ulong lastPage, ulong txnId, DatabaseRecord main)
    {
        var page = new byte[PageSize];
        var span = page.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(span, pgno);
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], LmdbDataFile.MetaPage);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], LmdbDataFile.Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], LmdbDataFile.DataVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(span[32..], MapSize);
        // Free-page database: empty; its first field carries the page size and its flags say integer keys.
        BinaryPrimitives.WriteUInt32LittleEndian(span[40..], PageSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[44..], 0x08);
        BinaryPrimitives.WriteUInt64LittleEndian(span[80..], LmdbDataFile.NoPage);
        BinaryPrimitives.WriteUInt16LittleEndian(span[94..], (ushort)main.Depth);
        BinaryPrimitives.WriteUInt64LittleEndian(span[96..], main.BranchPages);
        BinaryPrimitives.WriteUInt64LittleEndian(span[104..], main.LeafPages);
        BinaryPrimitives.WriteUInt64LittleEndian(span[112..], main.OverflowPages);
        BinaryPrimitives.WriteUInt64LittleEndian(span[120..], main.Entries);
        BinaryPrimitives.WriteUInt64LittleEndian(span[128..], main.Root);
        BinaryPrimitives.WriteUInt64LittleEndian(span[136..], lastPage);
        BinaryPrimitives.WriteUInt64LittleEndian(span[144..], txnId);
        _file.Position = (long)pgno * PageSize;
        _file.Write(page);
    }

    /// <summary>One branch or leaf page: node offsets grow from the header, nodes from the end.</summary>
    sealed class PageBuilder(ushort flags)
    {
        readonly byte[] _page = new byte[PageSize];
        int _lower = LmdbDataFile.PageHeaderSize;
        int _upper = PageSize;

        public bool Fits(int nodeLength) => _upper - _lower >= nodeLength + 2;

        public void Add(byte[] node)
        {
            if (!Fits(node.Length)) throw new InvalidOperationException("LMDB node does not fit its page");
            _upper -= node.Length;
            node.CopyTo(_page, _upper);
            BinaryPrimitives.WriteUInt16LittleEndian(_page.AsSpan(_lower), (ushort)_upper);
            _lower += 2;
        }

        public byte[] Finish(ulong pgno)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_page, pgno);
            BinaryPrimitives.WriteUInt16LittleEndian(_page.AsSpan(10), flags);
            BinaryPrimitives.WriteUInt16LittleEndian(_page.AsSpan(12), (ushort)_lower);
            BinaryPrimitives.WriteUInt16LittleEndian(_page.AsSpan(14), (ushort)_upper);
            return _page;
        }
    }

    /// <summary>LMDB's default key order: bytewise, a shorter key first when it is a prefix of the other.</summary>
    sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
