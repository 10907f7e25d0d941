using TorchSharp;
using Tuwen.Data;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Evaluation;

/// <summary>
/// R2D2's two-stage retrieval: the dual encoder's cosine picks each query's top K candidates (captions for an
/// image, images for a caption), and the cross encoders re-score them: final = cosine + ½[p_match(text side) +
/// p_match(image side)] for the K candidates, −100 for every other one (R2D2's evaluation), so only the top K
/// can be retrieved and the cross encoders decide their order. Image tokens and caption hidden states are
/// computed once; the cross encoders run over batches of pairs.
/// </summary>
public sealed class RerankScorer(DualEncoder model, R2d2Heads heads, int k) : IPairScorer
{
    /// <summary>The score of candidates outside a query's top K.</summary>
    public const float Excluded = -100f;

    public int K => k;

    public string Name => $"re-ranked top-{k}";

    /// <summary>The same scorer with another K (to compare depths, or K = 1 against the cosine ranking).</summary>
    public RerankScorer WithK(int newK) => new(model, heads, newK);

    public (Tensor TextToImage, Tensor ImageToText) Retrieval(ModelEvaluator evaluator, EvalSet set, ModelEvaluator.Features global) =>
        Retrieval(evaluator, set, global, k);

    /// <summary>Scores with a given K; K ≥ the number of candidates re-ranks everything.</summary>
    public (Tensor TextToImage, Tensor ImageToText) Retrieval(ModelEvaluator evaluator, EvalSet set, ModelEvaluator.Features global, int topK)
    {
        if (topK < 1) throw new TuwenException($"re-ranking needs K ≥ 1, got {topK}");
        using var _ = no_grad();
        using var __ = Autocast.Enable(evaluator.Precision);
        using var scope = NewDisposeScope();
        var wasTraining = (model.training, heads.training);
        model.eval();
        heads.eval();
        try
        {
            var imageTokens = evaluator.InBatches(set.Images.shape[0], (s, n) => model.Visual.ForwardTokens(evaluator.OnModelDevice(set.Images.narrow(0, s, n))));
            var ids = evaluator.TokenIds(set.Captions);
            var textHidden = evaluator.InBatches(ids.shape[0], (s, n) => model.Text.ForwardTokens(ids.narrow(0, s, n)));
            var textMask = R2d2Heads.TextMask(ids);
            Tensor Match(Tensor texts, Tensor images) => evaluator.InBatches(texts.shape[0], (s, n) =>
            {
                using var t = texts.narrow(0, s, n);
                using var i = images.narrow(0, s, n);
                using var logits = heads.Itm(textHidden.index_select(0, t), textMask.index_select(0, t), imageTokens.index_select(0, i));
                return R2d2Heads.MatchProbability(logits);
            });
            var cosine = global.Texts.matmul(global.Images.t());
            var (t2iTop, t2iImages) = Candidates(cosine, topK);
            var (i2tTop, i2tTexts) = Candidates(cosine.t(), topK);
            // A caption–image pair often sits in both directions' top K: score each distinct pair once.
            long captions = cosine.shape[0], images = cosine.shape[1];
            var pairTexts = cat([Rows(captions, t2iImages.shape[1]), i2tTexts.reshape(-1)]);
            var pairImages = cat([t2iImages.reshape(-1), Rows(images, i2tTexts.shape[1])]);
            using var imageCount = images.ToScalar();
            var (distinct, inverse, _) = pairTexts.mul(imageCount).add(pairImages).unique(sorted: true, return_inverse: true);
            var probability = Match(distinct.div(imageCount, rounding_mode: RoundingMode.floor), distinct.remainder(imageCount)).index_select(0, inverse!);
            var t2iCount = t2iImages.numel();
            var t2i = Combine(images, t2iTop, t2iImages, probability.narrow(0, 0, t2iCount));
            var i2t = Combine(captions, i2tTop, i2tTexts, probability.narrow(0, t2iCount, probability.shape[0] - t2iCount));
            return (t2i.MoveToOuterDisposeScope(), i2t.MoveToOuterDisposeScope());
        }
        finally
        {
            if (wasTraining.Item1) model.train();
            if (wasTraining.Item2) heads.train();
        }
    }

    /// <summary>
    /// The re-ranking rule on a score matrix [Q, C]: each row's top K columns get score + probability(row, column),
    /// all others <see cref="Excluded"/>. <paramref name="probability"/> takes the pairs as two int64 vectors
    /// (query rows, candidate columns) and returns one matching probability per pair.
    /// </summary>
    public static Tensor Rerank(Tensor scores, int topK, Func<Tensor, Tensor, Tensor> probability)
    {
        using var scope = NewDisposeScope();
        var (top, columns) = Candidates(scores, topK);
        var p = probability(Rows(scores.shape[0], columns.shape[1]), columns.reshape(-1));
        return Combine(scores.shape[1], top, columns, p).MoveToOuterDisposeScope();
    }

    /// <summary>Each row's top K scores and their columns, [Q, min(K, C)].</summary>
    public static (Tensor Top, Tensor Columns) Candidates(Tensor scores, int topK)
    {
        var (top, columns) = scores.topk((int)Math.Min(topK, scores.shape[1]), 1);
        return (top, columns);
    }

    /// <summary>[Q, C] scores: candidate (q, columns[q, j]) gets top[q, j] + probability[q·K + j], the rest <see cref="Excluded"/>.</summary>
    public static Tensor Combine(long candidates, Tensor top, Tensor columns, Tensor probability)
    {
        using var scope = NewDisposeScope();
        using var excluded = Excluded.ToScalar();
        var result = full(top.shape[0], candidates, excluded, ScalarType.Float32, top.device);
        if (top.numel() == 0) return result.MoveToOuterDisposeScope();
        var p = probability.to(ScalarType.Float32).view(top.shape[0], top.shape[1]);
        result.scatter_(1, columns, Scalars.Add(top.to(ScalarType.Float32), p));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>0,…,0, 1,…,1, … (each row index <paramref name="repeat"/> times), int64.</summary>
    private static Tensor Rows(long rows, long repeat)
    {
        using var scope = NewDisposeScope();
        return Scalars.Range(rows).unsqueeze(1).expand(rows, repeat).reshape(-1).MoveToOuterDisposeScope();
    }
}
