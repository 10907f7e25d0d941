using Npgsql;

namespace Tuwen.Tests.Search;

/// <summary>Direct SQL for what the index does not expose: the query plan.</summary>
static class PostgresTestSql
{
    public static bool UsesHnsw(PostgresCluster cluster, string table, int dim)
    {
        using var conn = new NpgsqlConnection(cluster.ConnectionString);
        conn.Open();
        var zero = "[" + string.Join(',', Enumerable.Repeat("0.1", dim)) + "]";
        using var cmd = new NpgsqlCommand(
            $"explain select id from \"{table}\" order by embedding <=> '{zero}'::vector limit 10", conn);
        using var reader = cmd.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read()) plan.Add(reader.GetString(0));
        return plan.Any(l => l.Contains($"{table}_embedding_hnsw", StringComparison.Ordinal));
    }
}
