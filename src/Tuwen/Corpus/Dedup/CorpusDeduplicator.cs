using Tuwen.Corpus.Output;
using Tuwen.Corpus.Pipeline;

namespace Tuwen.Corpus.Dedup;

/// <summary>
/// The whole-corpus de-duplication pass over the units' hash files, in unit order, so the first occurrence (the
/// lowest key) is kept whatever worker produced it. Checks, most specific first: the same image with the same
/// caption (pair), the same image bytes (exact, SHA-256), a near copy (difference hash within the threshold).
/// </summary>
public sealed class CorpusDeduplicator(CorpusBuildOptions options)
{
    private readonly HashSet<(string, ulong)> _pairs = [];
    private readonly HashSet<string> _images = new(StringComparer.Ordinal);
    private readonly PerceptualIndex _perceptual = new(options.PerceptualThreshold);

    /// <summary>Null to keep the sample, or the dedup reason to drop it.</summary>
    public string? Check(HashRecord record)
    {
        if (options.DedupPairs && _pairs.Contains((record.Sha256, record.CaptionHash))) return "dedup.pair";
        if (options.DedupExact && _images.Contains(record.Sha256)) return "dedup.exact";
        if (options.DedupPerceptual && _perceptual.ContainsNear(record.DHash)) return "dedup.perceptual";
        _pairs.Add((record.Sha256, record.CaptionHash));
        _images.Add(record.Sha256);
        if (options.DedupPerceptual) _perceptual.Add(record.DHash);
        return null;
    }
}
