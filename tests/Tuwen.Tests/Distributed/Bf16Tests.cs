using TorchSharp;
using Tuwen.Distributed;
using static TorchSharp.torch;

namespace Tuwen.Tests.Distributed;

public class Bf16Tests
{
    private static ushort Bits(float v) => (ushort)(BitConverter.SingleToInt32Bits(v) >>> 16);

    [Fact]
    public void SumsRoundToNearestEven()
    {
        // bf16 keeps 7 fraction bits: near 1 the step is 2^-7. 1 + 2^-8 is a tie → the even neighbour 1;
        // 1 + 3·2^-8 is a tie → 1 + 2^-6 (fraction 2, even); 1 + 2^-8 + 2^-9 rounds up to 1 + 2^-7.
        ushort[] into = [Bits(1), Bits(1), Bits(1)];
        ushort[] from = [Bits(MathF.Pow(2, -8)), Bits(3 * MathF.Pow(2, -8)), Bits(MathF.Pow(2, -8) + MathF.Pow(2, -9))];
        Bf16.AddInto(from, into);
        Assert.Equal(new[] { 1f, 1 + MathF.Pow(2, -6), 1 + MathF.Pow(2, -7) }, into.Select(Bf16.ToFloat));
    }

    [Fact]
    public void ConversionMatchesTorchsCast()
    {
        manual_seed(1);
        using var values = randn(10_000).mul(1000f.ToScalar());
        using var cast = values.to(ScalarType.BFloat16).to(ScalarType.Float32);
        var expected = cast.data<float>().ToArray();
        var actual = values.data<float>().ToArray().Select(v => Bf16.ToFloat(Bf16.FromFloat(v))).ToArray();
        Assert.Equal(expected, actual);
        Assert.True(float.IsNaN(Bf16.ToFloat(Bf16.FromFloat(float.NaN))));
    }
}
