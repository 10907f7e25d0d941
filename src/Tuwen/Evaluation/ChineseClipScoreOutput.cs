using System.Text;

namespace Tuwen.Evaluation;

/// <summary>
/// The recall score of Chinese-CLIP's evaluation.py (text→image) and evaluation_tr.py (image→text), computed
/// the way they compute it and written the way they write it. Over every query of the ground truth (including
/// texts with no image, which can only miss): a hit at k when ANY ground-truth id is among the first k
/// predicted ids. Fractions are hits / queries; mean recall is (r1 + r5 + r10) / 3 of the fractions; each is
/// then multiplied by 100 — in that order, so the doubles match Python's bit for bit.
/// </summary>
public sealed record ChineseClipScore(int Queries, int HitsAt1, int HitsAt5, int HitsAt10)
{
    public double R1 => HitsAt1 * 1.0 / Queries;
    public double R5 => HitsAt5 * 1.0 / Queries;
    public double R10 => HitsAt10 * 1.0 / Queries;
    public double MeanRecall => (R1 + R5 + R10) / 3.0;

    /// <summary>
    /// Scores predictions against a ground truth. Like the upstream script it refuses predictions that lack a
    /// query of the ground truth; unlike it, it accepts fewer than 10 predictions when there are fewer than 10 candidates.
    /// </summary>
    /// <param name="reference">Query id → ground-truth ids, in the ground-truth file's order.</param>
    /// <param name="predictions">Query id → predicted ids, best first.</param>
    public static ChineseClipScore Compute(IReadOnlyList<KeyValuePair<long, IReadOnlyList<long>>> reference, IReadOnlyDictionary<long, long[]> predictions)
    {
        if (reference.Count == 0) throw new TuwenException("the ground truth has no queries");
        // Python builds a dict, so a query id listed twice counts once, with its last ground truth.
        var queries = new Dictionary<long, IReadOnlyList<long>>();
        foreach (var (id, truth) in reference) queries[id] = truth;
        int h1 = 0, h5 = 0, h10 = 0;
        foreach (var (id, truth) in queries)
        {
            if (!predictions.TryGetValue(id, out var predicted)) throw new TuwenException($"query {id} has no prediction");
            if (Hit(truth, predicted, 1)) h1++;
            if (Hit(truth, predicted, 5)) h5++;
            if (Hit(truth, predicted, 10)) h10++;
        }
        return new ChineseClipScore(queries.Count, h1, h5, h10);
    }

    private static bool Hit(IReadOnlyList<long> truth, long[] predicted, int k)
    {
        var first = predicted.AsSpan(0, Math.Min(k, predicted.Length));
        foreach (var id in truth)
            if (first.Contains(id)) return true;
        return false;
    }

    /// <summary>
    /// The file evaluation.py writes: <c>{"success": true, "score": …, "scoreJson": {"score": …, "mean_recall": …,
    /// "r1": …, "r5": …, "r10": …}}</c>, no line break at the end.
    /// </summary>
    public string ToJson()
    {
        string score = ChineseClipOutputFormat.Float(MeanRecall * 100);
        var json = new StringBuilder();
        json.Append("{\"success\": true, \"score\": ").Append(score)
            .Append(", \"scoreJson\": {\"score\": ").Append(score)
            .Append(", \"mean_recall\": ").Append(score)
            .Append(", \"r1\": ").Append(ChineseClipOutputFormat.Float(R1 * 100))
            .Append(", \"r5\": ").Append(ChineseClipOutputFormat.Float(R5 * 100))
            .Append(", \"r10\": ").Append(ChineseClipOutputFormat.Float(R10 * 100))
            .Append("}}");
        return json.ToString();
    }
}
