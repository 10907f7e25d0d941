using System.Text.Json;

namespace Tuwen.Evaluation;

/// <summary>One training log point; <see cref="LearningRate"/> is null where the log has none.</summary>
public readonly record struct LossPoint(long Step, double Loss, double? LearningRate = null);

/// <summary>
/// Training-loss curve (and learning rate on a right-hand axis when present) as a PNG, drawn with ScottPlot,
/// which renders through SkiaSharp and so needs no display.
/// </summary>
public static class LossCurvePlot
{
    public const int DefaultWidth = 900;
    public const int DefaultHeight = 500;

    /// <summary>Below this many points the raw curve is readable on its own and no moving average is drawn.</summary>
    private const int SmoothingThreshold = 100;

    /// <summary>
    /// Reads a metrics.jsonl: one JSON object per line with "step" and "loss", optionally "lr" (or
    /// "learning_rate"). Lines without step or a finite loss (evaluation records, say) are skipped.
    /// </summary>
    public static IReadOnlyList<LossPoint> ReadMetricsJsonl(string path)
    {
        if (!File.Exists(path)) throw new TuwenException($"metrics file not found: {path}");
        var points = new List<LossPoint>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw new TuwenException($"{path}:{lineNumber}: not valid JSON ({e.Message})", e);
            }
            using (document)
            {
                if (TryReadPoint(document.RootElement, out var point)) points.Add(point);
            }
        }
        return points;
    }

    private static bool TryReadPoint(JsonElement record, out LossPoint point)
    {
        point = default;
        if (record.ValueKind != JsonValueKind.Object) return false;
        if (!record.TryGetProperty("step", out var step) || !step.TryGetInt64(out long stepValue)) return false;
        if (!record.TryGetProperty("loss", out var loss) || loss.ValueKind != JsonValueKind.Number) return false;
        double lossValue = loss.GetDouble();
        if (!double.IsFinite(lossValue)) return false;
        double? learningRate = null;
        if ((record.TryGetProperty("lr", out var lr) || record.TryGetProperty("learning_rate", out lr))
            && lr.ValueKind == JsonValueKind.Number)
            learningRate = lr.GetDouble();
        point = new LossPoint(stepValue, lossValue, learningRate);
        return true;
    }

    public static void Render(IReadOnlyList<LossPoint> points, string pngPath, string title = "Training loss",
        int width = DefaultWidth, int height = DefaultHeight)
    {
        if (points.Count == 0) throw new ArgumentException("no loss points to plot", nameof(points));
        if (width < 100 || height < 100) throw new ArgumentOutOfRangeException(nameof(width), "plot must be at least 100x100 pixels");

        var ordered = points.OrderBy(p => p.Step).ToArray();
        double[] steps = ordered.Select(p => (double)p.Step).ToArray();
        double[] losses = ordered.Select(p => p.Loss).ToArray();

        var plot = new ScottPlot.Plot();
        var raw = plot.Add.ScatterLine(steps, losses);
        raw.LegendText = "loss";
        raw.LineWidth = 1;
        if (ordered.Length >= SmoothingThreshold)
        {
            raw.Color = raw.Color.WithAlpha(0.35);
            var smooth = plot.Add.ScatterLine(steps, TrailingMean(losses, Math.Max(2, ordered.Length / 50)));
            smooth.LegendText = "loss (moving average)";
            smooth.LineWidth = 2;
            smooth.Color = raw.Color.WithAlpha(1.0);
        }

        var withRate = ordered.Where(p => p.LearningRate.HasValue).ToArray();
        if (withRate.Length > 0)
        {
            var rate = plot.Add.ScatterLine(
                withRate.Select(p => (double)p.Step).ToArray(),
                withRate.Select(p => p.LearningRate!.Value).ToArray());
            rate.LegendText = "learning rate";
            rate.LineWidth = 1;
            rate.LinePattern = ScottPlot.LinePattern.Dashed;
            rate.Color = ScottPlot.Colors.DarkOrange;
            rate.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "learning rate";
        }

        plot.Title(title);
        plot.Axes.Bottom.Label.Text = "step";
        plot.Axes.Left.Label.Text = "loss";
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);

        var directory = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (directory != null) Directory.CreateDirectory(directory);
        plot.SavePng(pngPath, width, height);
    }

    /// <summary>Mean of the last <paramref name="window"/> values (fewer at the start), so the curve lags but never looks ahead.</summary>
    public static double[] TrailingMean(double[] values, int window)
    {
        var result = new double[values.Length];
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
