using System.Text.RegularExpressions;
using Tuwen.Interop.PyTorch;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Interop.ChineseClip;

/// <summary>A Chinese-CLIP model brought into Tuwen: its inferred config and the loaded dual encoder (eval mode).</summary>
public sealed record ImportedModel(ModelConfig Config, DualEncoder Model) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Loads Chinese-CLIP checkpoints (<c>.pt</c> as its training saves them) into a Tuwen <see cref="DualEncoder"/>.
/// Every Tuwen parameter and buffer is looked up under its Chinese-CLIP name by an explicit rule
/// (<see cref="SourceName"/>); Chinese-CLIP drops bert.pooler.* when it loads weights, and so do we. Anything
/// else missing, left over or of the wrong shape is an error that lists the keys.
/// </summary>
public static partial class ChineseClipCheckpoint
{
    /// <summary>Reads a Chinese-CLIP .pt and builds the model it holds.</summary>
    public static ImportedModel Load(string path, ChineseClipImportOptions? options = null)
    {
        var stateDict = TorchCheckpointReader.ReadStateDict(path);
        try { return FromStateDict(stateDict, options, path); }
        finally { foreach (var t in stateDict.Values) t.Dispose(); }
    }

    /// <summary>Builds the model from a state_dict in Chinese-CLIP's names (the caller keeps ownership of the tensors).</summary>
    public static ImportedModel FromStateDict(IReadOnlyDictionary<string, Tensor> stateDict, ChineseClipImportOptions? options, string source)
    {
        var config = ChineseClipCheckpointConfig.Infer(stateDict.ToDictionary(kv => kv.Key, kv => kv.Value.shape), options, source);
        var model = new DualEncoder(config);
        try
        {
            CopyInto(model, stateDict, source);
            model.eval();
            return new ImportedModel(config, model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Copies weights by the explicit name mapping, after checking every key both ways and every shape.</summary>
    public static void CopyInto(DualEncoder model, IReadOnlyDictionary<string, Tensor> stateDict, string source)
    {
        var targets = model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(model.named_buffers()).ToList();
        var missing = new List<string>();
        var mismatched = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, target) in targets)
        {
            var from = SourceName(name);
            if (!stateDict.TryGetValue(from, out var t)) { missing.Add(from); continue; }
            used.Add(from);
            if (!t.shape.SequenceEqual(target.shape))
                mismatched.Add($"{from} [{string.Join(",", t.shape)}] (expected [{string.Join(",", target.shape)}])");
        }
        var unexpected = stateDict.Keys.Where(k => !used.Contains(k) && !IsDropped(k)).ToList();
        if (missing.Count + unexpected.Count + mismatched.Count > 0)
            throw new TuwenException($"{source} does not match the Chinese-CLIP layout of its inferred architecture:"
                + Listing("missing", missing) + Listing("unexpected", unexpected) + Listing("wrong shape", mismatched));
        using var _ = no_grad();
        foreach (var (name, target) in targets) target.copy_(stateDict[SourceName(name)]);
    }

    static string Listing(string what, List<string> keys) =>
        keys.Count == 0 ? "" : $" {what} keys ({keys.Count}): {string.Join(", ", keys.Take(12))}{(keys.Count > 12 ? ", …" : "")};";

    /// <summary>Keys Chinese-CLIP itself ignores when loading: BERT's pooler (encode_text takes the [CLS] state).</summary>
    static bool IsDropped(string key) => key.StartsWith("bert.pooler.", StringComparison.Ordinal);

    /// <summary>
    /// Tuwen name → Chinese-CLIP name. The visual tower, BERT embeddings, text_projection and logit_scale share
    /// Chinese-CLIP's names; the BERT layers flatten HF's attention.self / attention.output / intermediate /
    /// output sub-modules, so those five names are rewritten.
    /// </summary>
    public static string SourceName(string tuwenName)
    {
        var m = BertLayerPart().Match(tuwenName);
        if (!m.Success) return tuwenName;
        var part = m.Groups[2].Value switch
        {
            "attention.query" => "attention.self.query",
            "attention.key" => "attention.self.key",
            "attention.value" => "attention.self.value",
            "attention.output_dense" => "attention.output.dense",
            "attention.output_LayerNorm" => "attention.output.LayerNorm",
            "intermediate_dense" => "intermediate.dense",
            "output_dense" => "output.dense",
            "output_LayerNorm" => "output.LayerNorm",
            var other => throw new InvalidOperationException($"no Chinese-CLIP name for Tuwen BERT parameter part '{other}'"),
        };
        return $"{m.Groups[1].Value}{part}.{m.Groups[3].Value}";
    }

    [GeneratedRegex(@"^(bert\.encoder\.layer\.\d+\.)(.+)\.(weight|bias)$")]
    private static partial Regex BertLayerPart();
}
