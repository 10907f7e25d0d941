using System.CommandLine;
using Tuwen.Distributed;
using Tuwen.Training;

namespace Tuwen.Cli.Commands;

/// <summary>`tuwen train`: a recipe over webdataset shards into a run directory, resumable; one process or one
/// rank of a data-parallel MPI job (`--launcher mpi`).</summary>
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
        var launcher = new Option<string>("--launcher")
        {
            Description = "none: one process; mpi: a data-parallel rank started by mpirun, srun --mpi=pmix or an MPIJob (batch_size stays the global batch)",
            DefaultValueFactory = _ => "none",
        };
        launcher.AcceptOnlyFromAmong("none", "mpi");
        var device = new Option<string>("--device") { Description = Models.DeviceOption.Help, DefaultValueFactory = _ => "cpu" };
        var command = new Command("train", "Pre-train a dual encoder with a recipe (CLIP, and the methods the recipe names)")
            { data, output, config, vocab, resume, set, launcher, device };
        command.SetAction((p, cancel) =>
        {
            TrainingJobOptions Options(IProcessGroup? group)
            {
                // Resuming keeps the run's own recipe; --set still changes single keys (e.g. more steps).
                var resumeFrom = p.GetValue(resume);
                var baseRecipe = resumeFrom != null ? Checkpoint.LoadRecipe(resumeFrom) : TrainConfig.Load(p.GetValue(config)!);
                return new TrainingJobOptions
                {
                    TrainData = p.GetValue(data)!, RunDir = p.GetValue(output)!, Recipe = baseRecipe.With(p.GetValue(set) ?? []),
                    VocabPath = p.GetValue(vocab) is { } v ? CliApp.RequireFile(v, "vocab file") : null,
                    Resume = resumeFrom, Group = group, Device = Models.DeviceOption.Parse(p.GetValue(device)),
                };
            }
            if (p.GetValue(launcher) == "mpi") return TrainRank(Options, cancel);
            CliApp.ConfigureTorch();
            return Train(Options(null), cancel, quiet: false);
        });
        return command;
    }

    /// <summary>One rank of a data-parallel job: only rank 0 reports; a failing rank stops the whole job, since
    /// the others would wait in the next collective forever.</summary>
    private static int TrainRank(Func<IProcessGroup, TrainingJobOptions> options, CancellationToken cancel)
    {
        using var group = MpiProcessGroup.Start();
        // Ranks on one machine share its cores.
        TorchSharp.torch.set_num_threads(Math.Max(1, Environment.ProcessorCount / group.LocalSize));
        try
        {
            var job = options(group);
            if (group.Rank == 0)
                Console.Error.WriteLine($"data parallel: {group.WorldSize} processes ({group.LocalSize} on this machine), " +
                    $"{job.Recipe.BatchSize / group.WorldSize} pairs each of the global batch {job.Recipe.BatchSize}, data_split={job.Recipe.DataSplit}");
            return Train(job, cancel, quiet: group.Rank != 0);
        }
        catch (Exception e) when (group.WorldSize > 1)
        {
            Console.Error.WriteLine($"error (rank {group.Rank} of {group.WorldSize}): {(e is TuwenException ? e.Message : e.ToString())}");
            Console.Error.Flush();
            group.Abort(e is TuwenException ? 2 : 1);
            throw;
        }
    }

    private static int Train(TrainingJobOptions options, CancellationToken cancel, bool quiet)
    {
        var (result, model) = quiet ? TrainingJob.Run(options, cancel: cancel) : TrainWithProgress(options, cancel);
        using (model)
        {
            if (quiet) return result.Cancelled ? 130 : 0;
            Reports.WriteLossPlot(options.RunDir);
            Console.WriteLine($"steps {result.State.Step}, pairs {result.State.PairsSeen}, {result.PairsPerSecond:F0} pairs/s, waiting for data {100 * result.DataWaitFraction:F1} % of step time, final loss {result.State.LastMetrics.GetValueOrDefault("loss"):F4}");
            Console.WriteLine($"checkpoint: {result.CheckpointDir}");
            Console.WriteLine($"metrics:    {result.MetricsPath}");
            if (ProcessMemory.PeakResidentMiB() is { } peak) Console.WriteLine($"peak memory: {peak:F0} MiB");
        }
        return result.Cancelled ? 130 : 0;
    }

    public static (TrainResult, LoadedModel) TrainWithProgress(TrainingJobOptions options, CancellationToken cancel, Action<LoadedModel>? beforeTraining = null)
    {
        return ProgressView.Run("train", report =>
            TrainingJob.Run(options, p => report(p.Step, p.TotalSteps,
                $"loss {p.Loss:F3} lr {p.Lr:0.0e0} {p.PairsPerSecond:F0} pairs/s"), cancel, beforeTraining));
    }
}
