using System.Text.RegularExpressions;
using Npgsql;

namespace Tuwen.Search;

/// <summary>
/// The schema side of a pgvector index: one table per index (id bigint primary key, embedding vector(dim)),
/// the vector extension, and the HNSW index over cosine distance.
/// </summary>
static partial class PostgresVectorTable
{
    /// <summary>pgvector's HNSW limit for the vector type.</summary>
    public const int MaxHnswDim = 2000;

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,47}$")]
    private static partial Regex TableName();

    public static void CheckName(string table)
    {
        if (!TableName().IsMatch(table))
            throw new TuwenException(
                $"invalid table name '{table}': use 1–48 lowercase letters, digits or underscores, not starting with a digit");
    }

    public static string IndexName(string table) => $"{table}_embedding_hnsw";

    /// <summary>Creates the extension and table when missing; an existing table must have the same dimension.</summary>
    public static void Ensure(NpgsqlConnection conn, string table, int dim, string where)
    {
        EnsureExtension(conn, where);
        var existing = ExistingDim(conn, table);
        if (existing is null)
        {
            Execute(conn, $"create table if not exists \"{table}\" (id bigint primary key, embedding vector({dim}) not null)");
            return;
        }
        if (existing.Value != dim)
            throw new TuwenException(
                $"table '{table}' at {where} holds {existing.Value}-d vectors, not {dim}-d: use another table or the model that made them");
    }

    public static void EnsureHnsw(NpgsqlConnection conn, string table, PostgresIndexOptions o)
    {
        Execute(conn, $"set maintenance_work_mem = '{o.MaintenanceWorkMem.Replace("'", "", StringComparison.Ordinal)}'");
        Execute(conn,
            $"create index if not exists \"{IndexName(table)}\" on \"{table}\" using hnsw (embedding vector_cosine_ops) " +
            $"with (m = {o.M}, ef_construction = {o.EfConstruction})",
            timeoutSeconds: 0);
    }

    static void EnsureExtension(NpgsqlConnection conn, string where)
    {
        using (var probe = new NpgsqlCommand("select 1 from pg_extension where extname = 'vector'", conn))
            if (probe.ExecuteScalar() is not null) return;
        try
        {
            Execute(conn, "create extension if not exists vector");
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedFile or PostgresErrorCodes.FeatureNotSupported)
        {
            throw new TuwenException($"the PostgreSQL server at {where} has no pgvector extension installed (scripts/setup.sh builds it): {e.MessageText}");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new TuwenException($"pgvector is not enabled in {where} and this user may not enable it: run `create extension vector` there as a superuser");
        }
        // Types loaded at connection start do not include one created just now.
        conn.ReloadTypes();
    }

    /// <summary>The declared dimension of the table's embedding column, or null when the table does not exist.</summary>
    static int? ExistingDim(NpgsqlConnection conn, string table)
    {
        using var cmd = new NpgsqlCommand(
            "select format_type(a.atttypid, a.atttypmod) from pg_attribute a " +
            "where a.attrelid = to_regclass($1) and a.attname = 'embedding' and not a.attisdropped", conn);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"\"{table}\"" });
        using var reader = cmd.ExecuteReader();
        if (!reader.Read())
        {
            reader.Close();
            using var exists = new NpgsqlCommand("select to_regclass($1) is not null", conn);
            exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"\"{table}\"" });
            if ((bool)exists.ExecuteScalar()!)
                throw new TuwenException($"table '{table}' exists but has no embedding column: it was not made by Tuwen");
            return null;
        }
        var type = reader.GetString(0);
        var m = Regex.Match(type, @"^vector\((\d+)\)$");
        if (!m.Success)
            throw new TuwenException($"table '{table}' has an embedding column of type {type}, not vector(n): it was not made by Tuwen");
        return int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static void Execute(NpgsqlConnection conn, string sql, int timeoutSeconds = 30)
    {
        using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = timeoutSeconds };
        cmd.ExecuteNonQuery();
    }
}
