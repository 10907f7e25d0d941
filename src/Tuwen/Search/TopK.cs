namespace Tuwen.Search;

/// <summary>
/// The best k (score, id) pairs seen so far, as a binary min-heap whose root is the weakest kept hit.
/// Order is score descending, then id ascending, so equal scores give the same answer however the scan
/// was split across threads.
/// </summary>
internal sealed class TopK
{
    private readonly float[] _scores;
    private readonly long[] _ids;
    private int _count;

    public TopK(int k)
    {
        _scores = new float[k];
        _ids = new long[k];
    }

    public int Count => _count;

    /// <summary>The score a candidate must reach to be considered (−∞ until k hits are held).</summary>
    public float Threshold => _count < _scores.Length ? float.NegativeInfinity : _scores[0];

    public void Push(float score, long id)
    {
        if (_count < _scores.Length)
        {
            int i = _count++;
            _scores[i] = score;
            _ids[i] = id;
            SiftUp(i);
        }
        else if (Better(score, id, _scores[0], _ids[0]))
        {
            _scores[0] = score;
            _ids[0] = id;
            SiftDown(0);
        }
    }

    public void MergeFrom(TopK other)
    {
        for (int i = 0; i < other._count; i++) Push(other._scores[i], other._ids[i]);
    }

    /// <summary>The kept hits, best first.</summary>
    public SearchHit[] ToSortedHits()
    {
        var hits = new SearchHit[_count];
        for (int i = 0; i < _count; i++) hits[i] = new SearchHit(_ids[i], _scores[i]);
        Array.Sort(hits, static (a, b) => Better(a.Score, a.Id, b.Score, b.Id) ? -1 : Better(b.Score, b.Id, a.Score, a.Id) ? 1 : 0);
        return hits;
    }

    internal static bool Better(float scoreA, long idA, float scoreB, long idB) =>
        scoreA > scoreB || (scoreA == scoreB && idA < idB);

    private void SiftUp(int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Better(_scores[parent], _ids[parent], _scores[i], _ids[i])) break;
            Swap(i, parent);
            i = parent;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            int left = 2 * i + 1, right = left + 1, weakest = i;
            if (left < _count && Better(_scores[weakest], _ids[weakest], _scores[left], _ids[left])) weakest = left;
            if (right < _count && Better(_scores[weakest], _ids[weakest], _scores[right], _ids[right])) weakest = right;
            if (weakest == i) return;
            Swap(i, weakest);
            i = weakest;
        }
    }

    private void Swap(int a, int b)
    {
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_ids[a], _ids[b]) = (_ids[b], _ids[a]);
    }
}
