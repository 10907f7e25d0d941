using System.Text.Json;
using System.Text.Json.Nodes;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Training;

/// <summary>Where a run stands: the step, the data position (epoch and samples of it consumed) and timing.</summary>
public sealed record TrainState
{
    public long Step { get; init; }
    public int Epoch { get; init; }
    public long SamplesInEpoch { get; init; }
    public long PairsSeen { get; init; }
    public int Seed { get; init; }
    public double TrainSeconds { get; init; }
    public Dictionary<string, double> LastMetrics { get; init; } = new();
}

/// <summary>
/// A checkpoint directory: config.json (model + objective + recipe), vocab.txt, model.safetensors
/// (model and objective modules), trainer.safetensors (optimizer moments, objective state such as queues,
/// RNG state), state.json. Written to NAME.tmp/, flushed, then swapped in by rename, so a crash at any
/// moment leaves the previous checkpoint loadable.
/// </summary>
public sealed class Checkpoint
{
    public required ModelConfig Model { get; init; }
    public required TrainConfig Recipe { get; init; }
    public required IReadOnlyList<string> Vocab { get; init; }
    public required Dictionary<string, Tensor> ModelTensors { get; init; }
    public required Dictionary<string, Tensor> TrainerTensors { get; init; }
    public required TrainState State { get; init; }
    public required string Directory { get; init; }

    public static void Save(string dir, ModelConfig model, TrainConfig recipe, IReadOnlyList<string> vocab,
        IEnumerable<KeyValuePair<string, Tensor>> modelTensors, IEnumerable<KeyValuePair<string, Tensor>> trainerTensors, TrainState state)
    {
        dir = Path.GetFullPath(dir.TrimEnd('/'));
        var tmp = dir + ".tmp";
        var old = dir + ".old";
        if (System.IO.Directory.Exists(tmp)) System.IO.Directory.Delete(tmp, true);
        System.IO.Directory.CreateDirectory(tmp);
        var config = new JsonObject
        {
            ["format"] = "tuwen-checkpoint-1",
            ["model"] = JsonNode.Parse(model.ToJson()),
            ["recipe"] = JsonNode.Parse(recipe.ToJson()),
        };
        WriteText(Path.Combine(tmp, "config.json"), config.ToJsonString(ModelConfig.Json));
        WriteText(Path.Combine(tmp, "vocab.txt"), string.Join('\n', vocab) + "\n");
        SafeTensors.Save(Path.Combine(tmp, "model.safetensors"), modelTensors, new Dictionary<string, string> { ["format"] = "pt" });
        SafeTensors.Save(Path.Combine(tmp, "trainer.safetensors"), trainerTensors);
        WriteText(Path.Combine(tmp, "state.json"), JsonSerializer.Serialize(state, ModelConfig.Json));
        if (System.IO.Directory.Exists(old)) System.IO.Directory.Delete(old, true);
        if (System.IO.Directory.Exists(dir)) System.IO.Directory.Move(dir, old);
        System.IO.Directory.Move(tmp, dir);
        if (System.IO.Directory.Exists(old)) System.IO.Directory.Delete(old, true);
    }

    /// <summary>Loads a checkpoint directory, or the checkpoint inside a run directory.</summary>
    public static Checkpoint Load(string path)
    {
        var dir = Resolve(path);
        string Read(string f)
        {
            var p = Path.Combine(dir, f);
            return File.Exists(p) ? File.ReadAllText(p) : throw new TuwenException($"checkpoint {dir} is missing {f}");
        }
        JsonObject config;
        try { config = JsonNode.Parse(Read("config.json"))!.AsObject(); }
        catch (JsonException e) { throw new TuwenException($"checkpoint {dir}: bad config.json ({e.Message})"); }
        var model = ModelConfig.Parse(config["model"]?.ToJsonString() ?? throw new TuwenException($"checkpoint {dir}: config.json has no model"), dir);
        var recipe = TrainConfig.Parse(config["recipe"]?.ToJsonString() ?? "{}", dir);
        var vocab = Read("vocab.txt").Split('\n').ToList();
        if (vocab.Count > 0 && vocab[^1].Length == 0) vocab.RemoveAt(vocab.Count - 1);
        TrainState state;
        try { state = JsonSerializer.Deserialize<TrainState>(Read("state.json"), ModelConfig.Json)!; }
        catch (JsonException e) { throw new TuwenException($"checkpoint {dir}: bad state.json ({e.Message})"); }
        return new Checkpoint
        {
            Model = model, Recipe = recipe, Vocab = vocab, State = state, Directory = dir,
            ModelTensors = SafeTensors.Load(Path.Combine(dir, "model.safetensors")),
            TrainerTensors = SafeTensors.Load(Path.Combine(dir, "trainer.safetensors")),
        };
    }

    /// <summary>Just the recipe of a checkpoint (config.json), without reading any tensors.</summary>
    public static TrainConfig LoadRecipe(string path)
    {
        var dir = Resolve(path);
        try
        {
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
            return TrainConfig.Parse(config["recipe"]?.ToJsonString() ?? "{}", dir);
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw new TuwenException($"checkpoint {dir}: cannot read config.json ({e.Message})");
        }
    }

    public static string Resolve(string path)
    {
        path = Path.GetFullPath(path.TrimEnd('/'));
        foreach (var candidate in new[] { path, Path.Combine(path, "checkpoint"), path + ".old", Path.Combine(path, "checkpoint.old") })
            if (File.Exists(Path.Combine(candidate, "model.safetensors")) && File.Exists(Path.Combine(candidate, "state.json")))
                return candidate;
        throw new TuwenException($"no checkpoint at {path} (expected model.safetensors and state.json, or a run directory with checkpoint/)");
    }

    /// <summary>Copies saved tensors into a module's parameters and buffers by name; every name must match.</summary>
    public static void LoadInto(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string prefix = "")
    {
        using var _ = no_grad();
        foreach (var (name, p) in module.named_parameters().Select(x => (x.name, (Tensor)x.parameter)).Concat(module.named_buffers()))
        {
            if (!tensors.TryGetValue(prefix + name, out var t))
                throw new TuwenException($"checkpoint lacks tensor '{prefix + name}'");
            if (!t.shape.SequenceEqual(p.shape))
                throw new TuwenException($"checkpoint tensor '{prefix + name}' has shape [{string.Join(",", t.shape)}], model expects [{string.Join(",", p.shape)}]");
            p.copy_(t);
        }
    }

    private static void WriteText(string path, string text)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        fs.Write(System.Text.Encoding.UTF8.GetBytes(text));
        fs.Flush(flushToDisk: true);
    }
}
