using System.Net;
using System.Net.Sockets;
using Tuwen.Search;

namespace Tuwen.Tests.Search;

/// <summary>Adding, replacing, deleting and reading back vectors in pgvector, and the user errors on the way.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreTests(PostgresCluster cluster)
{
    static float[] Unit(params float[] v)
    {
        var n = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }

    PgVectorIndex Open(int dim = 3, string? table = null) =>
        PgVectorIndex.Open(cluster.ConnectionString, table ?? PostgresCluster.NewTable(), dim);

    [Fact]
    public void Add_replaces_an_existing_id_and_delete_counts_what_was_there()
    {
        using var index = Open();
        index.Add([1, 2, 3], [.. Unit(1, 0, 0), .. Unit(0, 1, 0), .. Unit(0, 0, 1)]);
        Assert.Equal(3, index.Count);

        // Id 2 already stored, and id 4 twice in one call: the last vector given wins.
        index.Add([2, 4, 4], [.. Unit(1, 1, 0), .. Unit(0, 0, 1), .. Unit(-1, 0, 0)]);
        Assert.Equal(4, index.Count);

        var hits = index.Search(Unit(1, 1, 0), 1, 4)[0];
        Assert.Equal([2L, 1L, 3L, 4L], hits.Select(h => h.Id).Take(3).Append(hits[3].Id));
        Assert.Equal(1f, hits[0].Score, 1e-6f);
        Assert.Equal(MathF.Sqrt(0.5f), hits[1].Score, 1e-6f);
        Assert.Equal(0f, hits[2].Score, 1e-6f);
        Assert.Equal(-MathF.Sqrt(0.5f), hits[3].Score, 1e-6f);

        Assert.Equal(2, index.Delete([3, 4, 99]));
        Assert.Equal(2, index.Count);
        Assert.Equal([2L, 1L], index.Search(Unit(1, 1, 0), 1, 10)[0].Select(h => h.Id));
        Assert.Equal(0, index.Delete([3]));
    }

    [Fact]
    public void TryGetVector_returns_the_stored_floats_bit_for_bit()
    {
        using var index = Open(dim: 4);
        var v = Unit(0.1f, -0.7f, 0.3f, 1e-3f);
        index.Add([42], v);
        var into = new float[4];
        Assert.True(index.TryGetVector(42, into));
        Assert.Equal(v, into);
        Assert.False(index.TryGetVector(43, into));
        index.Delete([42]);
        Assert.False(index.TryGetVector(42, into));
    }

    [Fact]
    public void Reopening_a_table_keeps_its_rows_and_refuses_another_dimension()
    {
        var table = PostgresCluster.NewTable();
        using (var index = Open(dim: 3, table)) index.Add([7], Unit(1, 2, 3));
        using (var again = Open(dim: 3, table)) Assert.Equal(1, again.Count);
        var e = Assert.Throws<TuwenException>(() => Open(dim: 4, table));
        Assert.Contains("3-d", e.Message);
    }

    [Fact]
    public void Wrong_lengths_and_bad_values_are_user_errors()
    {
        using var index = Open();
        Assert.Throws<TuwenException>(() => index.Add([1, 2], Unit(1, 0, 0)));
        Assert.Throws<TuwenException>(() => index.Search(new float[4], 1, 5));
        Assert.Throws<TuwenException>(() => index.Search(Unit(1, 0, 0), 1, 0));
        Assert.Throws<TuwenException>(() => index.TryGetVector(1, new float[2]));
        var nan = Assert.Throws<TuwenException>(() => index.Add([1], [float.NaN, 0, 0]));
        Assert.Contains("NaN", nan.Message);
        Assert.Equal(0, index.Count);
        Assert.Throws<TuwenException>(() => PgVectorIndex.Open(cluster.ConnectionString, "Bad-Name", 3));
        Assert.Throws<TuwenException>(() => PgVectorIndex.Open(cluster.ConnectionString, PostgresCluster.NewTable(), 4096));
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Port={closed};Username=postgres;Timeout=5", "cannot connect to PostgreSQL at 127.0.0.1:{closed}")]
    [InlineData("postgres://tuwen:s3cret@127.0.0.1:{closed}/corpus", "cannot connect to PostgreSQL at 127.0.0.1:{closed}/corpus")]
    [InlineData("Host=127.0.0.1;Colour=blue", "invalid PostgreSQL connection string")]
    [InlineData("postgres://127.0.0.1/db?sslmode", "invalid PostgreSQL connection string")]
    [InlineData("Host=127.0.0.1;Port={port};Username=postgres;Database=nosuchdb", "PostgreSQL at 127.0.0.1:{port}/nosuchdb refused the connection: database \"nosuchdb\" does not exist")]
    public void Bad_connection_strings_fail_with_one_clear_line(string connectionString, string expected)
    {
        var closed = ClosedPort().ToString();
        var port = cluster.Port.ToString();
        var e = Assert.Throws<TuwenException>(() => PgVectorIndex.Open(
            connectionString.Replace("{closed}", closed).Replace("{port}", port), "images", 3));
        Assert.StartsWith(expected.Replace("{closed}", closed).Replace("{port}", port), e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
    }

    [Theory]
    [InlineData("Host=db.example;Database=tuwen", true)]
    [InlineData("postgres://u@db/tuwen", true)]
    [InlineData("postgresql://db", true)]
    [InlineData("Database=tuwen;Host=db", true)]
    [InlineData("/data/index", false)]
    [InlineData("runs/a=b;c", false)]
    public void Connection_strings_are_told_apart_from_index_directories(string s, bool expected) =>
        Assert.Equal(expected, PostgresConnectionString.IsConnectionString(s));

    [Fact]
    public void The_uri_form_becomes_npgsql_keys()
    {
        var b = PostgresConnectionString.Parse("postgresql://me:p%40ss@db.local:6543/corpus?sslmode=disable&application_name=tuwen");
        Assert.Equal(("db.local", 6543, "me", "p@ss", "corpus"), (b.Host, b.Port, b.Username, b.Password, b.Database));
        Assert.Equal(Npgsql.SslMode.Disable, b.SslMode);
        Assert.Equal("tuwen", b.ApplicationName);
    }

    static int ClosedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
