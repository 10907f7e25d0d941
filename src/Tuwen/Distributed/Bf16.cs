namespace Tuwen.Distributed;

/// <summary>bfloat16 arithmetic on raw bits, for reducing bf16 gradient buckets (MPI has no bf16 type).</summary>
public static class Bf16
{
    public static float ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Round to nearest, ties to even, as torch's float→bfloat16 cast does; NaN stays NaN.</summary>
    public static ushort FromFloat(float value)
    {
        var bits = (uint)BitConverter.SingleToInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>into[i] = bf16(into[i] + from[i]).</summary>
    public static void AddInto(ReadOnlySpan<ushort> from, Span<ushort> into)
    {
        for (var i = 0; i < into.Length; i++) into[i] = FromFloat(ToFloat(into[i]) + ToFloat(from[i]));
    }
}
