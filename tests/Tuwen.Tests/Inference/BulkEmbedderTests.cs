using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Parquet.Serialization;
using Tuwen.Data;
using Tuwen.Inference;
using Tuwen.Tests.Data;
using Tuwen.Tests.Evaluation;
using static TorchSharp.torch;

namespace Tuwen.Tests.Inference;

public class BulkEmbedderTests
{
    /// <summary>Reads a 2-D .npy written by <see cref="NpyWriter"/> back into floats (the header parsed by hand).</summary>
    internal static (long Rows, int Columns, float[] Values) ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        var header = System.Text.Encoding.ASCII.GetString(bytes, 10, headerLength);
        var shape = header[(header.IndexOf("'shape': (") + 10)..];
        shape = shape[..shape.IndexOf(')')];
        var parts = shape.Split(',', StringSplitOptions.TrimEntries);
        long rows = long.Parse(parts[0]);
        int columns = int.Parse(parts[1]);
        bool half = header.Contains("'<f2'");
        var data = bytes.AsSpan(10 + headerLength);
        Assert.Equal(rows * columns * (half ? 2 : 4), data.Length);
        var values = new float[rows * columns];
        for (int i = 0; i < values.Length; i++)
            values[i] = half ? (float)BinaryPrimitives.ReadHalfLittleEndian(data[(i * 2)..]) : BinaryPrimitives.ReadSingleLittleEndian(data[(i * 4)..]);
        return (rows, columns, values);
    }

    private static List<T> ReadParquet<T>(string path) where T : class, new()
    {
        using var stream = File.OpenRead(path);
        return [.. ParquetSerializer.DeserializeAsync<T>(stream).GetAwaiter().GetResult().Data];
    }

    private static string[] FlickrImages(int count) => [.. Flickr8kCnVal.Instance.ImageIds.Take(count).Select(Flickr8kCnVal.ImagePath)];

    [Theory]
    [InlineData(EmbeddingDtype.Float32, 1e-6)]
    [InlineData(EmbeddingDtype.Float16, 1e-3)]
    public void Image_folder_embeddings_equal_the_models_own_features_in_metadata_order(EmbeddingDtype dtype, double tolerance)
    {
        using var dir = new TempDirectory();
        var files = FlickrImages(7);
        // Names chosen so the folder's ordinal order differs from the copy order.
        for (int i = 0; i < files.Length; i++) File.Copy(files[i], dir.Combine("in", $"{(char)('g' - i)}.jpg").EnsureDirectory());
        File.WriteAllBytes(dir.Combine("in", "broken.jpg"), [0xFF, 0xD8, 0xFF, 0, 1, 2]);

        using var runtime = ImageFolderZeroShotSharedDataTests.TinyRuntime();
        var result = BulkEmbedder.Run(runtime, EmbeddingSources.ImageFolder(dir.Combine("in")), dir.Combine("out"),
            new BulkEmbedOptions { Dtype = dtype, BatchSize = 3, PartRows = 4, Model = "tiny" });
        Assert.Equal(7, result.Images);
        Assert.Equal(2, result.ImageParts);
        Assert.Single(result.Skipped);
        Assert.Contains("broken.jpg", result.Skipped[0]);

        var rows = ReadParquet<ImageEmbeddingRow>(dir.Combine("out", "metadata", "metadata_0.parquet"))
            .Concat(ReadParquet<ImageEmbeddingRow>(dir.Combine("out", "metadata", "metadata_1.parquet"))).ToList();
        Assert.Equal(["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg", "f.jpg", "g.jpg"], rows.Select(r => r.Key));
        var first = ReadNpy(dir.Combine("out", "img_emb", "img_emb_0.npy"));
        var second = ReadNpy(dir.Combine("out", "img_emb", "img_emb_1.npy"));
        Assert.Equal((4L, 3L), (first.Rows, second.Rows));
        var embeddings = first.Values.Concat(second.Values).ToArray();

        // Reference: the model's EncodeImage on the same pre-processed images, normalised by torch.
        var transform = ImageTransform.ForEval(runtime.ImageSize);
        var pixels = rows.SelectMany(r => transform.Apply(File.ReadAllBytes(r.ImagePath))).ToArray();
        float[] expected;
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope())
        {
            var features = runtime.Loaded.Model.EncodeImage(tensor(pixels, [rows.Count, 3, runtime.ImageSize, runtime.ImageSize]));
            expected = nn.functional.normalize(features, dim: 1).data<float>().ToArray();
        }
        Assert.Equal(expected.Length, embeddings.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - embeddings[i]) <= tolerance, $"{i}: {expected[i]} vs {embeddings[i]}");

        var manifest = JsonNode.Parse(File.ReadAllText(result.ManifestPath))!;
        Assert.Equal(dtype == EmbeddingDtype.Float16 ? "float16" : "float32", manifest["dtype"]!.GetValue<string>());
        Assert.True(manifest["normalized"]!.GetValue<bool>());
        Assert.Equal(128, manifest["dim"]!.GetValue<int>());
        Assert.Equal(7, manifest["images"]!.GetValue<long>());
        Assert.Empty(Directory.GetFiles(dir.Combine("out"), "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Shard_captions_become_text_rows_aligned_with_their_embeddings()
    {
        using var dir = new TempDirectory();
        var files = FlickrImages(3);
        using (var writer = new ShardWriter(dir.Combine("shards"), "t"))
            for (int i = 0; i < files.Length; i++)
                writer.Write(Sample.Create($"s{i}", File.ReadAllBytes(files[i]), "jpg", [$"第{i}张图片", $"图片{i}"], new JsonObject()));

        using var runtime = ImageFolderZeroShotSharedDataTests.TinyRuntime();
        var result = BulkEmbedder.Run(runtime, EmbeddingSources.Shards(dir.Combine("shards")), dir.Combine("out"),
            new BulkEmbedOptions { Dtype = EmbeddingDtype.Float32, Texts = true, BatchSize = 4 });
        Assert.Equal((3L, 6L), (result.Images, result.Texts));
        var textRows = ReadParquet<TextEmbeddingRow>(dir.Combine("out", "text_metadata", "text_metadata_0.parquet"));
        Assert.Equal(["第0张图片", "图片0", "第1张图片", "图片1", "第2张图片", "图片2"], textRows.Select(r => r.Caption));
        var texts = ReadNpy(dir.Combine("out", "text_emb", "text_emb_0.npy"));
        var expected = RuntimeFeatures.Texts(runtime, ["图片1"], 1);
        // Batched matmuls round differently from a batch of one, hence the tolerance.
        var row = texts.Values.AsSpan(3 * 128, 128).ToArray();
        for (int i = 0; i < 128; i++) Assert.True(Math.Abs(expected[i] - row[i]) < 1e-5, $"{i}: {expected[i]} vs {row[i]}");
        var imageRows = ReadParquet<ImageEmbeddingRow>(dir.Combine("out", "metadata", "metadata_0.parquet"));
        Assert.Equal(["s0", "s1", "s2"], imageRows.Select(r => r.Key));
        Assert.Equal("第1张图片\n图片1", imageRows[1].Captions);
    }

    [Fact]
    public void Ten_parts_or_more_get_zero_padded_names_in_row_order()
    {
        using var dir = new TempDirectory();
        byte[][] colours = [ColourRuntime.SolidPng(255, 0, 0), ColourRuntime.SolidPng(0, 255, 0), ColourRuntime.SolidPng(0, 0, 255)];
        for (int i = 0; i < 11; i++) File.WriteAllBytes(dir.Combine("in", $"{i:D2}.png").EnsureDirectory(), colours[i % 3]);
        using var runtime = new ColourRuntime();
        var result = BulkEmbedder.Run(runtime, EmbeddingSources.ImageFolder(dir.Combine("in")), dir.Combine("out"),
            new BulkEmbedOptions { Dtype = EmbeddingDtype.Float32, PartRows = 1, BatchSize = 4 });
        Assert.Equal(11, result.ImageParts);
        var names = Directory.GetFiles(dir.Combine("out", "img_emb")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([.. Enumerable.Range(0, 11).Select(i => $"img_emb_{i:D2}.npy")], names);
        for (int i = 0; i < 11; i++)
        {
            // ColourRuntime: red → e0, green → e1, blue → e2, normalised to 1.
            var (rows, _, values) = ReadNpy(dir.Combine("out", "img_emb", $"img_emb_{i:D2}.npy"));
            Assert.Equal(1, rows);
            Assert.Equal(1f, values[i % 3]);
            var meta = ReadParquet<ImageEmbeddingRow>(dir.Combine("out", "metadata", $"metadata_{i:D2}.parquet"));
            Assert.Equal($"{i:D2}.png", Assert.Single(meta).Key);
        }
    }

    [Fact]
    public void Bad_inputs_give_clear_errors()
    {
        using var dir = new TempDirectory();
        Assert.Contains("not found", Assert.Throws<TuwenException>(() => EmbeddingSources.ImageFolder(dir.Combine("nope"))).Message);
        Assert.Contains("no image files", Assert.Throws<TuwenException>(() => EmbeddingSources.ImageFolder(dir.Path)).Message);
        Assert.Contains("not found", Assert.Throws<TuwenException>(() => EmbeddingSources.ChineseClip(dir.Path, "valid")).Message);
        Directory.CreateDirectory(dir.Combine("only-broken"));
        File.WriteAllBytes(dir.Combine("only-broken", "x.png"), [1, 2]);
        using var runtime = new ColourRuntime();
        Assert.Contains("nothing to embed", Assert.Throws<TuwenException>(() =>
            BulkEmbedder.Run(runtime, EmbeddingSources.ImageFolder(dir.Combine("only-broken")), dir.Combine("out"), new BulkEmbedOptions())).Message);
        Directory.CreateDirectory(dir.Combine("used", "img_emb"));
        File.WriteAllText(dir.Combine("used", "img_emb", "img_emb_0.npy"), "old");
        Assert.Contains("already holds embeddings", Assert.Throws<TuwenException>(() =>
            BulkEmbedder.Run(runtime, EmbeddingSources.ImageFolder(dir.Combine("only-broken")), dir.Combine("used"), new BulkEmbedOptions())).Message);
        Assert.Equal("old", File.ReadAllText(dir.Combine("used", "img_emb", "img_emb_0.npy")));
        Assert.Contains("unknown runtime", Assert.Throws<TuwenException>(() => EmbeddingRuntimes.Open("tpu", dir.Path)).Message);
    }
}

internal static class PathExtensions
{
    public static string EnsureDirectory(this string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        return file;
    }
}
