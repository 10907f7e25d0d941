using System.Runtime.InteropServices;

namespace Tuwen.Training;

/// <summary>
/// Keeps freed tensor memory in the process. libtorch allocates every activation with malloc; glibc hands
/// blocks above its mmap threshold straight back to the kernel on free and trims the heap top, so each
/// training step page-faults (and zeroes) the same hundreds of megabytes again — measured at about a tenth of
/// the CPU time of a tiny-model step. Training reuses the same sizes every step, so we tell glibc to serve all
/// sizes from its heaps and never trim them: the resident set stays at the step's high-water mark, which is
/// what peak memory already was. Other C libraries (or other systems) are left alone.
/// </summary>
public static class MallocTuning
{
    private const int TrimThreshold = -1, MmapMax = -4;
    private static int applied;

    /// <summary>Applies once per process; returns whether glibc accepted the settings.</summary>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (Interlocked.Exchange(ref applied, 1) == 1) return true;
        try
        {
            return mallopt(MmapMax, 0) == 1 & mallopt(TrimThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;   // musl or another libc without mallopt: keep its defaults
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}
