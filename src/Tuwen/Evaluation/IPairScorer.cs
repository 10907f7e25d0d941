using Tuwen.Data;
using static TorchSharp.torch;

namespace Tuwen.Evaluation;

/// <summary>
/// How a method scores image–text pairs when that is not the cosine of two global embeddings: FILIP's
/// token-wise similarity, R2D2's cross-encoder re-ranking of the dual encoder's top K. An objective hands one
/// out (<c>IObjective.Scorer</c>) so that evaluation measures what the method trained.
/// </summary>
public interface IPairScorer
{
    /// <summary>Short label for reports, e.g. "token-wise" or "re-ranked top-16".</summary>
    string Name { get; }

    /// <summary>
    /// Scores of every caption against every image [T, I] and of every image against every caption [I, T]
    /// (the two directions may differ, e.g. when each re-ranks its own top K). <paramref name="global"/> holds
    /// the dual encoder's normalised global features of the same set, for methods that start from them.
    /// </summary>
    (Tensor TextToImage, Tensor ImageToText) Retrieval(ModelEvaluator evaluator, EvalSet set, ModelEvaluator.Features global);

    /// <summary>Zero-shot class scores [N, C] (higher is more likely) for images [N,3,H,W], or null to use the
    /// global-feature classifier.</summary>
    Tensor? ZeroShot(ModelEvaluator evaluator, Tensor images, ZeroShotTask task) => null;
}
