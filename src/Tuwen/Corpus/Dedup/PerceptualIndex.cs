using Tuwen.Corpus.Images;

namespace Tuwen.Corpus.Dedup;

/// <summary>
/// Finds a stored 64-bit hash within Hamming distance k of a query without comparing against all of them:
/// the bits are cut into k + 1 bands, and two hashes that differ in at most k bits agree exactly on at least
/// one band (pigeonhole), so only hashes sharing a band value are compared.
/// </summary>
public sealed class PerceptualIndex
{
    private readonly int _threshold;
    private readonly (int Shift, ulong Mask)[] _bands;
    private readonly Dictionary<(int Band, ulong Value), List<ulong>> _buckets = [];

    public PerceptualIndex(int threshold)
    {
        if (threshold is < 0 or > 15) throw new TuwenException($"perceptual threshold must be 0..15 bits, not {threshold}");
        _threshold = threshold;
        var count = threshold + 1;
        _bands = new (int, ulong)[count];
        var start = 0;
        for (var b = 0; b < count; b++)
        {
            var width = 64 / count + (b < 64 % count ? 1 : 0);
            _bands[b] = (start, width == 64 ? ulong.MaxValue : (1UL << width) - 1);
            start += width;
        }
    }

    public int Count { get; private set; }

    public bool ContainsNear(ulong hash)
    {
        for (var b = 0; b < _bands.Length; b++)
        {
            if (!_buckets.TryGetValue((b, (hash >> _bands[b].Shift) & _bands[b].Mask), out var bucket)) continue;
            foreach (var other in bucket)
                if (DifferenceHash.Distance(hash, other) <= _threshold) return true;
        }
        return false;
    }

    public void Add(ulong hash)
    {
        for (var b = 0; b < _bands.Length; b++)
        {
            var key = (b, (hash >> _bands[b].Shift) & _bands[b].Mask);
            if (!_buckets.TryGetValue(key, out var bucket)) _buckets[key] = bucket = [];
            bucket.Add(hash);
        }
        Count++;
    }
}
