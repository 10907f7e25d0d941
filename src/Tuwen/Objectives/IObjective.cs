using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;
using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Objectives;

/// <summary>A loss and the scalar figures worth logging with it (in-batch accuracy, temperature …).</summary>
public sealed record ObjectiveOutput(Tensor Loss, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// A pre-training method. The trainer owns the optimizer, schedule, precision and checkpoints; an
/// objective owns what makes a method itself: the loss, which parameters train (LiT locks a tower), extra
/// trainable modules (cross encoders, token reducers), and state that lives between steps (MoCo queues,
/// momentum encoders), which the trainer saves and restores with the checkpoint.
/// </summary>
public interface IObjective : IDisposable
{
    string Name { get; }

    /// <summary>Modules this method adds to the dual encoder; their parameters are saved as "objective.*".</summary>
    nn.Module? Module => null;

    /// <summary>What the optimizer updates. Default: every parameter of the model and of <see cref="Module"/>.</summary>
    IEnumerable<(string Name, Parameter Parameter)> TrainableParameters(DualEncoder model) =>
        model.named_parameters().Concat(Module?.named_parameters().Select(p => ("objective." + p.name, p.parameter)) ?? []);

    /// <summary>Called once before training, after the model is put in train mode and before a resumed
    /// checkpoint's tensors and <see cref="LoadState"/> are applied: set tower modes, lock parameters, load an
    /// initialisation, allocate queues and momentum copies. Not called when a model is only loaded for inference.</summary>
    void Prepare(DualEncoder model) { }

    ObjectiveOutput Forward(DualEncoder model, Batch batch);

    /// <summary>Called after each optimizer step (momentum updates, enqueueing keys).</summary>
    void AfterStep(DualEncoder model) { }

    /// <summary>Non-parameter state saved in trainer.safetensors (queues, momentum weights).</summary>
    IReadOnlyDictionary<string, Tensor> State => new Dictionary<string, Tensor>();

    void LoadState(IReadOnlyDictionary<string, Tensor> state) { }

    /// <summary>How evaluation scores pairs for a model trained with this method; null = cosine of the global
    /// features. Called on a freshly created objective whose <see cref="Module"/> holds the checkpoint's weights.</summary>
    IPairScorer? Scorer(DualEncoder model) => null;
}

/// <summary>Objectives chosen by the recipe's "objective" name, with their options as a JSON object.</summary>
public static class ObjectiveRegistry
{
    private static readonly Dictionary<string, Func<JsonObject, DualEncoder, IObjective>> Factories = new()
    {
        ["clip"] = (o, _) => ClipObjective.FromOptions(o),
        ["brivl-moco"] = BrivlMocoObjective.FromOptions,
        ["filip"] = (o, _) => new FilipObjective(o),
        ["reduced-token"] = (o, m) => new ReducedTokenObjective(o, m),
        ["r2d2"] = (o, m) => new R2d2Objective(R2d2Options.Parse(o), m),
        ["lit"] = (o, _) => LitObjective.FromOptions(o),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static void Register(string name, Func<JsonObject, DualEncoder, IObjective> create) => Factories[name] = create;

    /// <summary>The named objective for <paramref name="model"/>; its extra modules are put on the model's device.</summary>
    public static IObjective Create(string name, JsonObject? options, DualEncoder model)
    {
        var objective = Factories.TryGetValue(name, out var f) ? f(options ?? new JsonObject(), model)
            : throw new TuwenException($"unknown objective '{name}' (known: {string.Join(", ", Factories.Keys)})");
        objective.Module?.to(model.Device);
        return objective;
    }
}
