namespace Tuwen.Training;

/// <summary>
/// This process's resident set from /proc/self/status, in MiB: what `tuwen train` reports and the memory
/// benches compare. Null where the file or the field does not exist (not Linux).
/// </summary>
public static class ProcessMemory
{
    /// <summary>Resident now (VmRSS).</summary>
    public static double? ResidentMiB() => Field("VmRSS:");

    /// <summary>The peak resident set since the process started (VmHWM).</summary>
    public static double? PeakResidentMiB() => Field("VmHWM:");

    private static double? Field(string key)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line != null && long.TryParse(line[key.Length..].Trim().Split(' ')[0], out var kib) ? kib / 1024.0 : null;
    }
}
