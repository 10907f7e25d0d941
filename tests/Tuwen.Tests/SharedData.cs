namespace Tuwen.Tests;

/// <summary>Locates ../shared/data beside the repository (CI puts shared/ there); TUWEN_SHARED overrides.</summary>
public static class SharedData
{
    public static string Root { get; } = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string Find()
    {
        var env = Environment.GetEnvironmentVariable("TUWEN_SHARED");
        if (!string.IsNullOrEmpty(env)) return System.IO.Path.Combine(env, "data");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Tuwen.slnx")))
            {
                var data = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir.FullName, "..", "shared", "data"));
                if (Directory.Exists(data)) return data;
                throw new DirectoryNotFoundException($"shared data not found at {data}");
            }
        }
        throw new DirectoryNotFoundException("repository root (Tuwen.slnx) not found above " + AppContext.BaseDirectory);
    }
}
