using System.Globalization;
using System.Text.Json;
using SkiaSharp;
using Tuwen.Evaluation;

namespace Tuwen.Tests.Evaluation;

public sealed class ReportTests : IDisposable
{
    /// <summary>PNGs are kept beside the test binaries (not deleted) so a person can look at them.</summary>
    private static readonly string ArtifactDirectory = Path.Combine(AppContext.BaseDirectory, "evaluation-artifacts");

    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("tuwen-report-");

    public void Dispose() => _scratch.Delete(recursive: true);

    // t2i ranks 1,1,2,7 → R@1 50, R@5 75, R@10 100, mean rank 2.75, median floor(1.5) = 1.
    // i2t ranks 1,3   → R@1 50, R@5 100, R@10 100, mean rank 2, median 2.
    private static RetrievalResult SmallRetrieval() => new(
        RetrievalDirectionResult.FromRanks([1, 1, 2, 7]),
        RetrievalDirectionResult.FromRanks([1, 3]));

    private static ZeroShotResult SmallZeroShot() => new(["猫", "狗", "鸟"], TopK: 3, Samples: 4, HitsAt1: 3, HitsAtTopK: 4,
        ClassSamples: [2, 2, 0], ClassHitsAt1: [2, 1, 0]);

    [Fact]
    public void EvalJson_HasStableKeysAndTheNumbers()
    {
        var report = new EvaluationReport("trained", SmallRetrieval(), SmallZeroShot()) { RetrievalDataset = "flickr8k-cn val" };
        var (jsonPath, markdownPath) = report.WriteTo(Path.Combine(_scratch.FullName, "run"));

        Assert.Equal("eval.json", Path.GetFileName(jsonPath));
        Assert.True(File.Exists(markdownPath));
        var text = File.ReadAllText(jsonPath);
        Assert.Contains("\"猫\"", text); // readable Chinese, not \u escapes
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal("tuwen.eval/1", root.GetProperty("schema").GetString());
        Assert.Equal("trained", root.GetProperty("label").GetString());

        var retrieval = root.GetProperty("retrieval");
        Assert.Equal("flickr8k-cn val", retrieval.GetProperty("dataset").GetString());
        Assert.Equal(4, retrieval.GetProperty("texts").GetInt32());
        Assert.Equal(2, retrieval.GetProperty("images").GetInt32());
        Assert.Equal((50 + 75 + 100 + 50 + 100 + 100) / 6.0, retrieval.GetProperty("mean_recall").GetDouble(), 1e-9);
        var t2i = retrieval.GetProperty("text_to_image");
        Assert.Equal(50.0, t2i.GetProperty("r1").GetDouble());
        Assert.Equal(75.0, t2i.GetProperty("r5").GetDouble());
        Assert.Equal(100.0, t2i.GetProperty("r10").GetDouble());
        Assert.Equal(2.75, t2i.GetProperty("mean_rank").GetDouble());
        Assert.Equal(1.0, t2i.GetProperty("median_rank").GetDouble());
        Assert.Equal(3, t2i.GetProperty("hits_at_5").GetInt32());
        Assert.Equal(2.0, retrieval.GetProperty("image_to_text").GetProperty("median_rank").GetDouble());

        var zeroShot = root.GetProperty("zero_shot");
        Assert.Equal(JsonValueKind.Null, zeroShot.GetProperty("dataset").ValueKind);
        Assert.Equal(75.0, zeroShot.GetProperty("top1").GetDouble());
        Assert.Equal(100.0, zeroShot.GetProperty("top5").GetDouble());
        Assert.Equal(3, zeroShot.GetProperty("top5_k").GetInt32());
        Assert.Equal(75.0, zeroShot.GetProperty("mean_per_class_accuracy").GetDouble()); // (100 + 50) / 2, 鸟 has no samples
        var perClass = zeroShot.GetProperty("per_class");
        Assert.Equal("狗", perClass[1].GetProperty("class").GetString());
        Assert.Equal(50.0, perClass[1].GetProperty("top1").GetDouble());
        Assert.Equal(JsonValueKind.Null, perClass[2].GetProperty("top1").ValueKind);
    }

    [Fact]
    public void EvalJson_WritesNullForMissingParts()
    {
        using var json = JsonDocument.Parse(new EvaluationReport("untrained").ToJson());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("retrieval").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("zero_shot").ValueKind);
    }

    [Fact]
    public void Markdown_HasTheTables()
    {
        var markdown = new EvaluationReport("trained", SmallRetrieval(), SmallZeroShot()).ToMarkdown();
        Assert.Contains("| text→image | 50.00 | 75.00 | 100.00 | 75.00 | 2.75 | 1.00 |", markdown);
        Assert.Contains("| image→text | 50.00 | 100.00 | 100.00 | 83.33 | 2.00 | 2.00 |", markdown);
        Assert.Contains("**79.17**", markdown); // mean of the six recalls
        Assert.Contains("| top-1 | top-3 | mean per-class top-1 |", markdown);
        Assert.Contains("| 75.00 | 100.00 | 75.00 |", markdown);
    }

    [Fact]
    public void ComparisonTable_HasOneRowPerReport()
    {
        var table = EvaluationReport.ComparisonMarkdown(
        [
            new EvaluationReport("untrained", SmallRetrieval()),
            new EvaluationReport("trained|v2", SmallRetrieval(), SmallZeroShot()),
        ]);
        var lines = table.TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal("| untrained | 50.00 | 75.00 | 100.00 | 50.00 | 100.00 | 100.00 | 79.17 | – | – |", lines[2]);
        Assert.Equal("| trained\\|v2 | 50.00 | 75.00 | 100.00 | 50.00 | 100.00 | 100.00 | 79.17 | 75.00 | 100.00 |", lines[3]);
    }

    [Fact]
    public void CjkFont_CanDrawChinese()
    {
        Assert.True(CjkFont.HasChineseGlyphs, $"typeface {CjkFont.Typeface.FamilyName} has no glyph for 中");
    }

    [Fact]
    public void RetrievalGrid_RendersChineseQueriesAndOutlinesCorrectImages()
    {
        var data = Flickr8kCnVal.Instance;
        // Query captions of images 0, 1, 2; "retrieved" lists where the right image is 1st, 3rd and absent.
        int[] queries = [0, 5, 10];
        int[][] top = [[0, 7, 8, 9, 10], [11, 12, 1, 13, 14], [15, 16, 17, 18, 19]];
        var rows = RetrievalGrid.BuildRows(queries.Select(q => data.Captions[q]).ToArray(), top,
            queries.Select(q => data.CaptionToImage[q]).ToArray(),
            image => File.ReadAllBytes(Flickr8kCnVal.ImagePath(data.ImageIds[image])));
        var path = Path.Combine(ArtifactDirectory, "retrieval-grid.png");

        RetrievalGrid.Render(rows, path);

        using var png = SKBitmap.Decode(path);
        Assert.NotNull(png);
        // 12 margin + 300 query column + 5 × (160 thumbnail + 12 gap) wide; 12 + 3 × (160 + 12) high.
        Assert.Equal((1172, 528), (png.Width, png.Height));
        Assert.Equal((1172, 528), RetrievalGrid.CanvasSize(3, 5));
        var green = new SKColor(0x1E, 0xA0, 0x3C);
        Assert.Equal(green, png.GetPixel(312 + 1, 12 + 80));                 // row 0, image 0: left edge of the outline
        Assert.Equal(green, png.GetPixel(312 + 2 * 172 + 80, 184 + 1));      // row 1, image 2: top edge
        Assert.NotEqual(green, png.GetPixel(312 + 172 + 1, 12 + 80));        // row 0, image 1: wrong, grey frame
        Assert.NotEqual(green, png.GetPixel(312 + 1, 356 + 80));             // row 2 has no correct image
        Assert.True(CountDarkPixels(png, new SKRectI(12, 12, 300, 172)) > 50, "no query text drawn");
    }

    [Fact]
    public void RetrievalGrid_WrapsLongQueriesWithinTheColumnAndEllipsises()
    {
        using var font = new SKFont(CjkFont.Typeface, RetrievalGrid.QueryFontSize);
        var lines = RetrievalGrid.WrapText(string.Concat(Enumerable.Repeat("一只黑白相间的狗在草地上奔跑。", 20)), font, 288, maxLines: 3);
        Assert.Equal(3, lines.Count);
        Assert.All(lines, l => Assert.True(font.MeasureText(l) <= 288, $"line too wide: {l}"));
        Assert.EndsWith("…", lines[2]);
        Assert.Equal(["短句"], RetrievalGrid.WrapText("短句", font, 288, maxLines: 3));
    }

    [Fact]
    public void LossCurve_ReadsMetricsJsonlAndRendersPng()
    {
        var metrics = Path.Combine(_scratch.FullName, "metrics.jsonl");
        var lines = Enumerable.Range(0, 300).Select(step => string.Format(CultureInfo.InvariantCulture,
            "{{\"step\": {0}, \"loss\": {1}, \"lr\": {2}}}", step, 4.0 * Math.Exp(-step / 80.0) + 0.3 * Math.Sin(step), 1e-4 * Math.Min(1, step / 30.0)))
            .Append("{\"step\": 300, \"eval\": {\"mean_recall\": 12.5}}")   // not a loss record
            .Append("{\"step\": 301, \"loss\": 0.5, \"learning_rate\": 2e-5}");
        File.WriteAllLines(metrics, lines);

        var points = LossCurvePlot.ReadMetricsJsonl(metrics);

        Assert.Equal(301, points.Count);
        Assert.Equal(new LossPoint(301, 0.5, 2e-5), points[^1]);
        Assert.Equal(4.0, points[0].Loss, 1e-12);
        var path = Path.Combine(ArtifactDirectory, "loss-curve.png");
        LossCurvePlot.Render(points, path);
        using var png = SKBitmap.Decode(path);
        Assert.NotNull(png);
        Assert.Equal((LossCurvePlot.DefaultWidth, LossCurvePlot.DefaultHeight), (png.Width, png.Height));
        Assert.True(CountDarkPixels(png, new SKRectI(0, 0, png.Width, png.Height)) > 500, "no axes or labels drawn");
    }

    [Fact]
    public void TrailingMean_AveragesTheLastWindow()
    {
        Assert.Equal([1.0, 1.5, 2.5, 3.5], LossCurvePlot.TrailingMean([1, 2, 3, 4], 2));
    }

    private static int CountDarkPixels(SKBitmap bitmap, SKRectI area)
    {
        int dark = 0;
        for (int y = area.Top; y < area.Bottom; y++)
            for (int x = area.Left; x < area.Right; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red + c.Green + c.Blue < 200) dark++;
            }
        return dark;
    }
}
