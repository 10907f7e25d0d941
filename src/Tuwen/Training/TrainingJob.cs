using TorchSharp;
using Tuwen.Data;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Text;
using static TorchSharp.torch;

namespace Tuwen.Training;

/// <summary>What `tuwen train` needs: training shards, an output run directory, a recipe, and optionally a
/// vocab file (else one is built from the training captions) or a checkpoint to resume.</summary>
public sealed record TrainingJobOptions
{
    public required string TrainData { get; init; }
    public required string RunDir { get; init; }
    public required TrainConfig Recipe { get; init; }
    public string? VocabPath { get; init; }
    public string? Resume { get; init; }

    /// <summary>The data-parallel job this process is a rank of (tuwen train --launcher mpi); null = one process.</summary>
    public Distributed.IProcessGroup? Group { get; init; }

    /// <summary>Where the model trains (<see cref="DeviceOption"/>); null = the CPU.</summary>
    public Device? Device { get; init; }
}

/// <summary>A model ready to use: the dual encoder, its tokenizer and text length, how to run it, and the
/// objective it was trained with (which may own extra modules, e.g. R2D2's cross encoders, and decides how
/// evaluation scores pairs).</summary>
public sealed record LoadedModel(DualEncoder Model, BertTokenizer Tokenizer, int ContextLength, ScalarType? Precision) : IDisposable
{
    public IObjective? Objective { get; init; }

    /// <summary>The objective's way of scoring pairs at evaluation, or null for global-feature cosines.</summary>
    public Evaluation.IPairScorer? Scorer => Objective?.Scorer(Model);

    public long[] Encode(string text) => Tokenizer.Encode(text, ContextLength);

    public void Dispose()
    {
        Objective?.Dispose();
        Model.Dispose();
    }

    /// <summary>Loads a checkpoint directory (or a run directory holding checkpoint/) for inference on
    /// <paramref name="device"/> (default: the CPU).</summary>
    public static LoadedModel FromCheckpoint(string path, Checkpoint? checkpoint = null, Device? device = null)
    {
        checkpoint ??= Checkpoint.Load(path);
        var vocab = Vocab.FromTokens(checkpoint.Vocab);
        var model = new DualEncoder(checkpoint.Model);
        Checkpoint.LoadInto(model, checkpoint.ModelTensors);
        if (device != null) model.to(device);   // before the objective, whose modules follow the model's device
        var objective = ObjectiveRegistry.Create(checkpoint.Recipe.Objective, checkpoint.Recipe.ObjectiveOptions, model);
        if (objective.Module is { } extra)
        {
            Checkpoint.LoadInto(extra, checkpoint.ModelTensors, "objective.");
            extra.eval();
        }
        model.eval();
        var context = checkpoint.Recipe.ContextLength > 0 ? checkpoint.Recipe.ContextLength : checkpoint.Model.Text.ContextLength;
        return new LoadedModel(model, new BertTokenizer(vocab), context, Autocast.Parse(checkpoint.Recipe.Precision)) { Objective = objective };
    }
}

/// <summary>Assembles vocab, model, objective and data for a recipe, then runs the <see cref="Trainer"/>.</summary>
public static class TrainingJob
{
    public static Vocab ResolveVocab(TrainingJobOptions o, Checkpoint? resume)
    {
        if (resume != null) return Vocab.FromTokens(resume.Vocab);
        if (o.VocabPath != null) return Vocab.Load(o.VocabPath);
        // Training from scratch must not need a third-party vocab: build one from the captions — in a data-parallel
        // job once, on rank 0, rather than every rank reading the whole corpus.
        return Vocab.FromTokens(Distributed.ReplicaSync.LinesFromRankZero(o.Group ?? Distributed.SingleProcess.Instance, () =>
            VocabBuilder.Build(ShardReader.Read(ShardReader.FindShards(o.TrainData)).SelectMany(s => s.Captions), new VocabBuilderOptions()).Tokens));
    }

    /// <summary>The model config of a recipe, with the text vocabulary sized to the vocab in use.</summary>
    public static ModelConfig ModelFor(TrainConfig recipe, Vocab vocab)
    {
        var config = ModelConfig.Load(recipe.Model);
        return config with { Text = config.Text with { VocabSize = vocab.Count } };
    }

    public static (TrainResult Result, LoadedModel Model) Run(TrainingJobOptions o, Action<TrainProgress>? progress = null,
        CancellationToken cancel = default, Action<LoadedModel>? beforeTraining = null)
    {
        var resume = o.Resume != null ? Checkpoint.Load(o.Resume) : null;
        // On resume the caller passes the checkpoint's recipe (possibly with overrides such as more steps).
        var recipe = o.Recipe;
        if (resume == null)
        {
            ModelConfig.Load(recipe.Model);   // a bad model name fails before any data is read
            // Never overwrite a run's checkpoint by starting afresh in the same place.
            if (Directory.Exists(Path.Combine(o.RunDir, "checkpoint")))
                throw new TuwenException($"{o.RunDir} already holds a checkpoint: continue it with --resume {o.RunDir}, or choose another --out");
        }
        var vocab = ResolveVocab(o, resume);
        var modelConfig = resume?.Model ?? ModelFor(recipe, vocab);
        manual_seed(recipe.Seed);
        // Initialised on the CPU under the seed, then moved: the same initial weights on every device.
        var model = new DualEncoder(modelConfig).to(o.Device ?? CPU);
        var context = recipe.ContextLength > 0 ? recipe.ContextLength : modelConfig.Text.ContextLength;
        var objective = ObjectiveRegistry.Create(recipe.Objective, recipe.ObjectiveOptions, model);
        var loaded = new LoadedModel(model, new BertTokenizer(vocab), context, Autocast.Parse(recipe.Precision)) { Objective = objective };
        beforeTraining?.Invoke(loaded);
        var data = new ShardTrainData(o.TrainData, recipe, modelConfig.Vision.ImageSize, context, loaded.Encode, o.Group);
        var trainer = new Trainer(recipe, model, objective, vocab.Tokens, o.RunDir, o.Group, o.Device);
        var result = trainer.Run(data, resume, progress, cancel);
        model.eval();
        objective.Module?.eval();
        return (result, loaded);
    }
}
