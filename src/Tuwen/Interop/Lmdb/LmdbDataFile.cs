using System.Buffers.Binary;

namespace Tuwen.Interop.Lmdb;

/// <summary>
/// Read-only access to the main database of an LMDB 0.9 environment (its <c>data.mdb</c>), the format Chinese-CLIP's
/// files are in: python-lmdb bundles LMDB 0.9, while the LightningDB package ships LMDB 1.0, whose page layout
/// differs and which refuses 0.9 files ("MDB_INVALID"). Pages are read with ordinary file reads rather than a
/// memory map, so a cut-off file is an error instead of a SIGBUS. Only what such files use is supported: 64-bit
/// page numbers, the unnamed main database, plain and overflow values; duplicate-sorted and named sub-databases
/// are refused.
/// </summary>
public sealed class LmdbDataFile : IDisposable
{
    internal const int PageHeaderSize = 16;
    internal const int NodeHeaderSize = 8;
    internal const uint Magic = 0xBEEFC0DE;
    internal const uint DataVersion = 1;
    internal const ushort BranchPage = 0x01, LeafPage = 0x02, OverflowPage = 0x04, MetaPage = 0x08, Leaf2Page = 0x20;
    internal const ushort BigDataNode = 0x01, SubDataNode = 0x02, DupDataNode = 0x04;
    internal const ulong NoPage = ulong.MaxValue;

    readonly FileStream _file;
    readonly string _path;
    readonly int _pageSize;
    readonly ulong _root;
    readonly ulong _lastPage;

    LmdbDataFile(FileStream file, string path, int pageSize, ulong root, ulong lastPage, long entries)
    {
        (_file, _path, _pageSize, _root, _lastPage) = (file, path, pageSize, root, lastPage);
        Entries = entries;
    }

    /// <summary>Number of key/value pairs in the main database, as its meta page records it.</summary>
    public long Entries { get; }

    /// <summary>Opens <c>data.mdb</c> in an environment directory (or the file itself).</summary>
    public static LmdbDataFile Open(string environment)
    {
        var path = Directory.Exists(environment) ? Path.Combine(environment, "data.mdb") : environment;
        if (!File.Exists(path)) throw new TuwenException($"LMDB data file not found: {path}");
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.RandomAccess);
        try
        {
            var meta0 = ReadMeta(file, path, 0, 0);
            // The second meta page sits one page in; the first tells the page size.
            var meta1 = ReadMeta(file, path, meta0.PageSize, 1);
            var meta = meta1.TxnId > meta0.TxnId ? meta1 : meta0;
            if ((long)(meta.LastPage + 1) * meta.PageSize > file.Length)
                throw new TuwenException($"{path} is truncated: it holds {file.Length} bytes but its last page ends at byte {(long)(meta.LastPage + 1) * meta.PageSize}");
            if ((meta.MainFlags & 0x04) != 0)
                throw new TuwenException($"{path}: duplicate-sorted databases are not supported");
            return new LmdbDataFile(file, path, meta.PageSize, meta.Root, meta.LastPage, meta.Entries);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose() => _file.Dispose();

    /// <summary>All entries in key order (bytewise, as LMDB sorts them); values are read as they are reached.</summary>
    public IEnumerable<(byte[] Key, byte[] Value)> ReadAll() => Walk().Select(n => LeafEntry(n.Page, n.Index));

    /// <summary>All keys in order, without reading the values stored on overflow pages.</summary>
    public IEnumerable<byte[]> ReadKeys() => Walk().Select(n => NodeKey(n.Page, n.Index).ToArray());

    IEnumerable<(byte[] Page, int Index)> Walk()
    {
        if (_root == NoPage) yield break;
        var stack = new Stack<(byte[] Page, int Next)>();
        stack.Push((ReadPage(_root), 0));
        while (stack.Count > 0)
        {
            var (page, next) = stack.Pop();
            int count = NodeCount(page);
            if (next >= count) continue;
            stack.Push((page, next + 1));
            if (Flags(page) == BranchPage)
                stack.Push((ReadPage(BranchChild(page, next)), 0));
            else
                yield return (page, next);
        }
    }

    /// <summary>The value stored under <paramref name="key"/>, or null.</summary>
    public byte[]? Get(ReadOnlySpan<byte> key)
    {
        if (_root == NoPage) return null;
        var page = ReadPage(_root);
        while (Flags(page) == BranchPage)
        {
            // Node 0 of a branch page has no key of its own: it covers everything below node 1's key.
            int count = NodeCount(page), child = 0;
            int lo = 1, hi = count - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) / 2;
                if (key.SequenceCompareTo(NodeKey(page, mid)) >= 0) { child = mid; lo = mid + 1; }
                else hi = mid - 1;
            }
            page = ReadPage(BranchChild(page, child));
        }
        for (int lo = 0, hi = NodeCount(page) - 1; lo <= hi;)
        {
            int mid = (lo + hi) / 2;
            int c = key.SequenceCompareTo(NodeKey(page, mid));
            if (c == 0) return LeafEntry(page, mid).Value;
            if (c > 0) lo = mid + 1; else hi = mid - 1;
        }
        return null;
    }

    TuwenException Corrupt(string why) => new($"{_path} is corrupt or not an LMDB 0.9 file: {why}");

    byte[] ReadPage(ulong pgno)
    {
        if (pgno > _lastPage) throw Corrupt($"page {pgno} lies past the last page {_lastPage}");
        var page = ReadAt((long)pgno * _pageSize, _pageSize);
        var flags = Flags(page);
        if ((flags & Leaf2Page) != 0) throw Corrupt($"page {pgno} is a fixed-size duplicate page, which is not supported");
        if (flags != BranchPage && flags != LeafPage) throw Corrupt($"page {pgno} has flags 0x{flags:x} where a branch or leaf page was expected");
        int lower = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(12)), upper = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(14));
        if (lower < PageHeaderSize || lower > upper || upper > _pageSize) throw Corrupt($"page {pgno} has bounds {lower}..{upper}");
        return page;
    }

    byte[] ReadAt(long offset, int length)
    {
        var buffer = new byte[length];
        if (RandomAccess.Read(_file.SafeFileHandle, buffer, offset) < length)
            throw new TuwenException($"{_path} is truncated: reading {length} bytes at {offset} ran past its end ({_file.Length} bytes)");
        return buffer;
    }

    static ushort Flags(byte[] page) => BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(10));

    static int NodeCount(byte[] page) => (BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(12)) - PageHeaderSize) / 2;

    int NodeOffset(byte[] page, int index)
    {
        int offset = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(PageHeaderSize + 2 * index));
        if (offset < PageHeaderSize || offset + NodeHeaderSize > page.Length) throw Corrupt($"node offset {offset} out of page");
        return offset;
    }

    ReadOnlySpan<byte> NodeKey(byte[] page, int index)
    {
        int node = NodeOffset(page, index);
        int keySize = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(node + 6));
        if (node + NodeHeaderSize + keySize > page.Length) throw Corrupt("key runs past its page");
        return page.AsSpan(node + NodeHeaderSize, keySize);
    }

    ulong BranchChild(byte[] page, int index)
    {
        int node = NodeOffset(page, index);
        // A branch node's 48-bit child page number is spread over the three 16-bit header fields.
        return BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(node))
            | (ulong)BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(node + 2)) << 16
            | (ulong)BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(node + 4)) << 32;
    }

    (byte[] Key, byte[] Value) LeafEntry(byte[] page, int index)
    {
        int node = NodeOffset(page, index);
        int dataSize = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(node)) | BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(node + 2)) << 16;
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(node + 4));
        var key = NodeKey(page, index).ToArray();
        if ((flags & (SubDataNode | DupDataNode)) != 0) throw Corrupt("named sub-databases and duplicate values are not supported");
        int data = node + NodeHeaderSize + key.Length;
        if ((flags & BigDataNode) == 0)
        {
            if (data + dataSize > page.Length) throw Corrupt("value runs past its page");
            return (key, page.AsSpan(data, dataSize).ToArray());
        }
        ulong overflow = BinaryPrimitives.ReadUInt64LittleEndian(page.AsSpan(data));
        if (overflow > _lastPage) throw Corrupt($"value page {overflow} lies past the last page {_lastPage}");
        var header = ReadAt((long)overflow * _pageSize, PageHeaderSize);
        if ((BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(10)) & OverflowPage) == 0) throw Corrupt($"page {overflow} is not an overflow page");
        return (key, ReadAt((long)overflow * _pageSize + PageHeaderSize, dataSize));
    }

    sealed record Meta(int PageSize, ulong Root, ulong LastPage, ulong TxnId, long Entries, ushort MainFlags);

    static Meta ReadMeta(FileStream file, string path, int offset, int which)
    {
        var buffer = new byte[152];
        if (RandomAccess.Read(file.SafeFileHandle, buffer, offset) < buffer.Length)
            throw new TuwenException($"{path} is truncated or not an LMDB file (meta page {which} incomplete)");
        var span = buffer.AsSpan();
        if ((BinaryPrimitives.ReadUInt16LittleEndian(span[10..]) & MetaPage) == 0 || BinaryPrimitives.ReadUInt32LittleEndian(span[16..]) != Magic)
            throw new TuwenException($"{path} is not an LMDB data file (meta page {which} has no LMDB signature)");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(span[20..]);
        if (version != DataVersion)
            throw new TuwenException($"{path} is LMDB data format {version}; only format {DataVersion} (LMDB 0.9, what python-lmdb writes) is supported");
        // Layout after the 16-byte page header: magic, version, address, map size, then the free and main database
        // records (48 bytes each; the free one's first field holds the page size), last page, transaction id.
        int pageSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[40..]);
        if (pageSize is < 512 or > 65536 || (pageSize & (pageSize - 1)) != 0)
            throw new TuwenException($"{path} is not an LMDB data file (page size {pageSize})");
        const int Main = 88;
        return new Meta(pageSize,
            Root: BinaryPrimitives.ReadUInt64LittleEndian(span[(Main + 40)..]),
            LastPage: BinaryPrimitives.ReadUInt64LittleEndian(span[136..]),
            TxnId: BinaryPrimitives.ReadUInt64LittleEndian(span[144..]),
            Entries: (long)BinaryPrimitives.ReadUInt64LittleEndian(span[(Main + 32)..]),
            MainFlags: BinaryPrimitives.ReadUInt16LittleEndian(span[(Main + 4)..]));
    }
}
