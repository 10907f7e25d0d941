namespace Tuwen.Server;

/// <summary>Ids as clients send them (strings in JSON and URLs) → the catalog's numeric ids.</summary>
public static class ItemIds
{
    /// <summary>Numeric ids only: a thumbnail id never reaches a path.</summary>
    public static long Parse(string? text, string what)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 18 || !text.All(char.IsAsciiDigit) || !long.TryParse(text, out var id))
            throw ApiRejection.BadRequest($"{what}: '{Truncate(text)}' is not an id (digits only)");
        return id;
    }

    private static string Truncate(string? s) => s == null ? "" : s.Length <= 40 ? s : s[..40] + "…";
}
