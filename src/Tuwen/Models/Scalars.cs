using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// Long-lived TorchSharp Scalars and arithmetic that uses them. TorchSharp turns a bare number into a native
/// Scalar that only the garbage collector frees, and its wrappers read the Scalar's handle without keeping
/// the object alive during the native call; a collection at that moment frees the Scalar under libtorch's
/// feet (seen here as "toFloat: Expected false to be true" in an `add` after a few hundred training steps,
/// when the data loader's allocations made collections frequent). Hot paths therefore never create implicit
/// Scalars: constants live in static fields, and computed values are created with <c>using</c> so they stay
/// reachable until the call has returned.
/// </summary>
public static class Scalars
{
    public static readonly Scalar Zero = 0.ToScalar();
    public static readonly Scalar One = 1.ToScalar();
    public static readonly Scalar Two = 2.0.ToScalar();

    /// <summary>a + b without an implicit alpha Scalar.</summary>
    public static Tensor Add(Tensor a, Tensor b) => a.add(b, One);

    /// <summary>0, 1, …, n−1 as int64 without implicit Scalars.</summary>
    public static Tensor Range(long n, Device? device = null)
    {
        using var stop = n.ToScalar();
        return arange(Zero, stop, One, ScalarType.Int64, device);
    }
}
