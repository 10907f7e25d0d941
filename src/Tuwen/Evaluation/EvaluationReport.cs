using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tuwen.Evaluation;

/// <summary>
/// The numbers of one evaluated model ("untrained", "trained", a checkpoint …) as eval.json (machine-readable,
/// key names fixed by <see cref="JsonSchema"/>) and as Markdown. Either part may be absent.
/// </summary>
public sealed record EvaluationReport(string Label, RetrievalResult? Retrieval = null, ZeroShotResult? ZeroShot = null)
{
    public const string JsonFileName = "eval.json";
    public const string MarkdownFileName = "eval.md";

    /// <summary>Bumped whenever a key is renamed or its meaning changes; readers check it.</summary>
    public const string JsonSchema = "tuwen.eval/1";

    /// <summary>Shown next to the retrieval numbers, e.g. "flickr8k-cn val".</summary>
    public string? RetrievalDataset { get; init; }

    /// <summary>Shown next to the zero-shot numbers, e.g. "cifar10".</summary>
    public string? ZeroShotDataset { get; init; }

    /// <summary>How pairs were scored when not by global-feature cosine (e.g. "token-wise"); null = cosine.</summary>
    public string? Scoring { get; init; }

    /// <summary>Writes eval.json and eval.md into <paramref name="directory"/> (created if missing); returns both paths.</summary>
    public (string JsonPath, string MarkdownPath) WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        var jsonPath = Path.Combine(directory, JsonFileName);
        var markdownPath = Path.Combine(directory, MarkdownFileName);
        File.WriteAllText(jsonPath, ToJson(), new UTF8Encoding(false));
        File.WriteAllText(markdownPath, ToMarkdown(), new UTF8Encoding(false));
        return (jsonPath, markdownPath);
    }

    public string ToJson()
    {
        var options = new JsonWriterOptions
        {
            Indented = true,
            // Keeps Chinese class names readable in the file instead of \uXXXX escapes.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, options))
        {
            json.WriteStartObject();
            json.WriteString("schema", JsonSchema);
            json.WriteString("label", Label);
            json.WritePropertyName("retrieval");
            if (Retrieval is null) json.WriteNullValue();
            else WriteRetrieval(json, Retrieval, RetrievalDataset, Scoring);
            json.WritePropertyName("zero_shot");
            if (ZeroShot is null) json.WriteNullValue();
            else WriteZeroShot(json, ZeroShot, ZeroShotDataset);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteRetrieval(Utf8JsonWriter json, RetrievalResult result, string? dataset, string? scoring)
    {
        json.WriteStartObject();
        WriteOptionalString(json, "dataset", dataset);
        WriteOptionalString(json, "scoring", scoring);
        json.WriteNumber("texts", result.Texts);
        json.WriteNumber("images", result.Images);
        json.WriteNumber("mean_recall", result.MeanRecall);
        WriteDirection(json, "text_to_image", result.TextToImage);
        WriteDirection(json, "image_to_text", result.ImageToText);
        json.WriteEndObject();
    }

    private static void WriteDirection(Utf8JsonWriter json, string name, RetrievalDirectionResult direction)
    {
        json.WriteStartObject(name);
        json.WriteNumber("queries", direction.Queries);
        json.WriteNumber("r1", direction.RecallAt1);
        json.WriteNumber("r5", direction.RecallAt5);
        json.WriteNumber("r10", direction.RecallAt10);
        json.WriteNumber("mean_recall", direction.MeanRecall);
        json.WriteNumber("mean_rank", direction.MeanRank);
        json.WriteNumber("median_rank", direction.MedianRank);
        json.WriteNumber("hits_at_1", direction.HitsAt1);
        json.WriteNumber("hits_at_5", direction.HitsAt5);
        json.WriteNumber("hits_at_10", direction.HitsAt10);
        json.WriteEndObject();
    }

    private static void WriteZeroShot(Utf8JsonWriter json, ZeroShotResult result, string? dataset)
    {
        json.WriteStartObject();
        WriteOptionalString(json, "dataset", dataset);
        json.WriteNumber("samples", result.Samples);
        json.WriteNumber("classes", result.ClassNames.Count);
        json.WriteNumber("top1", result.Top1Accuracy);
        json.WriteNumber("top5", result.Top5Accuracy);
        json.WriteNumber("top5_k", result.TopK);
        json.WriteNumber("mean_per_class_accuracy", result.MeanPerClassAccuracy);
        json.WriteNumber("hits_at_1", result.HitsAt1);
        json.WriteNumber("hits_at_5", result.HitsAtTopK);
        json.WriteStartArray("per_class");
        var perClass = result.PerClassAccuracy;
        for (int c = 0; c < result.ClassNames.Count; c++)
        {
            json.WriteStartObject();
            json.WriteString("class", result.ClassNames[c]);
            json.WriteNumber("samples", result.ClassSamples[c]);
            if (perClass[c] is double accuracy) json.WriteNumber("top1", accuracy);
            else json.WriteNull("top1");
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteOptionalString(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null) json.WriteNull(name);
        else json.WriteString(name, value);
    }

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.Append("## Evaluation: ").Append(EscapeCell(Label)).Append("\n\n");
        if (Retrieval is { } r)
        {
            md.Append("### Retrieval").Append(DatasetSuffix(RetrievalDataset, $"{r.Texts} texts, {r.Images} images"
                + (Scoring is null ? "" : $", scored {Scoring}"))).Append("\n\n");
            md.Append("| direction | R@1 | R@5 | R@10 | mean recall | mean_rank | median_rank |\n");
            md.Append("|---|---:|---:|---:|---:|---:|---:|\n");
            AppendDirectionRow(md, "text→image", r.TextToImage);
            AppendDirectionRow(md, "image→text", r.ImageToText);
            md.Append("\nMean recall over both directions (Chinese-CLIP's MR, mean of the six recalls): **")
              .Append(Number(r.MeanRecall)).Append("**\n\n");
        }
        if (ZeroShot is { } z)
        {
            md.Append("### Zero-shot classification")
              .Append(DatasetSuffix(ZeroShotDataset, $"{z.Samples} images, {z.ClassNames.Count} classes")).Append("\n\n");
            md.Append("| top-1 | top-").Append(z.TopK).Append(" | mean per-class top-1 |\n|---:|---:|---:|\n");
            md.Append("| ").Append(Number(z.Top1Accuracy)).Append(" | ").Append(Number(z.Top5Accuracy))
              .Append(" | ").Append(Number(z.MeanPerClassAccuracy)).Append(" |\n\n");
        }
        if (Retrieval is null && ZeroShot is null) md.Append("No results.\n\n");
        md.Append("Recalls and accuracies in %. Ties with the correct answer count as misses.\n");
        return md.ToString();
    }

    /// <summary>
    /// One row per report, e.g. "untrained" against "trained"; cells without a result show "–".
    /// The last column is top-5, or top-min(5, classes) where there are fewer classes.
    /// </summary>
    public static string ComparisonMarkdown(IEnumerable<EvaluationReport> reports)
    {
        var md = new StringBuilder();
        md.Append("| model | T→I R@1 | T→I R@5 | T→I R@10 | I→T R@1 | I→T R@5 | I→T R@10 | mean recall | zero-shot top-1 | zero-shot top-5 |\n");
        md.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var report in reports)
        {
            var r = report.Retrieval;
            var z = report.ZeroShot;
            string[] cells =
            [
                EscapeCell(report.Label),
                Number(r?.TextToImage.RecallAt1), Number(r?.TextToImage.RecallAt5), Number(r?.TextToImage.RecallAt10),
                Number(r?.ImageToText.RecallAt1), Number(r?.ImageToText.RecallAt5), Number(r?.ImageToText.RecallAt10),
                Number(r?.MeanRecall), Number(z?.Top1Accuracy), Number(z?.Top5Accuracy),
            ];
            md.Append("| ").Append(string.Join(" | ", cells)).Append(" |\n");
        }
        return md.ToString();
    }

    private static void AppendDirectionRow(StringBuilder md, string name, RetrievalDirectionResult d)
    {
        md.Append("| ").Append(name)
          .Append(" | ").Append(Number(d.RecallAt1)).Append(" | ").Append(Number(d.RecallAt5))
          .Append(" | ").Append(Number(d.RecallAt10)).Append(" | ").Append(Number(d.MeanRecall))
          .Append(" | ").Append(Number(d.MeanRank)).Append(" | ").Append(Number(d.MedianRank)).Append(" |\n");
    }

    private static string DatasetSuffix(string? dataset, string counts) =>
        dataset is null ? $" ({counts})" : $" — {EscapeCell(dataset)} ({counts})";

    private static string Number(double? value) =>
        value is double v ? v.ToString("F2", CultureInfo.InvariantCulture) : "–";

    private static string EscapeCell(string text) => text.Replace("|", "\\|").Replace("\n", " ");
}
