using TorchSharp;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Training;

/// <summary>The fused AdamW kernel writes through raw host pointers: only dense float32 CPU tensors may take it,
/// everything else (CUDA parameters above all) must take the tensor-op path.</summary>
public class AdamWKernelTests
{
    [Theory]
    [InlineData(ScalarType.Float32, DeviceType.CPU, true, true)]
    [InlineData(ScalarType.Float32, DeviceType.CUDA, true, false)]
    [InlineData(ScalarType.Float32, DeviceType.MPS, true, false)]
    [InlineData(ScalarType.BFloat16, DeviceType.CPU, true, false)]
    [InlineData(ScalarType.Float32, DeviceType.CPU, false, false)]
    public void SupportsOnlyDenseFloat32InHostMemory(ScalarType dtype, DeviceType device, bool contiguous, bool expected) =>
        Assert.Equal(expected, AdamWKernel.Supports(dtype, device, contiguous));

    [Fact]
    public void FitsCpuParametersButNotATransposedView()
    {
        using var p = ones(3, 2);
        using var g = ones(3, 2);
        using var m = zeros(3, 2);
        using var v = zeros(3, 2);
        Assert.True(AdamWKernel.Fits(p, g, m, v));
        using var transposed = ones(2, 3).t();
        Assert.False(AdamWKernel.Fits(p, transposed, m, v));
    }
}
