using System.Text.Json.Nodes;
using SkiaSharp;
using Tuwen.Data;
using Tuwen.Inference;
using Tuwen.Search;
using Tuwen.Tests.Cli;
using Tuwen.Tests.Data;
using Tuwen.Tests.Evaluation;

namespace Tuwen.Tests.Search;

public class SearchCatalogTests
{
    private static readonly string[] ImageIds = [.. Flickr8kCnVal.Instance.ImageIds.Take(6)];

    /// <summary>A shard of six Flickr8K-CN validation images with their captions, indexed with a tiny random model.</summary>
    internal static (TempDirectory Dir, CatalogBuildResult Result) BuildFromShards(string kind = "exact")
    {
        var dir = new TempDirectory();
        var flickr = Flickr8kCnVal.Instance;
        Directory.CreateDirectory(dir.Combine("shards"));
        using (var writer = new ShardWriter(dir.Combine("shards"), "part"))
            for (int i = 0; i < ImageIds.Length; i++)
                writer.Write(Sample.Create($"img{i}", File.ReadAllBytes(Flickr8kCnVal.ImagePath(ImageIds[i])), "jpg",
                    [.. flickr.Captions.Where((_, c) => flickr.CaptionToImage[c] == i).Take(2)], new JsonObject()));
        using var runtime = ImageFolderZeroShotSharedDataTests.TinyRuntime();
        var result = CatalogEmbedding.Build(runtime, EmbeddingSources.Shards(dir.Combine("shards")), dir.Combine("index"), "tiny-model", texts: true,
            new CatalogBuildOptions { Kind = kind }, batchSize: 4);
        return (dir, result);
    }

    [Fact]
    public void A_built_index_finds_each_image_by_its_own_vector_and_serves_its_metadata_and_thumbnail()
    {
        var (dir, result) = BuildFromShards();
        using var _ = dir;
        Assert.Equal((6L, 12L, 6L), (result.Images, result.Texts, result.Thumbnails));
        using var catalog = SearchCatalog.Open(dir.Combine("index"));
        Assert.Equal("tiny-model", catalog.ModelPath);
        Assert.Equal("torch", catalog.Runtime);
        Assert.Equal("exact", catalog.Images.Kind);
        Assert.Equal(12, catalog.Texts!.Count);
        var flickr = Flickr8kCnVal.Instance;
        var vector = new float[catalog.Images.Dim];
        for (long id = 0; id < 6; id++)
        {
            Assert.True(catalog.Images.TryGetVector(id, vector));
            var hit = catalog.Images.Search(vector, 1, 1)[0][0];
            Assert.Equal(id, hit.Id);
            Assert.InRange(hit.Score, 0.998f, 1.002f);
            var item = catalog.Image(id)!;
            Assert.Equal($"img{id}", item.Key);
            var captions = flickr.Captions.Where((_, c) => flickr.CaptionToImage[c] == id).Take(2).ToArray();
            Assert.Equal(captions, item.Captions);
            Assert.Equal(captions[0], item.Caption);
            using var thumbnail = SKBitmap.Decode(catalog.Thumbnail(id));
            using var original = SKBitmap.Decode(Flickr8kCnVal.ImagePath(ImageIds[id]));
            Assert.Equal(Math.Min(256, Math.Max(original.Width, original.Height)), Math.Max(thumbnail.Width, thumbnail.Height));
            Assert.Equal((double)original.Width / original.Height, (double)thumbnail.Width / thumbnail.Height, 1);
        }
        Assert.Equal("img3", catalog.Text(7)!.Key);
        Assert.Null(catalog.Image(6));
        Assert.Null(catalog.Thumbnail(-1));
        Assert.Null(catalog.Text(12));
    }

    [Fact]
    public void Added_and_deleted_images_persist_across_reopen_and_compaction()
    {
        var (dir, _) = BuildFromShards("ivf");
        using var __ = dir;
        var imageBytes = File.ReadAllBytes(Flickr8kCnVal.ImagePath(Flickr8kCnVal.Instance.ImageIds[10]));
        var vector = new float[0];
        long added;
        using (var catalog = SearchCatalog.Open(dir.Combine("index")))
        {
            Assert.Equal("ivf", catalog.Images.Kind);
            vector = new float[catalog.Images.Dim];
            Assert.True(catalog.Images.TryGetVector(2, vector));
            vector[0] += 0.5f;
            float norm = MathF.Sqrt(vector.Sum(v => v * v));
            for (int d = 0; d < vector.Length; d++) vector[d] /= norm;
            added = catalog.AddImage(vector, imageBytes, "新的图片", "new-key");
            Assert.Equal(6, added);
            Assert.Equal(2, catalog.DeleteImages([1, 4, 99]));
            Assert.Throws<TuwenException>(() => catalog.AddImage(vector, [1, 2, 3], null, "broken"));
            Assert.Throws<TuwenException>(() => catalog.AddImage(new float[3], imageBytes, null, "short"));
        }
        for (int round = 0; round < 2; round++)
            using (var catalog = SearchCatalog.Open(dir.Combine("index")))
            {
                Assert.Equal(5, catalog.Images.Count);
                Assert.Equal(added, catalog.Images.Search(vector, 1, 1)[0][0].Id);
                Assert.Equal("新的图片", catalog.Image(added)!.Caption);
                Assert.NotNull(catalog.Thumbnail(added));
                Assert.Null(catalog.Image(1));
                Assert.Null(catalog.Thumbnail(4));
                Assert.DoesNotContain(catalog.Images.Search(vector, 1, 10)[0], h => h.Id is 1 or 4);
                if (round == 0) catalog.Compact();
            }
        Assert.Equal(0, new FileInfo(dir.Combine("index", "images.pending")).Length);
    }

    [Fact]
    public void Thumbnails_shrink_the_longest_side_to_256_and_keep_the_aspect_and_colour()
    {
        using var bitmap = new SKBitmap(600, 300);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(200, 30, 40));
            using var paint = new SKPaint { Color = new SKColor(20, 40, 220) };
            canvas.DrawRect(300, 0, 300, 300, paint);
        }
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        var thumbnail = Thumbnails.Make(png.ToArray())!;
        Assert.Equal([0xFF, 0xD8], thumbnail[..2]);
        using var decoded = SKBitmap.Decode(thumbnail);
        Assert.Equal((256, 128), (decoded.Width, decoded.Height));
        var left = decoded.GetPixel(60, 64);
        var right = decoded.GetPixel(196, 64);
        Assert.InRange(left.Red, 185, 215);
        Assert.InRange(right.Blue, 205, 235);
        Assert.Null(Thumbnails.Make([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]));
    }

    [Fact]
    public void Transparent_pixels_become_white_in_the_jpeg_thumbnail()
    {
        // An emoji-like PNG: a red disc on a fully transparent square (JPEG would otherwise show black corners).
        using var bitmap = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Transparent);
            using var paint = new SKPaint { Color = new SKColor(220, 20, 20), IsAntialias = true };
            canvas.DrawCircle(32, 32, 20, paint);
        }
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        using var decoded = SKBitmap.Decode(Thumbnails.Make(png.ToArray())!);
        var corner = decoded.GetPixel(2, 2);
        Assert.True(corner.Red > 245 && corner.Green > 245 && corner.Blue > 245, $"corner is {corner}");
        var centre = decoded.GetPixel(32, 32);
        Assert.InRange(centre.Red, 200, 240);
        Assert.InRange(centre.Green, 0, 45);
    }

    [Fact]
    public void Index_commands_report_info_delete_ids_and_refuse_bad_input()
    {
        var (dir, _) = BuildFromShards();
        using var __ = dir;
        var info = CliRunner.Run("index", "info", "--index", dir.Combine("index"));
        Assert.Equal(0, info.ExitCode);
        Assert.Contains("images   6", info.Out);
        Assert.Contains("texts    12", info.Out);
        var deleted = CliRunner.Run("index", "delete", "--index", dir.Combine("index"), "--ids", "0, 5,77");
        Assert.Equal(0, deleted.ExitCode);
        Assert.Contains("deleted 2 of 3 ids; the index holds 4 images", deleted.Out);
        CliRunner.AssertUserError(CliRunner.Run("index", "delete", "--index", dir.Combine("index"), "--ids", "1,../x"), "'../x' is not an image id");
        CliRunner.AssertUserError(CliRunner.Run("index", "info", "--index", dir.Combine("nowhere")), "index directory not found");
        CliRunner.AssertUserError(CliRunner.Run("index", "build", "--out", dir.Combine("again"), "--embeddings", dir.Combine("index", "embeddings"),
            "--image-folder", dir.Path), "--embeddings replaces");
        var rebuilt = CliRunner.Run("index", "build", "--out", dir.Combine("int8"), "--embeddings", dir.Combine("index", "embeddings"), "--kind", "exact-int8");
        Assert.Equal(0, rebuilt.ExitCode);
        Assert.Contains("exact-int8 index of 6 images", rebuilt.Out);
        CliRunner.AssertUserError(CliRunner.Run("index", "build", "--out", dir.Combine("int8"), "--embeddings", dir.Combine("index", "embeddings")), "already holds an index");

        File.WriteAllText(dir.Combine("index", "index.json"), "{ not json");
        Assert.Contains("not a valid index manifest", Assert.Throws<TuwenException>(() => SearchCatalog.Open(dir.Combine("index"))).Message);
        File.WriteAllText(dir.Combine("index", "index.json"), """{"schema": "something/else"}""");
        Assert.Throws<TuwenException>(() => SearchCatalog.Open(dir.Combine("index")));
        Directory.CreateDirectory(dir.Combine("empty"));
        Assert.Contains("not an index directory", Assert.Throws<TuwenException>(() => SearchCatalog.Open(dir.Combine("empty"))).Message);
    }
}
