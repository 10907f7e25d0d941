using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Tuwen.Training;

/// <summary>Training-time image augmentation (random-resized-crop scale range).</summary>
public sealed record AugmentConfig
{
    public double CropScaleMin { get; init; } = 0.5;
    public double CropScaleMax { get; init; } = 1.0;
}

/// <summary>
/// A training recipe (configs/train/NAME.json): model size, objective, optimisation and data settings.
/// Stored in every checkpoint so a run can be resumed or reproduced; command-line options override keys.
/// </summary>
public sealed record TrainConfig
{
    public string Model { get; init; } = "tiny";
    public string Objective { get; init; } = "clip";
    public JsonObject? ObjectiveOptions { get; init; }
    /// <summary>fp32, or bf16 (matmuls in bfloat16 through Models.Autocast; weights and optimizer stay fp32).</summary>
    public string Precision { get; init; } = "bf16";
    /// <summary>Recompute transformer blocks in backward instead of keeping their activations (less memory,
    /// about one more forward pass of time); see Models.ActivationCheckpoint.</summary>
    public bool GradCheckpointing { get; init; }
    public int BatchSize { get; init; } = 256;
    /// <summary>Micro-batches per optimizer step; each micro-batch contrasts within itself.</summary>
    public int AccumSteps { get; init; } = 1;
    /// <summary>Gradient caching: embed each batch in micro-batches of this many pairs and backpropagate the
    /// full-batch contrastive loss through them (<see cref="GradientCache"/>); 0 = off.</summary>
    public int ContrastiveMicroBatch { get; init; }
    /// <summary>Total optimizer steps; when 0, <see cref="Epochs"/> decides.</summary>
    public int Steps { get; init; }
    public double Epochs { get; init; } = 10;
    public double Lr { get; init; } = 1e-3;
    public double MinLr { get; init; }
    public int WarmupSteps { get; init; } = 100;
    public double WeightDecay { get; init; } = 0.2;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.98;
    public double Eps { get; init; } = 1e-6;
    public double GradClip { get; init; } = 1.0;
    public int Seed { get; init; } = 42;
    public int SaveEvery { get; init; } = 500;
    public int LogEvery { get; init; } = 10;
    public int Workers { get; init; } = 2;
    public int ShuffleBuffer { get; init; } = 4000;
    /// <summary>Text length in tokens; 0 = the model config's context_length.</summary>
    public int ContextLength { get; init; }
    public AugmentConfig Augment { get; init; } = new();

    // Data parallelism (tuwen train --launcher mpi). batch_size stays the global batch at any world size, so
    // one recipe means the same optimisation on 1 or N processes; each rank takes batch_size / world size.
    /// <summary>"shards": each rank reads its own shards; "samples": each its slice of every global batch (see Data.DataSplit).</summary>
    public string DataSplit { get; init; } = "shards";
    /// <summary>Gradient all-reduce on the wire: fp32, or bf16 (half the bytes, sums rounded to bf16).</summary>
    public string AllreduceDtype { get; init; } = "fp32";
    public double AllreduceBucketMb { get; init; } = 25;

    public static TrainConfig Parse(string json, string source)
    {
        TrainConfig? c;
        try { c = JsonSerializer.Deserialize<TrainConfig>(json, Models.ModelConfig.Json); }
        catch (JsonException e) { throw new TuwenException($"bad training config {source}: {e.Message}"); }
        return (c ?? throw new TuwenException($"empty training config {source}")).Validate(source);
    }

    public static TrainConfig Load(string nameOrPath)
    {
        var path = File.Exists(nameOrPath) ? nameOrPath : Models.ConfigFiles.Find("train", nameOrPath);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Overrides single keys, e.g. "lr=5e-4" or "augment.crop_scale_min=0.8", as JSON values.</summary>
    public TrainConfig With(IEnumerable<string> assignments)
    {
        var node = JsonSerializer.SerializeToNode(this, Models.ModelConfig.Json)!.AsObject();
        foreach (var a in assignments)
        {
            var eq = a.IndexOf('=');
            if (eq <= 0) throw new TuwenException($"bad override '{a}' (use key=value)");
            var path = a[..eq].Trim().Split('.');
            var raw = a[(eq + 1)..].Trim();
            JsonNode? value;
            try { value = JsonNode.Parse(raw); } catch (JsonException) { value = JsonValue.Create(raw); }
            var target = node;
            for (var i = 0; i < path.Length - 1; i++)
            {
                // objective_options is free-form and absent from most recipes: create it on first use.
                if (i == 0 && path[0] == "objective_options" && target[path[0]] is null) target[path[0]] = new JsonObject();
                target = target[path[i]] as JsonObject ?? throw new TuwenException($"unknown training config key '{a[..eq]}'");
            }
            if (!target.ContainsKey(path[^1]) && path[0] != "objective_options")
                throw new TuwenException($"unknown training config key '{a[..eq]}'");
            target[path[^1]] = value;
        }
        return Parse(node.ToJsonString(), "overrides");
    }

    public string ToJson() => JsonSerializer.Serialize(this, Models.ModelConfig.Json);

    public TrainConfig Validate(string source)
    {
        void Check(bool ok, string what) { if (!ok) throw new TuwenException($"bad training config {source}: {what}"); }
        Check(BatchSize >= 2, "batch_size must be at least 2 (contrastive losses need negatives)");
        Check(AccumSteps >= 1, "accum_steps must be at least 1");
        Check(ContrastiveMicroBatch >= 0 && ContrastiveMicroBatch <= BatchSize, "contrastive_micro_batch must be between 0 (off) and batch_size");
        Check(ContrastiveMicroBatch == 0 || GradientCache.SupportedObjectives.Contains(Objective), GradientCache.Unsupported(Objective));
        Check(Steps > 0 || Epochs > 0, "steps or epochs must be positive");
        Check(Lr > 0 && MinLr >= 0 && MinLr <= Lr, "need lr > 0 and 0 <= min_lr <= lr");
        Check(WarmupSteps >= 0 && WeightDecay >= 0 && GradClip >= 0, "warmup_steps, weight_decay, grad_clip must be >= 0");
        Check(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1 && Eps > 0, "betas must be in [0,1), eps > 0");
        Check(Workers >= 1 && ShuffleBuffer >= 1 && LogEvery >= 1 && SaveEvery >= 1, "workers, shuffle_buffer, log_every, save_every must be >= 1");
        Check(Augment.CropScaleMin > 0 && Augment.CropScaleMin <= Augment.CropScaleMax && Augment.CropScaleMax <= 1, "augment crop scales must satisfy 0 < min <= max <= 1");
        Models.Autocast.Parse(Precision);
        Data.DataPartition.ParseSplit(DataSplit);
        Check(AllreduceDtype is "fp32" or "bf16", $"allreduce_dtype must be fp32 or bf16, not '{AllreduceDtype}'");
        Check(AllreduceBucketMb > 0, "allreduce_bucket_mb must be positive");
        return this;
    }
}
