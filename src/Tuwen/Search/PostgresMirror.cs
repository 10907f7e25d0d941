using System.Security.Cryptography;
using System.Text;

namespace Tuwen.Search;

/// <summary>
/// Keeps a pgvector table equal to an index file's vectors: the file stays the record (it is what
/// `tuwen index add/delete` and the pending log write), the table is where searches run when the corpus is
/// served from PostgreSQL.
/// </summary>
internal static class PostgresMirror
{
    private const int Batch = 2048;

    /// <summary>One table pair per index directory and build, so two indexes never share rows.</summary>
    public static string TablePrefix(string dir, string? created)
    {
        var key = Path.GetFullPath(dir).TrimEnd('/') + "|" + created;
        return "tuwen_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..12];
    }

    public static PgVectorIndex Open(string connectionString, string table, EmbeddedVectorIndex source)
    {
        var store = PgVectorIndex.Open(connectionString, table, source.Dim);
        try
        {
            var ids = source.Ids();
            Array.Sort(ids);
            var stale = store.Count != ids.Length || !SameEnds(store, source, ids);
            if (stale)
            {
                // Upsert everything the file holds, then drop what the file no longer has.
                var vectors = new float[Batch * source.Dim];
                for (int start = 0; start < ids.Length; start += Batch)
                {
                    int n = Math.Min(Batch, ids.Length - start);
                    for (int i = 0; i < n; i++) source.TryGetVector(ids[start + i], vectors.AsSpan(i * source.Dim, source.Dim));
                    store.Add(ids.AsSpan(start, n), vectors.AsSpan(0, n * source.Dim));
                }
                if (store.Count != ids.Length) store.Delete([.. store.Ids().Except(ids)]);
            }
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>A cheap check that an up-to-date table is left alone: the first and last ids hold the file's vectors.</summary>
    private static bool SameEnds(PgVectorIndex store, EmbeddedVectorIndex source, long[] ids)
    {
        if (ids.Length == 0) return true;
        var a = new float[source.Dim];
        var b = new float[source.Dim];
        foreach (var id in new[] { ids[0], ids[^1] })
        {
            if (!source.TryGetVector(id, a) || !store.TryGetVector(id, b)) return false;
            for (int i = 0; i < a.Length; i++) if (Math.Abs(a[i] - b[i]) > 1e-6f) return false;
        }
        return true;
    }
}
