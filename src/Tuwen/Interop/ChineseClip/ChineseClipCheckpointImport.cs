using Tuwen.Text;
using Tuwen.Training;

namespace Tuwen.Interop.ChineseClip;

/// <summary>Where a Chinese-CLIP model comes from: its own training's .pt, or a Hugging Face ChineseCLIPModel directory.</summary>
public enum ChineseClipSource
{
    ChineseClip,
    HuggingFace,
}

/// <summary>
/// Turns a Chinese-CLIP model into a normal Tuwen checkpoint directory (config.json with the inferred model config,
/// vocab.txt, model.safetensors, an empty trainer.safetensors and state.json) that `tuwen eval` and
/// <see cref="LoadedModel.FromCheckpoint"/> load. The recipe records fp32 inference, so the imported model
/// reproduces the reference embeddings.
/// </summary>
public static class ChineseClipCheckpointImport
{
    /// <param name="input">A .pt file (<see cref="ChineseClipSource.ChineseClip"/>) or a Hugging Face directory.</param>
    /// <param name="vocabPath">vocab.txt; required for a .pt (it holds no vocab), optional for a Hugging Face directory (its own vocab.txt).</param>
    public static ModelConfigSummary Import(ChineseClipSource from, string input, string? vocabPath, string outDir, ChineseClipImportOptions? options = null)
    {
        vocabPath ??= from == ChineseClipSource.HuggingFace && File.Exists(Path.Combine(input, "vocab.txt")) ? Path.Combine(input, "vocab.txt")
            : throw new TuwenException(from == ChineseClipSource.ChineseClip
                ? "a Chinese-CLIP .pt holds no vocabulary: pass --vocab (Chinese-CLIP's vocab.txt, the RoBERTa-wwm-ext vocab of 21128 tokens)"
                : $"{input} has no vocab.txt: pass --vocab");
        if (!File.Exists(vocabPath)) throw new TuwenException($"vocab file not found: {vocabPath}");
        var vocab = Vocab.Load(vocabPath);
        using var imported = from == ChineseClipSource.ChineseClip
            ? ChineseClipCheckpoint.Load(input, options)
            : ChineseClipHuggingFace.Load(input);
        if (vocab.Count != imported.Config.Text.VocabSize)
            throw new TuwenException($"{vocabPath} has {vocab.Count} tokens but the checkpoint's word embeddings have {imported.Config.Text.VocabSize} rows");
        var recipe = new TrainConfig { Model = imported.Config.Name, Precision = "fp32", ContextLength = imported.Config.Text.ContextLength };
        var tensors = imported.Model.named_parameters().Select(p => new KeyValuePair<string, TorchSharp.torch.Tensor>(p.name, p.parameter))
            .Concat(imported.Model.named_buffers().Select(b => new KeyValuePair<string, TorchSharp.torch.Tensor>(b.name, b.buffer)));
        Checkpoint.Save(outDir, imported.Config, recipe, vocab.Tokens, tensors, [], new TrainState());
        return new ModelConfigSummary(imported.Config.Name, imported.Config.Vision.Type, imported.Config.EmbedDim, imported.Model.ParameterCount());
    }
}

/// <summary>What an import produced, for the command's one-line report.</summary>
public sealed record ModelConfigSummary(string Name, string VisionType, int EmbedDim, long Parameters);
