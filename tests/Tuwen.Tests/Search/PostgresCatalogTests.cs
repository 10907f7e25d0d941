using Tuwen.Search;

namespace Tuwen.Tests.Search;

/// <summary>An index directory served from pgvector answers as the embedded index does, and stays in step with it.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresCatalogTests(PostgresCluster cluster)
{
    [Fact]
    public void The_pgvector_store_returns_the_same_top_k_as_the_embedded_index()
    {
        var (dir, _) = SearchCatalogTests.BuildFromShards();
        using var _d = dir;
        using var embedded = SearchCatalog.Open(dir.Combine("index"));
        using var pg = SearchCatalog.Open(dir.Combine("index"), cluster.ConnectionString);
        Assert.Equal("exact", embedded.Images.Kind);
        Assert.Equal("pgvector", pg.Images.Kind);
        Assert.Equal(embedded.Images.Count, pg.Images.Count);
        Assert.Equal(embedded.Texts!.Count, pg.Texts!.Count);

        var vector = new float[embedded.Images.Dim];
        for (long id = 0; id < embedded.Images.Count; id++)
        {
            Assert.True(embedded.Images.TryGetVector(id, vector));
            foreach (var (a, b) in new[] { (embedded.Images, pg.Images), (embedded.Texts, pg.Texts) })
            {
                var expected = a.Search(vector, 1, 5)[0];
                var actual = b.Search(vector, 1, 5)[0];
                var all = a.Search(vector, 1, (int)a.Count)[0].ToDictionary(h => h.Id, h => h.Score);
                // The file scores inner products of float16 rows (norms off 1 by ~1e-4 after rounding), pgvector
                // true cosines of the same rows: scores agree to that rounding, so only pairs that close may swap.
                Assert.Equal(expected[0].Id, actual[0].Id);
                for (int i = 0; i < expected.Length; i++)
                {
                    Assert.Equal(expected[i].Score, actual[i].Score, 1e-3f);
                    Assert.Equal(all[actual[i].Id], actual[i].Score, 1e-3f);
                }
            }
        }
    }

    [Fact]
    public void Changes_made_through_the_store_reach_the_file_and_a_stale_table_is_brought_back_in_step()
    {
        var (dir, _) = SearchCatalogTests.BuildFromShards();
        using var _d = dir;
        var added = new float[0];
        long newId;
        using (var pg = SearchCatalog.Open(dir.Combine("index"), cluster.ConnectionString))
        {
            added = new float[pg.Images.Dim];
            Assert.True(pg.Images.TryGetVector(2, added));
            newId = pg.AddImage(added, File.ReadAllBytes(Tuwen.Tests.Evaluation.Flickr8kCnVal.ImagePath(Tuwen.Tests.Evaluation.Flickr8kCnVal.Instance.ImageIds[2])), "副本", "copy");
            Assert.Equal(1, pg.DeleteImages([0]));
            Assert.Equal(6, pg.Images.Count);
            Assert.Equal([2L, newId], pg.Images.Search(added, 1, 2)[0].Select(h => h.Id).Order());
        }
        using (var embedded = SearchCatalog.Open(dir.Combine("index")))
        {
            // The file saw both changes (pending log and deletion log).
            Assert.Equal(6, embedded.Images.Count);
            Assert.False(embedded.Images.TryGetVector(0, new float[embedded.Images.Dim]));
            // Change the file behind the table's back: the next open with the store re-syncs it.
            embedded.DeleteImages([1]);
        }
        using (var pg = SearchCatalog.Open(dir.Combine("index"), cluster.ConnectionString))
        {
            Assert.Equal(5, pg.Images.Count);
            Assert.False(pg.Images.TryGetVector(1, new float[pg.Images.Dim]));
            Assert.True(pg.Images.TryGetVector(newId, new float[pg.Images.Dim]));
        }
    }
}
