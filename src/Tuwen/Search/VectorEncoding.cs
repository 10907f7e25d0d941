using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Tuwen.Search;

/// <summary>How stored vectors are held: IEEE half floats, or signed bytes with one scale per vector.</summary>
public enum VectorEncoding
{
    Float16 = 0,
    /// <summary>value ≈ scale × byte, scale = max |component| / 127: a quarter of float32's memory, top-k nearly unchanged.</summary>
    Int8 = 1,
}

/// <summary>Turns float rows into the stored form and stored rows back into floats for the dot products.</summary>
internal static class VectorCodec
{
    public static int RowBytes(VectorEncoding encoding, int dim) => encoding == VectorEncoding.Float16 ? dim * 2 : dim;

    /// <summary>Encodes one row into <paramref name="into"/> (RowBytes long); returns the row's scale (1 for float16).</summary>
    public static float Encode(VectorEncoding encoding, ReadOnlySpan<float> row, Span<byte> into)
    {
        if (encoding == VectorEncoding.Float16)
        {
            TensorPrimitives.ConvertToHalf(row, MemoryMarshal.Cast<byte, Half>(into));
            return 1f;
        }
        // MaxMagnitude returns the signed component, so a row whose largest component is negative still scales by its size.
        float max = Math.Abs(TensorPrimitives.MaxMagnitude(row));
        float scale = max > 0 ? max / 127f : 1f;
        var bytes = MemoryMarshal.Cast<byte, sbyte>(into);
        for (int i = 0; i < row.Length; i++) bytes[i] = (sbyte)Math.Clamp(MathF.Round(row[i] / scale), -127f, 127f);
        return scale;
    }

    /// <summary>Decodes <paramref name="rows"/> stored rows into floats (int8 rows are left unscaled: the caller scales the dot).</summary>
    public static void Decode(VectorEncoding encoding, ReadOnlySpan<byte> stored, Span<float> into)
    {
        if (encoding == VectorEncoding.Float16)
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(stored), into);
        else
            TensorPrimitives.ConvertTruncating<sbyte, float>(MemoryMarshal.Cast<byte, sbyte>(stored), into[..stored.Length]);
    }

    /// <summary>One stored row back to (approximate) floats, scale applied.</summary>
    public static void DecodeRow(VectorEncoding encoding, ReadOnlySpan<byte> stored, float scale, Span<float> into)
    {
        Decode(encoding, stored, into);
        if (encoding == VectorEncoding.Int8) TensorPrimitives.Multiply(into, scale, into);
    }
}
