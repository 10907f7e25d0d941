using TorchSharp;
using Tuwen.Models;
using Tuwen.Tests.Cli;

namespace Tuwen.Tests.Models;

public class DeviceOptionTests
{
    private static TorchSharp.torch.Device WithCuda(string name, int devices) => DeviceOption.Parse(name, () => devices > 0, () => devices);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("cpu")]
    [InlineData(" CPU ")]
    public void CpuNamesGiveTheCpu(string? name) => Assert.Equal(DeviceType.CPU, DeviceOption.Parse(name).type);

    [Theory]
    [InlineData("cuda", 0)]
    [InlineData("cuda:0", 0)]
    [InlineData("CUDA:1", 1)]
    public void CudaNamesGiveTheIndexedDeviceWhenCudaIsThere(string name, int index)
    {
        var device = WithCuda(name, devices: 2);
        Assert.Equal(DeviceType.CUDA, device.type);
        Assert.Equal(index, device.index);
    }

    [Theory]
    [InlineData("tpu", "unknown --device 'tpu' (known: cpu, cuda, cuda:N)")]
    [InlineData("cuda:x", "the CUDA device index must be a number")]
    [InlineData("cuda:-1", "the CUDA device index must be a number")]
    [InlineData("cuda:2", "there are 2 CUDA devices (cuda:0 … cuda:1)")]
    public void BadNamesAreUserErrors(string name, string message) =>
        Assert.Contains(message, Assert.Throws<TuwenException>(() => WithCuda(name, devices: 2)).Message);

    [Fact]
    public void CudaWithoutCudaSaysHowToBuildForIt()
    {
        var error = Assert.Throws<TuwenException>(() => WithCuda("cuda", devices: 0));
        Assert.Contains("CUDA is not available", error.Message);
        Assert.Contains("-p:TorchDevice=cuda", error.Message);
        Assert.Contains("README \"CUDA\"", error.Message);
    }

    [Fact]
    public void TheCpuBuildRefusesCudaFromTheCommandLine()
    {
        // The test project builds against the CPU libtorch package, which has no CUDA.
        Assert.False(torch.cuda.is_available());
        var train = CliRunner.Run("train", "--data", "nowhere", "--out", "nowhere", "--device", "cuda");
        CliRunner.AssertUserError(train, "this build uses the CPU libtorch package");
        var embed = CliRunner.Run("embed", "--checkpoint", "nowhere", "--out", "x", "--shards", "a", "--device", "tpu");
        CliRunner.AssertUserError(embed, "unknown --device 'tpu'");
    }
}
