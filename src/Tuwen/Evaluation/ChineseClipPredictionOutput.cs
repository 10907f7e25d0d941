using System.Text;
using static TorchSharp.torch;

namespace Tuwen.Evaluation;

/// <summary>Top-k candidate ids per query and the 1-based rank of each query's best-placed positive.</summary>
public sealed record RankedQueries(IReadOnlyList<long> QueryIds, IReadOnlyList<long[]> TopIds, IReadOnlyList<int> FirstPositiveRanks);

/// <summary>
/// Chinese-CLIP's kNN prediction step (make_topk_predictions.py and its _tr twin): every query scored against
/// every candidate by dot product of L2-normalised fp32 features, candidates sorted by score, best first, the
/// first k kept. Ties keep the candidates' file order, as Python's stable sort does there, so the same features
/// give the same lists. The rank of the best positive under that same order is what recall@k counts, so
/// these ranks and the score computed from the written lists agree by construction.
/// </summary>
public static class ChineseClipPredictionOutput
{
    public const int TopK = 10;
    /// <summary>Score floats held at once (256 MB): queries are scored in blocks of this many scores / candidates.</summary>
    private const long ScoresPerBlock = 64L << 20;

    /// <param name="queries">[Q, dim] row-major.</param>
    /// <param name="candidates">[C, dim] row-major.</param>
    /// <param name="positives">Per query, the candidate ids that count as hits (may be empty: then every rank is a miss, C + 1).</param>
    public static RankedQueries Rank(float[] queries, IReadOnlyList<long> queryIds, float[] candidates, IReadOnlyList<long> candidateIds,
        IReadOnlyList<IReadOnlyCollection<long>> positives, int dim, int k = TopK)
    {
        int q = queryIds.Count, c = candidateIds.Count;
        if (queries.Length != (long)q * dim || candidates.Length != (long)c * dim)
            throw new ArgumentException($"feature arrays do not hold {q} and {c} rows of {dim}");
        if (positives.Count != q) throw new ArgumentException($"{positives.Count} positive lists for {q} queries", nameof(positives));
        if (c == 0) throw new TuwenException("no candidates to rank");
        var candidateIndex = new Dictionary<long, int>(c);
        for (int i = 0; i < c; i++)
            if (!candidateIndex.TryAdd(candidateIds[i], i)) throw new TuwenException($"candidate id {candidateIds[i]} occurs twice");

        var top = new long[q][];
        var ranks = new int[q];
        using var candidateTensor = tensor(candidates, [c, dim]);
        int queryChunk = (int)Math.Clamp(ScoresPerBlock / c, 1, 256);
        var scores = new float[Math.Min(q, queryChunk) * (long)c];
        for (int start = 0; start < q; start += queryChunk)
        {
            int count = Math.Min(queryChunk, q - start);
            using (var scope = NewDisposeScope())
            {
                var chunk = tensor(queries.AsSpan(start * dim, count * dim).ToArray(), [count, dim]);
                chunk.matmul(candidateTensor.t()).contiguous().data<float>().CopyTo(scores.AsSpan(0, count * c));
            }
            Parallel.For(0, count, row =>
            {
                var rowScores = new ReadOnlySpan<float>(scores, row * c, c);
                top[start + row] = TopIndices(rowScores, Math.Min(k, c)).Select(i => candidateIds[i]).ToArray();
                ranks[start + row] = BestPositiveRank(rowScores, positives[start + row], candidateIndex, start + row, queryIds);
            });
        }
        return new RankedQueries(queryIds.ToArray(), top, ranks);
    }

    /// <summary>Writes one JSON line per query: {"text_id": …, "image_ids": […]} or the image→text form.</summary>
    public static void Write(TextWriter writer, RankedQueries ranked, string queryKey, string candidatesKey)
    {
        var line = new StringBuilder();
        for (int i = 0; i < ranked.QueryIds.Count; i++)
        {
            line.Clear().Append("{\"").Append(queryKey).Append("\": ").Append(ranked.QueryIds[i])
                .Append(", \"").Append(candidatesKey).Append("\": ").Append(ChineseClipOutputFormat.IntegerList(ranked.TopIds[i])).Append('}');
            writer.Write(line);
            writer.Write('\n');
        }
    }

    /// <summary>Indices of the k best scores, best first; equal scores in index order.</summary>
    internal static int[] TopIndices(ReadOnlySpan<float> scores, int k)
    {
        var best = new int[k];
        int filled = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            var s = scores[i];
            // Strictly greater only: an equal later candidate never displaces an earlier one.
            if (filled == k && !(s > scores[best[k - 1]])) continue;
            int at = filled < k ? filled++ : k - 1;
            while (at > 0 && s > scores[best[at - 1]])
            {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = i;
        }
        return best;
    }

    private static int BestPositiveRank(ReadOnlySpan<float> scores, IReadOnlyCollection<long> positives, Dictionary<long, int> candidateIndex,
        int query, IReadOnlyList<long> queryIds)
    {
        int best = -1;
        foreach (var id in positives)
        {
            if (!candidateIndex.TryGetValue(id, out int index))
                throw new TuwenException($"query {queryIds[query]} names {id}, which is not among the candidates");
            if (best < 0 || scores[index] > scores[best] || (scores[index] == scores[best] && index < best)) best = index;
        }
        if (best < 0) return scores.Length + 1;
        var bestScore = scores[best];
        int rank = 1;
        for (int i = 0; i < scores.Length; i++)
            if (scores[i] > bestScore || (scores[i] == bestScore && i < best)) rank++;
        return rank;
    }
}
