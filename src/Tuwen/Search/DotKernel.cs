using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tuwen.Search;

/// <summary>
/// Inner products of a few queries with a block of decoded rows. Four queries × two rows at a time share each
/// load: 6 vector loads feed 8 fused multiply-adds, where one query against one row (TensorPrimitives.Dot)
/// needs 2 loads per multiply-add, so a batch runs at the arithmetic's speed rather than the cache's.
/// </summary>
internal static class DotKernel
{
    /// <summary>dots[q * rows + r] = queries[q] · block[r] for <paramref name="queryCount"/> queries (rows of <paramref name="queries"/> listed by <paramref name="queryIndexes"/>).</summary>
    public static void Dots(float[] queries, ReadOnlySpan<int> queryIndexes, ReadOnlySpan<float> block, int rows, int dim, Span<float> dots)
    {
        int q = 0;
        if (Vector256.IsHardwareAccelerated && dim % Vector256<float>.Count == 0)
            for (; q + 4 <= queryIndexes.Length; q += 4)
            {
                int r = 0;
                for (; r + 2 <= rows; r += 2) FourByTwo(queries, queryIndexes.Slice(q, 4), block, r, rows, dim, dots, q);
                for (; r < rows; r++)
                    for (int j = 0; j < 4; j++)
                        dots[(q + j) * rows + r] = OneByOne(queries.AsSpan(queryIndexes[q + j] * dim, dim), block.Slice(r * dim, dim));
            }
        for (; q < queryIndexes.Length; q++)
        {
            var query = queries.AsSpan(queryIndexes[q] * dim, dim);
            for (int r = 0; r < rows; r++) dots[q * rows + r] = OneByOne(query, block.Slice(r * dim, dim));
        }
    }

    /// <summary>
    /// One product summed in the same lane order as <see cref="FourByTwo"/>, so a query scores every row
    /// bit-identically whether it came alone or in a batch (ties then break the same way).
    /// </summary>
    private static float OneByOne(ReadOnlySpan<float> query, ReadOnlySpan<float> row)
    {
        if (!Vector256.IsHardwareAccelerated || query.Length % Vector256<float>.Count != 0) return TensorPrimitives.Dot(query, row);
        Vector256<float> sum = default;
        for (int d = 0; d < query.Length; d += Vector256<float>.Count)
            sum = Vector256.FusedMultiplyAdd(Vector256.Create(query.Slice(d, Vector256<float>.Count)), Vector256.Create(row.Slice(d, Vector256<float>.Count)), sum);
        return Vector256.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourByTwo(float[] queries, ReadOnlySpan<int> four, ReadOnlySpan<float> block, int r, int rows, int dim, Span<float> dots, int q)
    {
        ref float q0 = ref queries[four[0] * dim], q1 = ref queries[four[1] * dim], q2 = ref queries[four[2] * dim], q3 = ref queries[four[3] * dim];
        var rowA = block.Slice(r * dim, dim);
        var rowB = block.Slice((r + 1) * dim, dim);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        for (int d = 0; d < dim; d += Vector256<float>.Count)
        {
            var x = Vector256.Create(rowA.Slice(d, Vector256<float>.Count));
            var y = Vector256.Create(rowB.Slice(d, Vector256<float>.Count));
            var v0 = Vector256.LoadUnsafe(ref q0, (nuint)d);
            var v1 = Vector256.LoadUnsafe(ref q1, (nuint)d);
            var v2 = Vector256.LoadUnsafe(ref q2, (nuint)d);
            var v3 = Vector256.LoadUnsafe(ref q3, (nuint)d);
            a0 = Vector256.FusedMultiplyAdd(v0, x, a0); b0 = Vector256.FusedMultiplyAdd(v0, y, b0);
            a1 = Vector256.FusedMultiplyAdd(v1, x, a1); b1 = Vector256.FusedMultiplyAdd(v1, y, b1);
            a2 = Vector256.FusedMultiplyAdd(v2, x, a2); b2 = Vector256.FusedMultiplyAdd(v2, y, b2);
            a3 = Vector256.FusedMultiplyAdd(v3, x, a3); b3 = Vector256.FusedMultiplyAdd(v3, y, b3);
        }
        dots[q * rows + r] = Vector256.Sum(a0); dots[q * rows + r + 1] = Vector256.Sum(b0);
        dots[(q + 1) * rows + r] = Vector256.Sum(a1); dots[(q + 1) * rows + r + 1] = Vector256.Sum(b1);
        dots[(q + 2) * rows + r] = Vector256.Sum(a2); dots[(q + 2) * rows + r + 1] = Vector256.Sum(b2);
        dots[(q + 3) * rows + r] = Vector256.Sum(a3); dots[(q + 3) * rows + r + 1] = Vector256.Sum(b3);
    }
}
