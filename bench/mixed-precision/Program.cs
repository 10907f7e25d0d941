// Report side of the mixed-precision bench: reads the metrics.jsonl of two `tuwen train` runs that differ
// only in precision (fp32, bf16) and writes the loss table, the smoothed-curve gap, throughput, and an
// overlay PNG of both curves.
// Usage: MixedPrecision FP32_RUN_DIR BF16_RUN_DIR BATCH COMMIT RESULTS_DIR [OVERRIDES] → prints the Markdown table.
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuwen.Evaluation;

var runs = new[] { ("fp32", args[0]), ("bf16", args[1]) }.Select(r => Run.Read(r.Item1, r.Item2)).ToArray();
var batch = int.Parse(args[2], CultureInfo.InvariantCulture);
string commit = args[3], resultsDir = args[4], overrides = args.Length > 5 ? args[5].Trim() : "";
var (fp32, bf16) = (runs[0], runs[1]);
if (!fp32.Steps.SequenceEqual(bf16.Steps)) throw new InvalidOperationException("the two runs logged different steps");

// Single-step losses are noisy (a new batch each step); compare trailing means over this many log points.
const int Window = 5;
double[] smooth32 = LossCurvePlot.TrailingMean(fp32.Losses, Window), smooth16 = LossCurvePlot.TrailingMean(bf16.Losses, Window);
var gaps = smooth32.Zip(smooth16, (a, b) => Math.Abs(a - b)).ToArray();
var maxGap = gaps.Max();
var worst = fp32.Steps[Array.IndexOf(gaps, maxGap)];
var drop = smooth32[0] - smooth32[^1];
var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
var date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
string F(double v, string format = "F4") => v.ToString(format, CultureInfo.InvariantCulture);

var md = new StringBuilder()
    .AppendLine($"# mixed-precision ({date}, commit {commit}, {Environment.ProcessorCount} cores, {cpu})").AppendLine()
    .AppendLine($"`tuwen train` on the emoji-zh quickstart recipe (tiny model, batch {batch}; the recipe has 256{(overrides.Length > 0 ? $"; also {overrides}" : "")}), {fp32.Steps[^1]} steps, same seed and data order, " +
                "fp32 vs bf16 (bf16 matmuls, fp32 master weights, norms, loss and AdamW state). Loss = that step's batch loss; " +
                $"smoothed = trailing mean of {Window} log points. Baseline: the fp32 run.").AppendLine()
    .AppendLine("| step | fp32 loss | bf16 loss | fp32 smoothed | bf16 smoothed | smoothed Δ (bf16 − fp32) |")
    .AppendLine("|---:|---:|---:|---:|---:|---:|");
var every = Math.Max(1, fp32.Steps.Length / 10);
for (var i = 0; i < fp32.Steps.Length; i++)
    if (i % every == every - 1 || i == fp32.Steps.Length - 1)
        md.AppendLine($"| {fp32.Steps[i]} | {F(fp32.Losses[i])} | {F(bf16.Losses[i])} | {F(smooth32[i])} | {F(smooth16[i])} | {F(smooth16[i] - smooth32[i], "+0.0000;-0.0000")} |");
double pps32 = fp32.PairsPerSecond(batch), pps16 = bf16.PairsPerSecond(batch);
md.AppendLine()
  .AppendLine("| | fp32 | bf16 | bf16 / fp32 |").AppendLine("|---|---:|---:|---:|")
  .AppendLine($"| final loss (smoothed) | {F(smooth32[^1])} | {F(smooth16[^1])} | {F(smooth16[^1] / smooth32[^1], "F3")} |")
  .AppendLine($"| pairs/s (whole run) | {F(pps32, "F0")} | {F(pps16, "F0")} | {F(pps16 / pps32, "F2")} |")
  .AppendLine()
  .AppendLine($"Max |Δ| of the smoothed curves: {F(maxGap)} (at step {worst}), against an fp32 smoothed loss drop of {F(drop)} " +
              $"over the run ({F(drop > 0 ? 100 * maxGap / drop : double.NaN, "F1")} % of it). Curves: mixed-precision.png.");

Directory.CreateDirectory(resultsDir);
File.WriteAllText(Path.Combine(resultsDir, "mixed-precision.md"), md.ToString());
var json = new JsonObject
{
    ["bench"] = "mixed-precision", ["date"] = date, ["commit"] = commit, ["nproc"] = Environment.ProcessorCount, ["cpu"] = cpu,
    ["recipe"] = "quickstart", ["overrides"] = overrides, ["batch"] = batch, ["steps"] = fp32.Steps[^1], ["smoothing_window"] = Window,
    ["max_abs_smoothed_delta"] = maxGap, ["max_delta_step"] = worst, ["fp32_smoothed_drop"] = drop,
    ["final_smoothed"] = new JsonObject { ["fp32"] = smooth32[^1], ["bf16"] = smooth16[^1] },
    ["pairs_per_s"] = new JsonObject { ["fp32"] = pps32, ["bf16"] = pps16, ["ratio"] = pps16 / pps32 },
    ["rows"] = new JsonArray(fp32.Steps.Select((s, i) => (JsonNode)new JsonObject
    {
        ["step"] = s, ["fp32"] = fp32.Losses[i], ["bf16"] = bf16.Losses[i], ["fp32_smoothed"] = smooth32[i], ["bf16_smoothed"] = smooth16[i],
    }).ToArray()),
};
File.WriteAllText(Path.Combine(resultsDir, "mixed-precision.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
Overlay.Render(runs, smooth32, smooth16, Path.Combine(resultsDir, "mixed-precision.png"));
Console.Write(md);

internal sealed record Run(string Precision, long[] Steps, double[] Losses, double TrainSeconds)
{
    public static Run Read(string precision, string runDir)
    {
        var path = Path.Combine(runDir, "metrics.jsonl");
        var points = LossCurvePlot.ReadMetricsJsonl(path);
        if (points.Count == 0) throw new InvalidOperationException($"{runDir}: no metrics");
        var trainSeconds = JsonNode.Parse(File.ReadLines(path).Last(l => l.Length > 0))!["train_s"]!.GetValue<double>();
        return new Run(precision, points.Select(p => p.Step).ToArray(), points.Select(p => p.Loss).ToArray(), trainSeconds);
    }

    public double PairsPerSecond(int batch) => Steps[^1] * (double)batch / TrainSeconds;
}

internal static class Overlay
{
    public static void Render(Run[] runs, double[] smooth32, double[] smooth16, string png)
    {
        var plot = new ScottPlot.Plot();
        var colors = new[] { ScottPlot.Colors.SteelBlue, ScottPlot.Colors.OrangeRed };
        foreach (var (run, smooth, color) in runs.Zip([smooth32, smooth16], colors))
        {
            var steps = run.Steps.Select(s => (double)s).ToArray();
            var raw = plot.Add.ScatterLine(steps, run.Losses);
            raw.Color = color.WithAlpha(0.3);
            raw.LineWidth = 1;
            var line = plot.Add.ScatterLine(steps, smooth);
            line.Color = color;
            line.LineWidth = 2;
            line.LegendText = $"{run.Precision} (smoothed)";
            // bf16 dashed over fp32: where the curves coincide both stay visible.
            if (run.Precision == "bf16") line.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        plot.Title("emoji-zh quickstart: training loss, fp32 vs bf16");
        plot.Axes.Bottom.Label.Text = "step";
        plot.Axes.Left.Label.Text = "CLIP loss";
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(png, 900, 500);
    }
}
