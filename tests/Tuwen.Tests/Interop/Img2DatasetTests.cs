using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Parquet;
using Parquet.Schema;
using Tuwen.Data;
using Tuwen.Interop.ChineseClip;
using Tuwen.Interop.Img2Dataset;

namespace Tuwen.Tests.Interop;

public sealed class Img2DatasetTests : IDisposable
{
    readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("tuwen-i2d-");

    public void Dispose() => _temp.Delete(recursive: true);

    string Dir(string name) => Path.Combine(_temp.FullName, name);

    static Dictionary<long, byte[]> Images => LmdbFixture.TsvImages();

    [Fact]
    public void WritesImg2DatasetsColumnsWithBytesUnchanged()
    {
        var jpg = Images[1001];
        var png = Images[1002];
        var samples = new[]
        {
            Sample.Create("a", jpg, "jpg", ["第一", "第二"], new JsonObject { ["url"] = "https://example.invalid/a.jpg" }),
            Sample.Create("b", png, "png", ["只有一条"]),
        };
        using (var writer = new Img2DatasetWriter(Dir("out")))
        {
            foreach (var s in samples) writer.Write(s);
            writer.Complete();
        }

        var file = Path.Combine(Dir("out"), "00000.parquet");
        Assert.Equal([file], Directory.GetFiles(Dir("out")));
        var (names, rows) = ReadTable(file);
        // img2dataset's order (writer.py / downloader.py): extra columns, caption, url, key, status, error_message,
        // width, height, original_width, original_height, hash, then the image column(s).
        Assert.Equal(["tuwen_captions", "tuwen_metadata", "caption", "url", "key", "status", "error_message",
            "width", "height", "original_width", "original_height", "sha256", "jpg", "png"], names);
        Assert.Equal(["a", "b"], rows["key"]);
        Assert.Equal(["第一", "只有一条"], rows["caption"]);
        Assert.Equal(["https://example.invalid/a.jpg", null], rows["url"]);
        Assert.Equal(["success", "success"], rows["status"]);
        Assert.Equal([null, null], rows["error_message"]);
        // The fixture images are 12×10 (make_lmdb_fixture.sh).
        Assert.Equal([12, 12], rows["width"]);
        Assert.Equal([10, 10], rows["original_height"]);
        Assert.Equal([Convert.ToHexStringLower(SHA256.HashData(jpg)), Convert.ToHexStringLower(SHA256.HashData(png))], rows["sha256"]);
        Assert.Equal(jpg, (byte[])rows["jpg"][0]!);
        Assert.Null(rows["jpg"][1]);
        Assert.Null(rows["png"][0]);
        Assert.Equal(png, (byte[])rows["png"][1]!);
        Assert.Equal("[\"第一\",\"第二\"]", rows["tuwen_captions"][0]);
    }

    [Fact]
    public async Task ReadsImg2DatasetsOwnLayoutSkippingFailedRows()
    {
        // A shard as img2dataset writes it with a caption column, one extra input column and one failed download.
        var jpg = Images[1001];
        var file = Path.Combine(Directory.CreateDirectory(Dir("in")).FullName, "00000.parquet");
        var fields = new Dictionary<string, DataField>
        {
            ["license"] = new DataField<string>("license", true),
            ["caption"] = new DataField<string>("caption", true),
            ["url"] = new DataField<string>("url", true),
            ["key"] = new DataField<string>("key", true),
            ["status"] = new DataField<string>("status", true),
            ["error_message"] = new DataField<string>("error_message", true),
            ["width"] = new DataField<int>("width", true),
            ["height"] = new DataField<int>("height", true),
            ["original_width"] = new DataField<int>("original_width", true),
            ["original_height"] = new DataField<int>("original_height", true),
            ["sha256"] = new DataField<string>("sha256", true),
            ["jpg"] = new DataField<byte[]>("jpg", true),
        };
        await using (var stream = File.Create(file))
        {
            await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields.Values.ToArray<Field>()), stream);
            using var g = writer.CreateRowGroup();
            Task S(string name, params string?[] v) => g.WriteAsync(fields[name], v!);
            Task I(string name, params int?[] v) => g.WriteAsync<int>(fields[name], v.AsMemory());
            await S("license", "cc-by", "cc0");
            await S("caption", "一只猫", "下载失败");
            await S("url", "https://example.invalid/cat.jpg", "https://example.invalid/gone.jpg");
            await S("key", "000000000", "000000001");
            await S("status", "success", "failed_to_download");
            await S("error_message", null, "HTTP Error 404: Not Found");
            await I("width", 12, null);
            await I("height", 10, null);
            await I("original_width", 12, null);
            await I("original_height", 10, null);
            await S("sha256", Convert.ToHexStringLower(SHA256.HashData(jpg)), null);
            await g.WriteAsync(fields["jpg"], new byte[]?[] { jpg, null }!);
        }

        var counts = new Img2DatasetReadCounts();
        var reader = new Img2DatasetReader(Dir("in"));
        Assert.Equal(2, reader.RowCount);
        var sample = Assert.Single(reader.ReadSamples(counts));
        Assert.Equal((2, 1, 1), (counts.Rows, counts.Failed, counts.Samples));
        Assert.Equal("000000000", sample.Key);
        Assert.Equal(jpg, sample.Image);
        Assert.Equal("jpg", sample.ImageExtension);
        Assert.Equal(["一只猫"], sample.Captions);
        Assert.Equal("https://example.invalid/cat.jpg", (string?)sample.Metadata["url"]);
        Assert.Equal("cc-by", (string?)sample.Metadata["license"]);
        Assert.Equal(12, (int?)sample.Metadata["width"]);
        Assert.Equal("img2dataset", (string?)sample.Metadata["source"]);
    }

    [Fact]
    public void RoundTripKeepsEveryCaptionAndTheMetadata()
    {
        var samples = ChineseClipDataset.ReadSamples(LmdbFixture.Directory, LmdbFixture.Split).ToList();
        using (var writer = new Img2DatasetWriter(Dir("rt"), samplesPerShard: 3))
        {
            foreach (var s in samples) writer.Write(s);
            writer.Complete();
        }
        Assert.Equal(["00000.parquet", "00001.parquet"], Directory.GetFiles(Dir("rt")).Select(Path.GetFileName).Order());
        var back = new Img2DatasetReader(Dir("rt")).ReadSamples().ToList();
        Assert.Equal(samples.Select(s => s.Key), back.Select(s => s.Key));
        for (int i = 0; i < samples.Count; i++)
        {
            Assert.Equal(samples[i].Image, back[i].Image);
            Assert.Equal(samples[i].ImageExtension, back[i].ImageExtension);
            Assert.Equal(samples[i].Captions, back[i].Captions);
            Assert.Equal(samples[i].Metadata.ToJsonString(), back[i].Metadata.ToJsonString());
        }
    }

    [Fact]
    public void AnUnfinishedWriteLeavesNoShards()
    {
        var samples = ChineseClipDataset.ReadSamples(LmdbFixture.Directory, LmdbFixture.Split).ToList();
        using (var writer = new Img2DatasetWriter(Dir("partial"), samplesPerShard: 2))
        {
            foreach (var s in samples.Take(3)) writer.Write(s);
            Assert.Single(Directory.GetFiles(Dir("partial")));
        }
        Assert.Empty(Directory.GetFiles(Dir("partial")));
    }

    [Fact]
    public async Task MetadataOnlyParquetGetsAHint()
    {
        // What img2dataset leaves beside webdataset tars: the same columns without image bytes.
        var file = Path.Combine(Directory.CreateDirectory(Dir("meta")).FullName, "00000.parquet");
        var key = new DataField<string>("key", true);
        await using (var stream = File.Create(file))
        {
            await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(key), stream);
            using var g = writer.CreateRowGroup();
            await g.WriteAsync(key, new[] { "000000000" });
        }
        var e = Assert.Throws<TuwenException>(() => new Img2DatasetReader(Dir("meta")).ReadSamples().ToList());
        Assert.Contains("output_format=parquet", e.Message);
    }

    [Fact]
    public void NotParquetIsAnError()
    {
        Directory.CreateDirectory(Dir("bad"));
        File.WriteAllText(Path.Combine(Dir("bad"), "00000.parquet"), "not parquet");
        var e = Assert.Throws<TuwenException>(() => new Img2DatasetReader(Dir("bad")).ReadSamples().ToList());
        Assert.Contains("not a readable Parquet file", e.Message);
    }

    static (List<string> Names, Dictionary<string, object?[]> Rows) ReadTable(string file)
    {
        using var stream = File.OpenRead(file);
        var reader = ParquetReader.CreateAsync(stream).GetAwaiter().GetResult();
        try
        {
            var fields = reader.Schema.GetDataFields();
            using var g = reader.OpenRowGroupReader(0);
            int n = (int)g.RowCount;
            var rows = new Dictionary<string, object?[]>();
            foreach (var f in fields)
            {
                if (f.Name is "width" or "height" or "original_width" or "original_height")
                {
                    var v = new int?[n];
                    g.ReadAsync<int>(f, v.AsMemory(), null).AsTask().GetAwaiter().GetResult();
                    rows[f.Name] = [.. v.Select(x => (object?)x)];
                }
                else if (f.Name is "jpg" or "png")
                {
                    var v = new byte[]?[n];
                    g.ReadAsync(f, v.AsMemory()!, null).AsTask().GetAwaiter().GetResult();
                    rows[f.Name] = v;
                }
                else
                {
                    var v = new string?[n];
                    g.ReadAsync(f, v.AsMemory()!, null).AsTask().GetAwaiter().GetResult();
                    rows[f.Name] = v;
                }
            }
            return ([.. fields.Select(f => f.Name)], rows);
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
