using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Tuwen.Search;

/// <summary>
/// The on-disk form of an embedded index (one file, little-endian): a 64-byte header (magic "TUWENVX1",
/// encoding, dim, list count, approximate flag, nprobe, rows), the list centroids (float32, IVF only),
/// list start offsets (int64, lists + 1), ids (int64 per row), scales (float32 per row, int8 only), then the
/// rows themselves from a 64-byte boundary, grouped by list. The rows are memory-mapped, never read into memory.
/// </summary>
internal sealed unsafe class VectorFile : IDisposable
{
    private static readonly byte[] Magic = System.Text.Encoding.ASCII.GetBytes("TUWENVX1");
    private const int HeaderBytes = 64;

    public required VectorEncoding Encoding { get; init; }
    public required int Dim { get; init; }
    public required bool Approximate { get; init; }
    public required int NProbe { get; init; }
    public required float[] Centroids { get; init; }
    public required long[] ListOffsets { get; init; }
    public required long[] Ids { get; init; }
    public required float[] Scales { get; init; }
    public int Lists => ListOffsets.Length - 1;
    public long Rows => Ids.LongLength;

    private MemoryMappedFile? _map;
    private MemoryMappedViewAccessor? _view;
    private byte* _rows;

    public ReadOnlySpan<byte> RowBytes(long firstRow, int count)
    {
        int rowBytes = VectorCodec.RowBytes(Encoding, Dim);
        return count == 0 ? default : new ReadOnlySpan<byte>(_rows + firstRow * rowBytes, checked(count * rowBytes));
    }

    public static VectorFile Open(string path)
    {
        if (!File.Exists(path)) throw new TuwenException($"vector file not found: {path}");
        long length = new FileInfo(path).Length;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        using var reader = new BinaryReader(stream);
        string Corrupt(string why) => $"{path} is not a valid tuwen vector file ({why})";
        if (length < HeaderBytes || !reader.ReadBytes(8).AsSpan().SequenceEqual(Magic)) throw new TuwenException(Corrupt("bad header"));
        int encoding = reader.ReadInt32(), dim = reader.ReadInt32(), lists = reader.ReadInt32(), approximate = reader.ReadInt32(), nprobe = reader.ReadInt32();
        reader.ReadInt32();
        long rows = reader.ReadInt64();
        if (encoding is not (0 or 1) || dim < 1 || dim > 65536 || lists < 1 || lists > 1 << 24 || rows < 0 || rows > int.MaxValue)
            throw new TuwenException(Corrupt("header out of range"));
        var enc = (VectorEncoding)encoding;
        long rowsStart = RowsStart(enc, dim, lists, rows, approximate != 0 ? (long)lists * dim : 0);
        if (length != rowsStart + rows * VectorCodec.RowBytes(enc, dim)) throw new TuwenException(Corrupt($"size {length} does not match its header"));
        stream.Position = HeaderBytes;
        var centroids = ReadArray<float>(reader, approximate != 0 ? (long)lists * dim : 0);
        var offsets = ReadArray<long>(reader, lists + 1);
        var ids = ReadArray<long>(reader, rows);
        var scales = ReadArray<float>(reader, enc == VectorEncoding.Int8 ? rows : 0);
        if (offsets[0] != 0 || offsets[^1] != rows || offsets.Zip(offsets.Skip(1)).Any(p => p.First > p.Second))
            throw new TuwenException(Corrupt("list offsets out of order"));
        var file = new VectorFile
        {
            Encoding = enc, Dim = dim, Approximate = approximate != 0, NProbe = Math.Max(1, nprobe),
            Centroids = centroids, ListOffsets = offsets, Ids = ids, Scales = scales,
        };
        if (rows > 0)
        {
            file._map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            file._view = file._map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* start = null;
            file._view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            file._rows = start + file._view.PointerOffset + rowsStart;
        }
        return file;
    }

    /// <summary>Writes a complete file (as path.tmp, renamed when done); <paramref name="writeRows"/> streams the rows in list order.</summary>
    public static void Write(string path, VectorEncoding encoding, int dim, bool approximate, int nprobe, float[] centroids,
        long[] listOffsets, long[] ids, float[] scales, Action<Stream> writeRows)
    {
        Data.AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write((int)encoding);
            writer.Write(dim);
            writer.Write(listOffsets.Length - 1);
            writer.Write(approximate ? 1 : 0);
            writer.Write(nprobe);
            writer.Write(0);
            writer.Write(ids.LongLength);
            writer.Write(new byte[HeaderBytes - 40]);
            writer.Write(MemoryMarshal.AsBytes(centroids.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(listOffsets.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(ids.AsSpan()));
            if (encoding == VectorEncoding.Int8) writer.Write(MemoryMarshal.AsBytes(scales.AsSpan()));
            long start = RowsStart(encoding, dim, listOffsets.Length - 1, ids.LongLength, approximate ? centroids.Length : 0);
            writer.Write(new byte[start - stream.Position]);
            writer.Flush();
            writeRows(stream);
        });
    }

    private static long RowsStart(VectorEncoding encoding, int dim, int lists, long rows, long? centroidFloats = null)
    {
        long bytes = HeaderBytes + 4 * (centroidFloats ?? 0) + 8L * (lists + 1) + 8 * rows + (encoding == VectorEncoding.Int8 ? 4 * rows : 0);
        return (bytes + 63) / 64 * 64;
    }

    private static T[] ReadArray<T>(BinaryReader reader, long count) where T : unmanaged
    {
        var array = new T[count];
        var bytes = MemoryMarshal.AsBytes(array.AsSpan());
        try { reader.BaseStream.ReadExactly(bytes); }
        catch (EndOfStreamException) { throw new TuwenException("vector file is truncated"); }
        return array;
    }

    public void Dispose()
    {
        if (_view != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map!.Dispose();
            _view = null;
        }
    }
}
