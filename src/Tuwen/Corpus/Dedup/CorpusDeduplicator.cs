using Tuwen.Corpus.Output;
using Tuwen.Corpus.Pipeline;

namespace Tuwen.Corpus.Dedup;

/// <summary>
/// The whole-corpus de-duplication pass over the units' hash files, in unit order, so the first occurrence (the
/// lowest key) is kept whatever worker produced it. Checks, most specific first: the same image with the same
/// caption (pair), the same image bytes (exact, SHA-256), a near copy (difference hash within the threshold).
/// Digests are kept as their first 128 bits: a tenth of the memory of strings, and still no collision to fear
/// at a billion images.
/// </summary>
public sealed class CorpusDeduplicator(CorpusBuildOptions options)
{
    private readonly HashSet<(UInt128, ulong)> _pairs = [];
    private readonly HashSet<UInt128> _images = [];
    private readonly PerceptualIndex _perceptual = new(options.PerceptualThreshold);

    /// <summary>Null to keep the sample, or the dedup reason to drop it.</summary>
    public string? Check(HashRecord record)
    {
        var image = UInt128.Parse(record.Sha256.AsSpan(0, 32), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        if (options.DedupPairs && _pairs.Contains((image, record.CaptionHash))) return "dedup.pair";
        if (options.DedupExact && _images.Contains(image)) return "dedup.exact";
        if (options.DedupPerceptual && _perceptual.ContainsNear(record.DHash)) return "dedup.perceptual";
        _pairs.Add((image, record.CaptionHash));
        _images.Add(image);
        if (options.DedupPerceptual) _perceptual.Add(record.DHash);
        return null;
    }
}
