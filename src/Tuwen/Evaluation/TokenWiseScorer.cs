using TorchSharp;
using Tuwen.Data;
using Tuwen.Models;
using Tuwen.Objectives;
using static TorchSharp.torch;

namespace Tuwen.Evaluation;

/// <summary>
/// Scores pairs the way FILIP / Wukong models are trained and evaluated: token-wise late interaction over
/// normalised per-token features (after the learned token reduction when the model has one). Text→image
/// retrieval ranks images for a caption by s^T (mean over the caption's tokens of the best patch), image→text
/// ranks captions for an image by s^I (mean over patches of the best caption token), so the two directions
/// are different scores, not transposes. Zero-shot follows Wukong's token-wise protocol: per template, a
/// softmax over classes of s^I(image, prompt) without logit scale, then the mean of the probability vectors.
/// </summary>
public sealed class TokenWiseScorer(TokenReduction? reduction) : IPairScorer
{
    public string Name => reduction is null ? "token-wise" : $"token-wise, {reduction.Tokens} reduced image tokens";

    public (Tensor TextToImage, Tensor ImageToText) Retrieval(ModelEvaluator evaluator, EvalSet set, ModelEvaluator.Features global)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var images = ImageTokens(evaluator, set.Images);
        var (texts, mask) = TextTokens(evaluator, set.Captions);
        var scores = TokenWiseSimilarity.Compute(images, null, texts, mask);
        return (scores.TextToImage.t().contiguous().MoveToOuterDisposeScope(), scores.ImageToText.MoveToOuterDisposeScope());
    }

    public Tensor? ZeroShot(ModelEvaluator evaluator, Tensor images, ZeroShotTask task)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var imageTokens = ImageTokens(evaluator, images);
        var prompts = task.Templates.Select(t => task.ClassNames.Select(c => ZeroShotPrompts.Fill(t, c)).ToList());
        return ZeroShotProbabilities(imageTokens, prompts.Select(p => TextTokens(evaluator, p))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Wukong's token-wise zero-shot ensemble: for each template's class prompts (tokens [C, L, D] and mask),
    /// softmax over classes of s^I(image, prompt), averaged over templates → [N, C] probabilities.
    /// Probabilities are averaged, not features: token sets of different prompts cannot be averaged.
    /// Each template's tensors are disposed once used, so a lazy sequence holds one template at a time.
    /// </summary>
    public static Tensor ZeroShotProbabilities(Tensor imageTokens, IEnumerable<(Tensor Tokens, Tensor Mask)> templates)
    {
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        var count = 0;
        foreach (var (tokens, mask) in templates)
        {
            using var inner = NewDisposeScope();
            using var ownedTokens = tokens;
            using var ownedMask = mask;
            using var scores = TokenWiseSimilarity.Compute(imageTokens, null, tokens, mask);
            var probabilities = scores.ImageToText.softmax(1);
            sum = sum is null ? probabilities.MoveToOuterDisposeScope() : sum.add_(probabilities);
            count++;
        }
        if (sum is null) throw new ArgumentException("need at least one template", nameof(templates));
        using var n = ((double)count).ToScalar();
        return sum.div(n).MoveToOuterDisposeScope();
    }

    /// <summary>Normalised image tokens [N, n1, E] (reduced when the model has a reduction layer), in batches.</summary>
    public Tensor ImageTokens(ModelEvaluator evaluator, Tensor images)
    {
        using var precision = Autocast.Enable(evaluator.Precision);
        return evaluator.InBatches(images.shape[0], (start, n) =>
        {
            var chunk = evaluator.OnModelDevice(images.narrow(0, start, n));
            return reduction is null
                ? nn.functional.normalize(evaluator.Model.EncodeImageTokens(chunk), dim: -1)
                : ReducedTokenObjective.ImageTokens(evaluator.Model, reduction, chunk);
        });
    }

    /// <summary>Normalised tokens [T, L, E] of every text position and the mask of real tokens, in batches.</summary>
    public static (Tensor Tokens, Tensor Mask) TextTokens(ModelEvaluator evaluator, IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) throw new ArgumentException("no texts to score");
        using var precision = Autocast.Enable(evaluator.Precision);
        using var ids = evaluator.TokenIds(texts);
        var tokens = evaluator.InBatches(ids.shape[0], (start, n) => FilipObjective.TextTokens(evaluator.Model, ids.narrow(0, start, n)).Tokens);
        return (tokens, ids.ne(Scalars.Zero));
    }
}
