using Tuwen.Evaluation;

namespace Tuwen.Cli;

/// <summary>Files a run directory gets besides the checkpoint: the loss curve from metrics.jsonl.</summary>
public static class Reports
{
    public static string? WriteLossPlot(string runDir)
    {
        var metrics = Path.Combine(runDir, "metrics.jsonl");
        var points = LossCurvePlot.ReadMetricsJsonl(metrics);
        if (points.Count == 0) return null;
        var png = Path.Combine(runDir, "loss.png");
        LossCurvePlot.Render(points, png);
        return png;
    }
}
