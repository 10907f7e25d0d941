using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// The <c>--device</c> option: "cpu", "cuda" or "cuda:N" as a TorchSharp <see cref="Device"/>. Which devices
/// exist depends on the libtorch package the build references (CPU unless built with -p:TorchDevice=cuda,
/// README "CUDA"), so asking for CUDA where it is missing is a user error, not a crash inside libtorch.
/// </summary>
public static class DeviceOption
{
    public const string Help = "where the model runs: cpu (default), cuda or cuda:N (needs a build with -p:TorchDevice=cuda, README \"CUDA\")";

#if TUWEN_CUDA_BUILD
    private const string NoCuda = "CUDA is not available: this build uses the CUDA libtorch package, but no CUDA device or driver was found";
#else
    private const string NoCuda = "CUDA is not available: this build uses the CPU libtorch package; build with "
        + "`dotnet build -c Release -p:TorchDevice=cuda` on a machine with an NVIDIA driver (README \"CUDA\")";
#endif

    /// <summary>The device named by <paramref name="name"/>; null or empty is the CPU.</summary>
    public static Device Parse(string? name) => Parse(name, torch.cuda.is_available, torch.cuda.device_count);

    /// <summary><see cref="Parse(string?)"/> with the CUDA probes given, so the rules can be checked on any machine.</summary>
    public static Device Parse(string? name, Func<bool> cudaAvailable, Func<int> cudaDevices)
    {
        var text = (name ?? "").Trim().ToLowerInvariant();
        if (text is "" or "cpu") return CPU;
        int? index = null;
        if (text.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!int.TryParse(text["cuda:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                throw new TuwenException($"--device {name}: the CUDA device index must be a number (cuda:0, cuda:1, …)");
            index = n;
        }
        else if (text != "cuda")
            throw new TuwenException($"unknown --device '{name}' (known: cpu, cuda, cuda:N)");
        if (!cudaAvailable()) throw new TuwenException($"--device {name}: {NoCuda}");
        var count = cudaDevices();
        if (index is { } i && i >= count)
            throw new TuwenException($"--device {name}: there {(count == 1 ? "is 1 CUDA device" : $"are {count} CUDA devices")} (cuda:0 … cuda:{count - 1})");
        return new Device(DeviceType.CUDA, index ?? 0);
    }
}
