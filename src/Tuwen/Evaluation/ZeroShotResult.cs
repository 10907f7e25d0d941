namespace Tuwen.Evaluation;

/// <summary>
/// Zero-shot classification accuracy in percent (0–100). "Top-5" is top-<see cref="TopK"/>, which is
/// min(5, number of classes). Per-class accuracy is null for a class with no samples.
/// </summary>
public sealed record ZeroShotResult(
    IReadOnlyList<string> ClassNames,
    int TopK,
    int Samples,
    int HitsAt1,
    int HitsAtTopK,
    IReadOnlyList<int> ClassSamples,
    IReadOnlyList<int> ClassHitsAt1)
{
    public double Top1Accuracy => 100.0 * HitsAt1 / Samples;
    public double Top5Accuracy => 100.0 * HitsAtTopK / Samples;

    public IReadOnlyList<double?> PerClassAccuracy =>
        ClassSamples.Select((n, c) => n == 0 ? (double?)null : 100.0 * ClassHitsAt1[c] / n).ToArray();

    /// <summary>Top-1 accuracy averaged over the classes that have samples (CLIP_benchmark's mean per-class recall).</summary>
    public double MeanPerClassAccuracy => PerClassAccuracy.Where(a => a.HasValue).Average(a => a!.Value);
}
