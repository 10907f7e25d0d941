namespace Tuwen.Search;

/// <summary>Row selection for writes to PostgreSQL, which refuses to touch one row twice in a statement.</summary>
static class PostgresRows
{
    /// <summary>Row indexes in order, keeping only the last row of an id given more than once (a later vector replaces an earlier one).</summary>
    public static int[] LastPerId(ReadOnlySpan<long> ids)
    {
        var last = new Dictionary<long, int>(ids.Length);
        for (var i = 0; i < ids.Length; i++) last[ids[i]] = i;
        if (last.Count == ids.Length) return Enumerable.Range(0, ids.Length).ToArray();
        var rows = last.Values.ToArray();
        Array.Sort(rows);
        return rows;
    }
}
