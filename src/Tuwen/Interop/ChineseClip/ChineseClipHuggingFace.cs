using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Interop.ChineseClip;

/// <summary>
/// Hugging Face's ChineseCLIPModel layout (a directory with config.json, model.safetensors and vocab.txt):
/// vision_model.* (CLIP-style ViT with split q/k/v projections), text_model.* (BERT), visual_projection and
/// text_projection as bias-free Linear layers, logit_scale. The names are turned back into Chinese-CLIP's by the
/// inverse of transformers' conversion script, then loaded like a .pt. Heads come from config.json, which — unlike
/// a .pt — states them. Hugging Face only publishes the ViT variants (no RN50).
/// </summary>
public static partial class ChineseClipHuggingFace
{
    public static ImportedModel Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new TuwenException($"Hugging Face model directory {directory} does not exist");
        var weights = Path.Combine(directory, "model.safetensors");
        if (!File.Exists(weights)) throw new TuwenException($"{directory} has no model.safetensors (a Hugging Face ChineseCLIPModel directory holds config.json, model.safetensors and vocab.txt)");
        var options = ReadOptions(Path.Combine(directory, "config.json"));
        var hf = SafeTensors.Load(weights);
        Dictionary<string, Tensor>? renamed = null;
        try
        {
            renamed = ToChineseClipNames(hf, weights);
            return ChineseClipCheckpoint.FromStateDict(renamed, options, weights);
        }
        finally
        {
            foreach (var t in hf.Values) t.Dispose();
            if (renamed != null) foreach (var t in renamed.Values) t.Dispose();
        }
    }

    static ChineseClipImportOptions ReadOptions(string configPath)
    {
        if (!File.Exists(configPath)) throw new TuwenException($"{configPath} does not exist (the Hugging Face config states the attention heads)");
        JsonObject config;
        try { config = JsonNode.Parse(File.ReadAllText(configPath))?.AsObject() ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new TuwenException($"bad Hugging Face config {configPath}: {e.Message}"); }
        int HeadWidth(string tower)
        {
            var c = config[tower] as JsonObject ?? throw new TuwenException($"{configPath} has no {tower}");
            var hidden = c["hidden_size"]?.GetValue<int>() ?? throw new TuwenException($"{configPath}: {tower} has no hidden_size");
            var heads = c["num_attention_heads"]?.GetValue<int>() ?? throw new TuwenException($"{configPath}: {tower} has no num_attention_heads");
            if (heads < 1 || hidden % heads != 0) throw new TuwenException($"{configPath}: {tower} hidden_size {hidden} is not a multiple of num_attention_heads {heads}");
            return hidden / heads;
        }
        var act = (config["vision_config"] as JsonObject)?["hidden_act"]?.GetValue<string>() ?? "quick_gelu";
        if (act != "quick_gelu") throw new TuwenException($"{configPath}: vision hidden_act '{act}' is not Chinese-CLIP's quick_gelu");
        return new ChineseClipImportOptions { VisionHeadWidth = HeadWidth("vision_config"), TextHeadWidth = HeadWidth("text_config") };
    }

    /// <summary>HF names → Chinese-CLIP names (new tensors; the caller disposes both dictionaries).</summary>
    public static Dictionary<string, Tensor> ToChineseClipNames(IReadOnlyDictionary<string, Tensor> hf, string source)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        var missing = new List<string>();
        var qkv = new SortedDictionary<int, Dictionary<string, Tensor>>();
        foreach (var (name, t) in hf)
        {
            if (IgnoredBuffer().IsMatch(name)) continue;
            if (name.StartsWith("text_model.", StringComparison.Ordinal)) { result["bert." + name["text_model.".Length..]] = t.alias(); continue; }
            if (Direct.TryGetValue(name, out var direct)) { result[direct] = t.alias(); continue; }
            switch (name)
            {
                case "text_projection.weight": result["text_projection"] = t.t().contiguous(); continue;
                case "visual_projection.weight": result["visual.proj"] = t.t().contiguous(); continue;
            }
            var m = VisionLayer().Match(name);
            if (!m.Success) { unexpected.Add(name); continue; }
            var layer = int.Parse(m.Groups[1].Value);
            var part = m.Groups[2].Value;
            var leaf = m.Groups[3].Value;
            var prefix = $"visual.transformer.resblocks.{layer}.";
            if (part is "self_attn.q_proj" or "self_attn.k_proj" or "self_attn.v_proj")
            {
                if (!qkv.TryGetValue(layer, out var parts)) qkv[layer] = parts = new();
                parts[$"{part[10]}.{leaf}"] = t;
                continue;
            }
            var cn = part switch
            {
                "self_attn.out_proj" => "attn.out_proj",
                "layer_norm1" => "ln_1",
                "layer_norm2" => "ln_2",
                "mlp.fc1" => "mlp.c_fc",
                "mlp.fc2" => "mlp.c_proj",
                _ => null,
            };
            if (cn == null) unexpected.Add(name);
            else result[$"{prefix}{cn}.{leaf}"] = t.alias();
        }
        // Chinese-CLIP keeps one fused in_proj (q, k, v stacked along the output axis), as nn.MultiheadAttention does.
        foreach (var (layer, parts) in qkv)
            foreach (var leaf in new[] { "weight", "bias" })
            {
                var pieces = "qkv".Select(c => parts.GetValueOrDefault($"{c}.{leaf}")).ToArray();
                for (var i = 0; i < 3; i++)
                    if (pieces[i] is null) missing.Add($"vision_model.encoder.layers.{layer}.self_attn.{"qkv"[i]}_proj.{leaf}");
                if (pieces.All(p => p is not null)) result[$"visual.transformer.resblocks.{layer}.attn.in_proj_{leaf}"] = cat(pieces!, 0);
            }
        if (unexpected.Count + missing.Count > 0)
        {
            foreach (var t in result.Values) t.Dispose();
            throw new TuwenException($"{source} does not match the Hugging Face ChineseCLIPModel layout:"
                + (missing.Count > 0 ? $" missing keys ({missing.Count}): {string.Join(", ", missing.Take(12))};" : "")
                + (unexpected.Count > 0 ? $" unexpected keys ({unexpected.Count}): {string.Join(", ", unexpected.Take(12))}{(unexpected.Count > 12 ? ", …" : "")};" : ""));
        }
        return result;
    }

    static readonly Dictionary<string, string> Direct = new(StringComparer.Ordinal)
    {
        ["logit_scale"] = "logit_scale",
        ["vision_model.embeddings.class_embedding"] = "visual.class_embedding",
        ["vision_model.embeddings.patch_embedding.weight"] = "visual.conv1.weight",
        ["vision_model.embeddings.position_embedding.weight"] = "visual.positional_embedding",
        ["vision_model.pre_layrnorm.weight"] = "visual.ln_pre.weight",   // sic: transformers spells it "layrnorm"
        ["vision_model.pre_layrnorm.bias"] = "visual.ln_pre.bias",
        ["vision_model.post_layernorm.weight"] = "visual.ln_post.weight",
        ["vision_model.post_layernorm.bias"] = "visual.ln_post.bias",
    };

    /// <summary>Index buffers some transformers versions save (position_ids, token_type_ids): not weights.</summary>
    [GeneratedRegex(@"^(vision_model|text_model)\.embeddings\.(position_ids|token_type_ids)$")]
    private static partial Regex IgnoredBuffer();

    [GeneratedRegex(@"^vision_model\.encoder\.layers\.(\d+)\.(self_attn\.[qkv]_proj|self_attn\.out_proj|layer_norm1|layer_norm2|mlp\.fc1|mlp\.fc2)\.(weight|bias)$")]
    private static partial Regex VisionLayer();
}
