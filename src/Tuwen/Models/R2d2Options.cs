using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuwen.Models;

/// <summary>How the ranking stage picks each row's negative from the batch.</summary>
public enum HardNegativeMode { Hardest, Sample }

/// <summary>R2D2's settings (recipe key objective_options). Paper values that could not be verified are
/// marked; the defaults then follow the closest documented practice.</summary>
public sealed record R2d2Options
{
    public int CrossLayers { get; init; } = 2;
    public int QueueSize { get; init; } = 1024;
    public double Momentum { get; init; } = 0.995;
    /// <summary>Weight of the one-hot targets in ỹ = α·y + (1−α)·softmax(teacher/τ). R2D2's α is not verified;
    /// 0.6 is ALBEF's momentum distillation (0.4 on the teacher).</summary>
    public double Alpha { get; init; } = 0.6;
    /// <summary>τ of the teacher's softmax; null = the teacher's own learned temperature.</summary>
    public double? TeacherTemperature { get; init; }
    /// <summary>Per-step down-weighting of queue entries in the teacher's targets (the paper note's 0.99; 1 = none).</summary>
    public double QueueDecay { get; init; } = 1.0;
    public HardNegativeMode HardNegatives { get; init; } = HardNegativeMode.Hardest;
    public double MaskRatio { get; init; } = 0.15;
    public double ItmWeight { get; init; } = 1.0;
    public double FgdWeight { get; init; } = 1.0;
    public int RerankK { get; init; } = 16;
    public long Seed { get; init; } = 1;

    public static readonly string[] Known =
        ["cross_layers", "queue_size", "momentum", "alpha", "teacher_temperature", "queue_decay", "hard_negatives", "mask_ratio",
         "itm_weight", "fgd_weight", "rerank_k", "seed"];

    public static R2d2Options Parse(JsonObject o)
    {
        var read = new Objectives.ObjectiveOptions("r2d2", o, Known);
        double Num(string k, double d) => read.Number(k, d);
        int Int(string k, int d) => read.Int(k, d);
        var mode = read.Text("hard_negatives") ?? "hardest";
        var r = new R2d2Options
        {
            CrossLayers = Int("cross_layers", 2), QueueSize = Int("queue_size", 1024), Momentum = Num("momentum", 0.995),
            Alpha = Num("alpha", 0.6), TeacherTemperature = read.Number("teacher_temperature"),
            QueueDecay = Num("queue_decay", 1.0), MaskRatio = Num("mask_ratio", 0.15), ItmWeight = Num("itm_weight", 1), FgdWeight = Num("fgd_weight", 1),
            RerankK = Int("rerank_k", 16), Seed = read.Long("seed", 1),
            HardNegatives = mode switch
            {
                "hardest" => HardNegativeMode.Hardest,
                "sample" => HardNegativeMode.Sample,
                _ => throw new TuwenException($"r2d2 option hard_negatives must be 'hardest' or 'sample', got '{mode}'"),
            },
        };
        if (r.CrossLayers < 1) throw new TuwenException($"r2d2 option cross_layers must be at least 1, got {r.CrossLayers}");
        if (r.QueueSize < 1) throw new TuwenException($"r2d2 option queue_size must be at least 1, got {r.QueueSize}");
        if (r.RerankK < 1) throw new TuwenException($"r2d2 option rerank_k must be at least 1, got {r.RerankK}");
        foreach (var (name, v) in new[] { ("momentum", r.Momentum), ("alpha", r.Alpha), ("mask_ratio", r.MaskRatio) })
            if (v is < 0 or > 1) throw new TuwenException($"r2d2 option {name} must be in [0, 1], got {v}");
        if (r.QueueDecay is <= 0 or > 1) throw new TuwenException($"r2d2 option queue_decay must be in (0, 1], got {r.QueueDecay}");
        if (r.TeacherTemperature is <= 0) throw new TuwenException($"r2d2 option teacher_temperature must be positive, got {r.TeacherTemperature}");
        if (r.ItmWeight < 0 || r.FgdWeight < 0) throw new TuwenException("r2d2 options itm_weight and fgd_weight must not be negative");
        return r;
    }
}
