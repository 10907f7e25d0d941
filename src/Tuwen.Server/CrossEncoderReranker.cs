using Tuwen.Data;
using Tuwen.Inference;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Server;

/// <summary>
/// R2D2's second stage for one live query: the cross encoders score (query, candidate) pairs and the
/// server adds the matching probability ½[p(text side) + p(image side)] to the cosine, as
/// <see cref="Evaluation.RerankScorer"/> does over a whole evaluation set. The query's side is computed once
/// and broadcast over the candidates.
/// </summary>
public sealed class CrossEncoderReranker(LoadedModel loaded, R2d2Heads heads, ImageTransform transform)
{
    /// <summary>A re-ranker when the runtime is TorchSharp over an R2D2 checkpoint, else null.</summary>
    public static CrossEncoderReranker? For(IEmbeddingRuntime runtime, ImageTransform transform) =>
        runtime is TorchEmbeddingRuntime { Loaded: { Objective: R2d2Objective r2d2 } loaded } ? new(loaded, r2d2.Heads, transform) : null;

    /// <summary>Matching probability of one text with each image (encoded bytes, e.g. thumbnails).</summary>
    public float[] TextWithImages(string text, IReadOnlyList<byte[]> images) =>
        images.Count == 0 ? [] : Score([text], images.Select(b => transform.Apply(b)).ToList());

    /// <summary>Matching probability of one image (pre-processed pixels) with each text.</summary>
    public float[] ImageWithTexts(float[] pixels, IReadOnlyList<string> texts) =>
        texts.Count == 0 ? [] : Score(texts, [pixels]);

    private float[] Score(IReadOnlyList<string> texts, IReadOnlyList<float[]> images)
    {
        var model = loaded.Model;
        var size = model.Config.Vision.ImageSize;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var autocast = Autocast.Enable(loaded.Precision);
        var ids = tensor(loaded.Tokenizer.EncodeBatch(texts, loaded.ContextLength), [texts.Count, loaded.ContextLength], device: loaded.Model.Device);
        var pixels = tensor(images.SelectMany(p => p).ToArray(), [images.Count, 3, size, size], device: loaded.Model.Device);
        var textHidden = model.Text.ForwardTokens(ids);
        var textMask = R2d2Heads.TextMask(ids);
        var imageTokens = model.Visual.ForwardTokens(pixels);
        var pairs = Math.Max(texts.Count, images.Count);
        if (texts.Count < pairs)
        {
            textHidden = textHidden.expand(pairs, textHidden.shape[1], textHidden.shape[2]);
            textMask = textMask.expand(pairs, textMask.shape[1], textMask.shape[2], textMask.shape[3]);
        }
        if (images.Count < pairs) imageTokens = imageTokens.expand(pairs, imageTokens.shape[1], imageTokens.shape[2]);
        using var logits = heads.Itm(textHidden, textMask, imageTokens);
        return R2d2Heads.MatchProbability(logits).to(ScalarType.Float32).cpu().data<float>().ToArray();
    }
}
