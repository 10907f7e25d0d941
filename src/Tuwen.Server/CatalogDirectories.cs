using Tuwen.Search;

namespace Tuwen.Server;

/// <summary>
/// Opens an index directory as an <see cref="ISearchCatalog"/>. The index backends register their opener here
/// (one line), so the server and `tuwen serve` depend on the contract only, never on a backend.
/// </summary>
public static class CatalogDirectories
{
    private static Func<string, ISearchCatalog>? _open;

    public static void Register(Func<string, ISearchCatalog> open) => _open = open;

    public static ISearchCatalog Open(string dir)
    {
        if (!Directory.Exists(dir)) throw new TuwenException($"index directory not found: {dir} (make one with `tuwen index build`)");
        return _open?.Invoke(dir)
            ?? throw new TuwenException("this build of tuwen has no index backend registered: `tuwen index build` and its SearchCatalog are needed to open an index directory");
    }
}
