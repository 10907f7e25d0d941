namespace Tuwen;

/// <summary>Where Tuwen keeps downloads, corpora and runs: $TUWEN_HOME, default ~/.cache/tuwen.</summary>
public static class TuwenPaths
{
    public static string Home
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("TUWEN_HOME");
            if (!string.IsNullOrWhiteSpace(env)) return Path.GetFullPath(env);
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "tuwen");
        }
    }

    /// <summary>npm package tarballs fetched by the set-up script (`npm pack NAME@VERSION`).</summary>
    public static string NpmPacks => Path.Combine(Home, "npm");
}
