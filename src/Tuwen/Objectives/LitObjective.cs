using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp.Modules;
using Tuwen.Data;
using Tuwen.Distributed;
using Tuwen.Models;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Objectives;

/// <summary>
/// Locked-image tuning (LiT, Zhai et al. 2022; the "LiT" rows of Wukong): the image tower is initialised from
/// an earlier checkpoint and locked — no gradient, its norms and batch statistics in eval mode, not handed to
/// the optimizer, its features computed without an autograd graph — so only the text tower, the text
/// projection and the temperature learn to meet a fixed image embedding. The loss is CLIP's InfoNCE; what
/// makes the method is the lock and the initialisation.
/// Options: <c>image_checkpoint</c> (required; a checkpoint or run directory whose visual.* tensors
/// initialise the image tower), <c>lock_image</c> (default true; false = Wukong's unlocked comparison, the
/// tower initialised the same way but trained), <c>text_checkpoint</c> (optional; bert.* and text_projection
/// from a checkpoint = a pre-trained text tower; absent = random init).
/// </summary>
public sealed class LitObjective : IObjective
{
    public static readonly IReadOnlyList<string> KnownOptions = ["image_checkpoint", "lock_image", "text_checkpoint"];

    private const string VisualPrefix = "visual.";
    private long? trainableCount;

    public LitObjective(string imageCheckpoint, bool lockImage = true, string? textCheckpoint = null)
    {
        ImageCheckpoint = imageCheckpoint;
        LockImage = lockImage;
        TextCheckpoint = textCheckpoint;
    }

    public string Name => "lit";
    public string ImageCheckpoint { get; }
    public bool LockImage { get; }
    public string? TextCheckpoint { get; }

    /// <summary>Reads the recipe's objective_options strictly. Paths are checked in <see cref="Prepare"/>, so a
    /// LiT checkpoint can still be evaluated after its image checkpoint has moved.</summary>
    public static LitObjective FromOptions(JsonObject options)
    {
        var read = new ObjectiveOptions("lit", options, KnownOptions);
        const string path = "a path (a checkpoint or run directory)";
        var image = read.Text("image_checkpoint", path)
            ?? throw new TuwenException("lit: objective_options.image_checkpoint is required (the checkpoint or run directory whose image tower LiT starts from and locks)");
        return new LitObjective(image, read.Flag("lock_image", true), read.Text("text_checkpoint", path));
    }

    public IEnumerable<(string Name, Parameter Parameter)> TrainableParameters(DualEncoder model) =>
        LockImage ? model.named_parameters().Where(p => !p.name.StartsWith(VisualPrefix, StringComparison.Ordinal))
            : model.named_parameters();

    public void Prepare(DualEncoder model)
    {
        using (var image = LoadModelTensors(ImageCheckpoint, "image_checkpoint"))
            Copy(model.Visual, image.Tensors, VisualPrefix, "image_checkpoint", image.Directory, $"image tower (vision.type '{model.Config.Vision.Type}')");
        if (TextCheckpoint is not null)
        {
            using var text = LoadModelTensors(TextCheckpoint, "text_checkpoint");
            Copy(model.Text, text.Tensors, "bert.", "text_checkpoint", text.Directory, $"text tower (text.type '{model.Config.Text.Type}')");
            if (model.named_parameters().FirstOrDefault(p => p.name == "text_projection").parameter is { } projection)
                CopyOne(projection, text.Tensors, "text_projection", text.Directory);
        }
        if (LockImage)
        {
            foreach (var p in model.Visual.parameters()) p.requires_grad_(false);
            model.Visual.eval();
        }
        trainableCount = CountTrainable(model);
    }

    public ObjectiveOutput Forward(DualEncoder model, Batch batch)
    {
        using var scope = NewDisposeScope();
        Tensor image;
        if (LockImage)
        {
            // Evaluation between steps puts the whole model back in train mode; a locked tower never is.
            if (model.Visual.training) model.Visual.eval();
            using (no_grad()) image = model.EncodeImage(batch.Images);
        }
        else image = model.EncodeImage(batch.Images);
        var text = model.EncodeText(batch.TokenIds);
        // Data parallel: the global batch's features, this rank's slice with its gradient.
        var output = ClipObjective.Compute(CrossWorker.Gather(nn.functional.normalize(image, dim: -1)),
            CrossWorker.Gather(nn.functional.normalize(text, dim: -1)), model.LogitScale());
        var metrics = new Dictionary<string, double>(output.Metrics) { ["trainable_params"] = trainableCount ??= CountTrainable(model) };
        return new ObjectiveOutput(output.Loss.MoveToOuterDisposeScope(), metrics);
    }

    private long CountTrainable(DualEncoder model) =>
        TrainableParameters(model).Where(p => p.Parameter.requires_grad).Sum(p => p.Parameter.numel());

    private static TensorFile LoadModelTensors(string path, string option)
    {
        string dir;
        try { dir = Checkpoint.Resolve(path); }
        catch (TuwenException e) { throw new TuwenException($"lit: {option}: {e.Message}"); }
        return new TensorFile(dir, SafeTensors.Load(Path.Combine(dir, "model.safetensors")));
    }

    private static void Copy(nn.Module target, IReadOnlyDictionary<string, Tensor> tensors, string prefix, string option, string dir, string what)
    {
        try { Checkpoint.LoadInto(target, tensors, prefix); }
        catch (TuwenException e) { throw new TuwenException($"lit: {option} {dir} does not fit this model's {what}: {e.Message}"); }
    }

    private static void CopyOne(Tensor target, IReadOnlyDictionary<string, Tensor> tensors, string name, string dir)
    {
        if (!tensors.TryGetValue(name, out var t))
            throw new TuwenException($"lit: text_checkpoint {dir} has no '{name}' (its text tower ends in its own head?)");
        if (!t.shape.SequenceEqual(target.shape))
            throw new TuwenException($"lit: text_checkpoint {dir} tensor '{name}' has shape [{string.Join(",", t.shape)}], this model expects [{string.Join(",", target.shape)}]");
        using (no_grad()) target.copy_(t);
    }

    public void Dispose() { }

    private sealed record TensorFile(string Directory, Dictionary<string, Tensor> Tensors) : IDisposable
    {
        public void Dispose()
        {
            foreach (var t in Tensors.Values) t.Dispose();
        }
    }
}
