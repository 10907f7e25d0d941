using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Models;
using Tuwen.Tests.Corpus;
using Tuwen.Tests.Data;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Objectives;

/// <summary>What a short run of an objective on emoji-zh produced.</summary>
public sealed record ObjectiveRun(TrainResult Result, EvaluationReport Report, IReadOnlyList<JsonObject> Metrics, Checkpoint Checkpoint);

/// <summary>
/// Trains an objective for a few steps on a slice of the real emoji-zh corpus through the same path as
/// `tuwen train` (TrainingJob → Trainer → checkpoint), stops half-way and resumes, then evaluates the
/// checkpoint as `tuwen eval` would (LoadedModel.FromCheckpoint → the objective's scorer). Every method's test
/// uses this, so each is shown to work with the shared trainer, checkpoints, resume and evaluation.
/// </summary>
public static class ObjectiveTraining
{
    /// <summary>A micro ViT + BERT: 32 px, 4×4 patches of 8 px, 1 layer each, 32-d joint space.</summary>
    public static ModelConfig MicroVit { get; } = new()
    {
        Name = "micro-vit", EmbedDim = 32,
        Vision = new VisionConfig { Type = "vit", ImageSize = 32, PatchSize = 8, Width = 32, Layers = 1, Heads = 2 },
        Text = new TextConfig { VocabSize = 21128, ContextLength = 12, Width = 32, Layers = 1, Heads = 2, IntermediateSize = 64, MaxPositions = 16 },
    };

    /// <summary>Writes the first <paramref name="train"/> training and <paramref name="validation"/> validation
    /// samples of emoji-zh as shards under <paramref name="root"/>.</summary>
    public static (string TrainDir, string ValidationDir) WriteSlice(EmojiZhFixture emoji, string root, int train = 96, int validation = 48)
    {
        var trainDir = Path.Combine(root, "train");
        var valDir = Path.Combine(root, "val");
        using (var w = new ShardWriter(trainDir, "emoji-train", 64))
            foreach (var s in emoji.Train.Take(train)) w.Write(s);
        using (var w = new ShardWriter(valDir, "emoji-val", 64))
            foreach (var s in emoji.Validation.Take(validation)) w.Write(s);
        return (trainDir, valDir);
    }

    /// <summary>
    /// Runs <paramref name="steps"/> steps (stopping at half and resuming from the checkpoint), then evaluates on
    /// the validation slice with zero-shot over the emoji groups present in it.
    /// </summary>
    public static ObjectiveRun Train(EmojiZhFixture emoji, string root, ModelConfig model, string objective,
        JsonObject? objectiveOptions = null, int steps = 6, int batchSize = 16, IEnumerable<string>? overrides = null)
    {
        var (trainDir, valDir) = WriteSlice(emoji, root);
        var modelPath = Path.Combine(root, "model.json");
        File.WriteAllText(modelPath, model.ToJson());
        var recipe = new TrainConfig
        {
            Model = modelPath, Objective = objective, ObjectiveOptions = objectiveOptions, Precision = "fp32",
            BatchSize = batchSize, Steps = steps, WarmupSteps = 1, Lr = 1e-3, SaveEvery = 1000, LogEvery = 1, Workers = 1,
            ShuffleBuffer = 64, Seed = 5,
        }.With(overrides ?? []);
        var runDir = Path.Combine(root, "run");
        var vocab = SharedData.Path("chinese-clip", "vocab.txt");
        using var stop = new CancellationTokenSource();
        var half = steps / 2;
        var (first, firstModel) = TrainingJob.Run(new TrainingJobOptions { TrainData = trainDir, RunDir = runDir, Recipe = recipe, VocabPath = vocab },
            p => { if (p.Step == half) stop.Cancel(); }, stop.Token);
        firstModel.Dispose();
        Assert.Equal(half, first.State.Step);
        var (result, loaded) = TrainingJob.Run(new TrainingJobOptions { TrainData = trainDir, RunDir = runDir, Recipe = recipe, Resume = runDir });
        loaded.Dispose();
        Assert.Equal(steps, result.State.Step);
        Assert.False(result.Cancelled);

        var checkpoint = Checkpoint.Load(runDir);
        using var trained = LoadedModel.FromCheckpoint(runDir, checkpoint);
        using var set = EvalSet.Load(valDir, ImageTransform.ForEval(trained.Model.Config.Vision.ImageSize));
        var classes = set.Metadata.Select(m => m["group"]!.GetValue<string>()).Distinct().ToList();
        var task = new ZeroShotTask("emoji-zh groups", classes, ["{}", "{}的表情"], "group");
        var report = ModelEvaluator.For(trained).Evaluate("trained", "emoji-zh", set, task);
        Assert.True(double.IsFinite(report.Retrieval!.MeanRecall));
        var metrics = File.ReadAllLines(result.MetricsPath).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(steps, metrics.Count);
        Assert.All(metrics, m => Assert.True(double.IsFinite(m["loss"]!.GetValue<double>()), $"loss at step {m["step"]} is not finite"));
        return new ObjectiveRun(result, report, metrics, checkpoint);
    }
}

[Collection(EmojiZhCollection.Name)]
public sealed class ClipOnEmojiTests(EmojiZhFixture emoji) : IDisposable
{
    private readonly TempDirectory temp = new();
    private string root => temp.Path;

    public void Dispose() => temp.Dispose();

    [Fact]
    public void ClipTrainsResumesAndEvaluatesWithCosines()
    {
        var run = ObjectiveTraining.Train(emoji, root, ObjectiveTraining.MicroVit, "clip");
        Assert.Null(run.Report.Scoring);
        Assert.Equal(48, run.Report.Retrieval!.Images);
        Assert.True(run.Metrics[^1]["loss"]!.GetValue<double>() < run.Metrics[0]["loss"]!.GetValue<double>() + 0.5);
        Assert.True(run.Checkpoint.ModelTensors.ContainsKey("text_projection"));
    }
}
