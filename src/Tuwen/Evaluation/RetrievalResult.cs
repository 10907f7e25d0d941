namespace Tuwen.Evaluation;

/// <summary>
/// Retrieval in one direction. Recalls are percentages (0–100) of <see cref="Queries"/>; ranks are 1-based
/// ranks of the best-placed positive, with ties against a negative resolved against the query
/// (see <see cref="RetrievalMetrics"/>).
/// </summary>
public sealed record RetrievalDirectionResult(
    int Queries,
    int HitsAt1,
    int HitsAt5,
    int HitsAt10,
    double MeanRank,
    double MedianRank,
    IReadOnlyList<int> FirstPositiveRanks)
{
    public double RecallAt1 => Percent(HitsAt1);
    public double RecallAt5 => Percent(HitsAt5);
    public double RecallAt10 => Percent(HitsAt10);

    /// <summary>Mean of R@1, R@5 and R@10 in this direction.</summary>
    public double MeanRecall => (RecallAt1 + RecallAt5 + RecallAt10) / 3.0;

    private double Percent(int hits) => 100.0 * hits / Queries;

    /// <summary>Summarises 1-based first-positive ranks the way open_clip does.</summary>
    internal static RetrievalDirectionResult FromRanks(int[] ranks)
    {
        if (ranks.Length == 0) throw new ArgumentException("no queries", nameof(ranks));
        var sorted = (int[])ranks.Clone();
        Array.Sort(sorted);
        int mid = sorted.Length / 2;
        double median = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
        return new RetrievalDirectionResult(
            Queries: ranks.Length,
            HitsAt1: ranks.Count(r => r <= 1),
            HitsAt5: ranks.Count(r => r <= 5),
            HitsAt10: ranks.Count(r => r <= 10),
            MeanRank: ranks.Average(r => (double)r),
            // open_clip reports floor(median(0-based rank)) + 1; for integer ranks that is floor(median),
            // so an even count with middle ranks 1 and 2 gives 1, not 1.5. Kept for comparability.
            MedianRank: Math.Floor(median),
            FirstPositiveRanks: ranks);
    }
}

/// <summary>
/// Both retrieval directions. <see cref="MeanRecall"/> is Chinese-CLIP's "MR": the mean of the six recalls.
/// It is deliberately not called MR in code or reports, because open_clip-style tables use "MR" for median rank.
/// </summary>
public sealed record RetrievalResult(RetrievalDirectionResult TextToImage, RetrievalDirectionResult ImageToText)
{
    public int Texts => TextToImage.Queries;
    public int Images => ImageToText.Queries;

    public double MeanRecall =>
        (TextToImage.RecallAt1 + TextToImage.RecallAt5 + TextToImage.RecallAt10
         + ImageToText.RecallAt1 + ImageToText.RecallAt5 + ImageToText.RecallAt10) / 6.0;
}
