using System.CommandLine;
using Tuwen.Training;

namespace Tuwen.Cli.Commands;

/// <summary>`tuwen train`: a recipe over webdataset shards into a run directory, resumable.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "training shards: a dataset directory (with stats.json) or a .tar", Required = true };
        var output = new Option<string>("--out") { Description = "run directory (metrics.jsonl, loss.png, checkpoint/)", Required = true };
        var config = new Option<string>("--config") { Description = "training recipe: a name in configs/train or a JSON file", DefaultValueFactory = _ => "quickstart" };
        var vocab = new Option<string?>("--vocab") { Description = "vocab.txt to use (default: build one from the training captions)" };
        var resume = new Option<string?>("--resume") { Description = "continue from a checkpoint or run directory" };
        var set = new Option<string[]>("--set") { Description = "override recipe keys, e.g. --set lr=5e-4 --set steps=200", AllowMultipleArgumentsPerToken = false };
        var device = new Option<string>("--device") { Description = Models.DeviceOption.Help, DefaultValueFactory = _ => "cpu" };
        var command = new Command("train", "Pre-train a dual encoder with a recipe (CLIP, and the methods the recipe names)")
            { data, output, config, vocab, resume, set, device };
        command.SetAction((p, cancel) =>
        {
            CliApp.ConfigureTorch();
            // Resuming keeps the run's own recipe; --set still changes single keys (e.g. more steps).
            var resumeFrom = p.GetValue(resume);
            var baseRecipe = resumeFrom != null ? Checkpoint.LoadRecipe(resumeFrom) : TrainConfig.Load(p.GetValue(config)!);
            var recipe = baseRecipe.With(p.GetValue(set) ?? []);
            var options = new TrainingJobOptions
            {
                TrainData = p.GetValue(data)!, RunDir = p.GetValue(output)!, Recipe = recipe,
                VocabPath = p.GetValue(vocab) is { } v ? CliApp.RequireFile(v, "vocab file") : null,
                Resume = resumeFrom,
                Device = Models.DeviceOption.Parse(p.GetValue(device)),
            };
            var (result, model) = TrainWithProgress(options, cancel);
            using (model)
            {
                Reports.WriteLossPlot(options.RunDir);
                Console.WriteLine($"steps {result.State.Step}, pairs {result.State.PairsSeen}, {result.PairsPerSecond:F0} pairs/s, waiting for data {100 * result.DataWaitFraction:F1} % of step time, final loss {result.State.LastMetrics.GetValueOrDefault("loss"):F4}");
                Console.WriteLine($"checkpoint: {result.CheckpointDir}");
                Console.WriteLine($"metrics:    {result.MetricsPath}");
                if (ProcessMemory.PeakResidentMiB() is { } peak) Console.WriteLine($"peak memory: {peak:F0} MiB");
            }
            return result.Cancelled ? 130 : 0;
        });
        return command;
    }

    public static (TrainResult, LoadedModel) TrainWithProgress(TrainingJobOptions options, CancellationToken cancel, Action<LoadedModel>? beforeTraining = null)
    {
        return ProgressView.Run("train", report =>
            TrainingJob.Run(options, p => report(p.Step, p.TotalSteps,
                $"loss {p.Loss:F3} lr {p.Lr:0.0e0} {p.PairsPerSecond:F0} pairs/s"), cancel, beforeTraining));
    }
}
