using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Pgvector.Npgsql;

namespace Tuwen.Search;

/// <summary>
/// An <see cref="IVectorIndex"/> kept in PostgreSQL with pgvector: one table per index, searched by cosine
/// distance (<c>&lt;=&gt;</c>) through an HNSW index, for corpora beyond one machine's memory. Thread-safe:
/// every call takes its own pooled connection.
/// </summary>
public sealed class PgVectorIndex : IVectorIndex
{
    readonly NpgsqlDataSource _source;
    readonly string _table;
    readonly string _where;
    readonly PostgresIndexOptions _options;
    readonly string _searchSql;

    PgVectorIndex(NpgsqlDataSource source, string table, int dim, string where, PostgresIndexOptions options)
    {
        _source = source;
        _table = table;
        _where = where;
        _options = options;
        Dim = dim;
        _searchSql = $"select id, embedding <=> $1 from \"{table}\" order by embedding <=> $1 limit $2";
    }

    /// <summary>
    /// Connects, creates the vector extension, the table and (with <see cref="PostgresIndexOptions.Hnsw"/>) its
    /// HNSW index when missing. A connection string that cannot be read or reached is a TuwenException.
    /// </summary>
    public static PgVectorIndex Open(string connectionString, string table, int dim, PostgresIndexOptions? options = null)
    {
        options ??= new PostgresIndexOptions();
        options.Validate();
        PostgresVectorTable.CheckName(table);
        if (dim < 1) throw new TuwenException($"vector dimension must be ≥ 1, got {dim}");
        if (options.Hnsw && dim > PostgresVectorTable.MaxHnswDim)
            throw new TuwenException($"pgvector's HNSW index takes at most {PostgresVectorTable.MaxHnswDim} dimensions, got {dim}");

        var parsed = PostgresConnectionString.Parse(connectionString);
        // Repeated searches reuse server-side plans instead of parsing each query.
        if (parsed.MaxAutoPrepare == 0) parsed.MaxAutoPrepare = 16;
        var where = PostgresConnectionString.Describe(parsed);
        var builder = new NpgsqlDataSourceBuilder(parsed.ConnectionString);
        builder.UseVector();
        var source = builder.Build();
        try
        {
            using (var conn = Connect(source, where))
            {
                PostgresVectorTable.Ensure(conn, table, dim, where);
                if (options.Hnsw) PostgresVectorTable.EnsureHnsw(conn, table, options);
            }
            // The extension may have been created just now, after the source loaded its types.
            source.ReloadTypes();
            return new PgVectorIndex(source, table, dim, where, options);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    public string Kind => "pgvector";

    public int Dim { get; }

    /// <summary>host:port/database of the server (no password).</summary>
    public string Location => _where;

    public string Table => _table;

    public long Count
    {
        get
        {
            using var conn = Connect(_source, _where);
            using var cmd = new NpgsqlCommand($"select count(*) from \"{_table}\"", conn);
            return (long)cmd.ExecuteScalar()!;
        }
    }

    /// <summary>Builds the HNSW index when absent: after a bulk load into a table opened without one, much faster than indexing row by row.</summary>
    public void BuildHnsw()
    {
        using var conn = Connect(_source, _where);
        PostgresVectorTable.EnsureHnsw(conn, _table, _options);
    }

    public SearchHit[][] Search(ReadOnlySpan<float> queries, int queryCount, int k)
    {
        if (queryCount < 0 || queries.Length != (long)queryCount * Dim)
            throw new TuwenException($"queries hold {queries.Length} floats, not {queryCount} × {Dim}");
        if (k < 1) throw new TuwenException($"k must be ≥ 1, got {k}");
        var hits = new SearchHit[queryCount][];
        if (queryCount == 0) return hits;
        // HNSW returns at most ef_search rows, so a larger k needs a larger candidate list.
        var efSearch = Math.Min(1000, Math.Max(_options.EfSearch, k));
        using var conn = Connect(_source, _where);
        for (var start = 0; start < queryCount; start += _options.QueriesPerRoundTrip)
        {
            var count = Math.Min(_options.QueriesPerRoundTrip, queryCount - start);
            using var batch = new NpgsqlBatch(conn);
            // set_config returns a row, so every command in the batch has a result set to step over.
            var set = new NpgsqlBatchCommand("select set_config('hnsw.ef_search', $1, false)");
            set.Parameters.Add(new NpgsqlParameter<string> { TypedValue = efSearch.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            batch.BatchCommands.Add(set);
            for (var q = 0; q < count; q++)
            {
                var cmd = new NpgsqlBatchCommand(_searchSql);
                cmd.Parameters.Add(new NpgsqlParameter<Vector> { TypedValue = new Vector(queries.Slice((start + q) * Dim, Dim).ToArray()) });
                cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = k });
                batch.BatchCommands.Add(cmd);
            }
            using var reader = batch.ExecuteReader();
            for (var q = 0; q < count; q++)
            {
                reader.NextResult();
                var row = new List<SearchHit>(k);
                while (reader.Read())
                    row.Add(new SearchHit(reader.GetInt64(0), (float)(1.0 - reader.GetDouble(1))));
                hits[start + q] = row.ToArray();
            }
        }
        return hits;
    }

    public void Add(ReadOnlySpan<long> ids, ReadOnlySpan<float> vectors)
    {
        if (vectors.Length != (long)ids.Length * Dim)
            throw new TuwenException($"{ids.Length} ids need {ids.Length} × {Dim} floats, got {vectors.Length}");
        if (ids.Length == 0) return;
        var rows = PostgresRows.LastPerId(ids);
        using var conn = Connect(_source, _where);
        using var tx = conn.BeginTransaction();
        try
        {
            // Fresh ids (the bulk-load case) go straight into the table; any id already present sends the
            // whole batch through a staging table and an upsert instead.
            tx.Save("direct");
            try
            {
                Copy(conn, $"\"{_table}\"", ids, vectors, rows);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                tx.Rollback("direct");
                PostgresVectorTable.Execute(conn,
                    $"create temp table tuwen_upsert (id bigint, embedding vector({Dim})) on commit drop");
                Copy(conn, "tuwen_upsert", ids, vectors, rows);
                PostgresVectorTable.Execute(conn,
                    $"insert into \"{_table}\" (id, embedding) select id, embedding from tuwen_upsert " +
                    "on conflict (id) do update set embedding = excluded.embedding", timeoutSeconds: 0);
            }
            tx.Commit();
        }
        catch (PostgresException e) when (e.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            // Class 22 is bad data, e.g. NaN or infinity in a vector.
            throw new TuwenException($"PostgreSQL rejected the vectors: {e.MessageText}");
        }
    }

    public long Delete(ReadOnlySpan<long> ids)
    {
        if (ids.Length == 0) return 0;
        using var conn = Connect(_source, _where);
        using var cmd = new NpgsqlCommand($"delete from \"{_table}\" where id = any($1)", conn);
        cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids.ToArray() });
        return cmd.ExecuteNonQuery();
    }

    /// <summary>Every id in the table (for keeping it in step with an index file).</summary>
    public long[] Ids()
    {
        using var conn = Connect(_source, _where);
        using var cmd = new NpgsqlCommand($"select id from \"{_table}\"", conn);
        using var reader = cmd.ExecuteReader();
        var ids = new List<long>();
        while (reader.Read()) ids.Add(reader.GetInt64(0));
        return [.. ids];
    }

    public bool TryGetVector(long id, Span<float> into)
    {
        if (into.Length != Dim) throw new TuwenException($"vector buffer holds {into.Length} floats, not {Dim}");
        using var conn = Connect(_source, _where);
        using var cmd = new NpgsqlCommand($"select embedding from \"{_table}\" where id = $1", conn);
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        if (cmd.ExecuteScalar() is not Vector v) return false;
        v.Memory.Span.CopyTo(into);
        return true;
    }

    public void Dispose() => _source.Dispose();

    static void Copy(NpgsqlConnection conn, string target, ReadOnlySpan<long> ids, ReadOnlySpan<float> vectors, int[] rows)
    {
        var dim = vectors.Length / ids.Length;
        using var writer = conn.BeginBinaryImport($"copy {target} (id, embedding) from stdin (format binary)");
        writer.Timeout = TimeSpan.Zero;
        foreach (var r in rows)
        {
            writer.StartRow();
            writer.Write(ids[r], NpgsqlDbType.Bigint);
            writer.Write(new Vector(vectors.Slice(r * dim, dim).ToArray()));
        }
        writer.Complete();
    }

    /// <summary>An open pooled connection; a server that cannot be reached or refuses the login is a TuwenException.</summary>
    static NpgsqlConnection Connect(NpgsqlDataSource source, string where)
    {
        try
        {
            return source.OpenConnection();
        }
        catch (PostgresException e)
        {
            throw new TuwenException($"PostgreSQL at {where} refused the connection: {e.MessageText}");
        }
        catch (NpgsqlException e)
        {
            var reason = e.InnerException?.Message ?? e.Message;
            throw new TuwenException($"cannot connect to PostgreSQL at {where}: {reason}");
        }
    }
}
