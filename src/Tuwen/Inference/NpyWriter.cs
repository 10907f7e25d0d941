using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Tuwen.Inference;

/// <summary>Element type of an embedding file.</summary>
public enum EmbeddingDtype { Float32, Float16 }

/// <summary>
/// Streams a 2-D little-endian float matrix into a NumPy <c>.npy</c> file (format version 1.0, C order) without
/// knowing the row count in advance: the header is written with room to spare, rows are appended, and
/// <see cref="Complete"/> rewrites the header with the final shape and renames "path.tmp" to "path". A writer
/// disposed without <see cref="Complete"/> deletes its temporary file, so no half-written .npy ever carries the final name.
/// </summary>
public sealed class NpyWriter : IDisposable
{
    /// <summary>Magic, version, header length and the padded dictionary: a multiple of 64 as NumPy aligns it.</summary>
    public const int HeaderBytes = 128;

    private readonly string _path;
    private readonly string _tmp;
    private readonly FileStream _stream;
    private readonly byte[] _buffer = new byte[1 << 16];
    private bool _completed;

    public NpyWriter(string path, int columns, EmbeddingDtype dtype)
    {
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "need at least one column");
        _path = path;
        _tmp = path + ".tmp";
        Columns = columns;
        Dtype = dtype;
        _stream = new FileStream(_tmp, FileMode.Create, FileAccess.Write, FileShare.None);
        _stream.Write(Header(dtype, 0, columns));
    }

    public int Columns { get; }
    public EmbeddingDtype Dtype { get; }
    public long Rows { get; private set; }

    /// <summary>NumPy's type string: "&lt;f4" or "&lt;f2".</summary>
    public static string Descr(EmbeddingDtype dtype) => dtype == EmbeddingDtype.Float16 ? "<f2" : "<f4";

    public static int ElementSize(EmbeddingDtype dtype) => dtype == EmbeddingDtype.Float16 ? 2 : 4;

    /// <summary>Appends whole rows (row-major, a multiple of <see cref="Columns"/> values); fp16 rounds to nearest even.</summary>
    public void Append(ReadOnlySpan<float> rows)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (rows.Length % Columns != 0) throw new ArgumentException($"{rows.Length} values are not whole rows of {Columns}", nameof(rows));
        int size = ElementSize(Dtype);
        int perChunk = _buffer.Length / size;
        for (int start = 0; start < rows.Length; start += perChunk)
        {
            var chunk = rows.Slice(start, Math.Min(perChunk, rows.Length - start));
            for (int i = 0; i < chunk.Length; i++)
            {
                if (Dtype == EmbeddingDtype.Float16) BinaryPrimitives.WriteHalfLittleEndian(_buffer.AsSpan(i * 2), (Half)chunk[i]);
                else BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(i * 4), chunk[i]);
            }
            _stream.Write(_buffer, 0, chunk.Length * size);
        }
        Rows += rows.Length / Columns;
    }

    /// <summary>Writes the final shape into the header and gives the file its name.</summary>
    public void Complete()
    {
        if (_completed) return;
        _stream.Position = 0;
        _stream.Write(Header(Dtype, Rows, Columns));
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_tmp, _path, overwrite: true);
        _completed = true;
    }

    /// <summary>The 128-byte v1.0 header for a (rows, columns) C-order matrix.</summary>
    public static byte[] Header(EmbeddingDtype dtype, long rows, int columns)
    {
        var dict = string.Create(CultureInfo.InvariantCulture,
            $"{{'descr': '{Descr(dtype)}', 'fortran_order': False, 'shape': ({rows}, {columns}), }}");
        const int prefix = 10;
        var header = new byte[HeaderBytes];
        header[0] = 0x93;
        "NUMPY"u8.CopyTo(header.AsSpan(1));
        header[6] = 1;
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), HeaderBytes - prefix);
        var text = Encoding.ASCII.GetBytes(dict);
        if (text.Length > HeaderBytes - prefix - 1) throw new InvalidOperationException("npy header too long");
        header.AsSpan(prefix).Fill((byte)' ');
        text.CopyTo(header, prefix);
        header[HeaderBytes - 1] = (byte)'\n';
        return header;
    }

    public void Dispose()
    {
        if (_completed) return;
        _stream.Dispose();
        if (File.Exists(_tmp)) File.Delete(_tmp);
        _completed = true;
    }
}
