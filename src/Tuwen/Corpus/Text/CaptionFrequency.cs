namespace Tuwen.Corpus.Text;

/// <summary>
/// On how many images each normalised text occurs across the whole input, counted before any download so
/// that every worker (each reading all inputs) takes the same decision. Texts are keyed by a 64-bit FNV-1a
/// hash: exact counts without keeping every caption in memory; a collision merely adds two counts.
/// </summary>
public sealed class CaptionFrequency
{
    private readonly Dictionary<ulong, int> _counts = [];

    public void AddImage(IEnumerable<string> distinctTexts)
    {
        foreach (var text in distinctTexts)
        {
            var key = Hash(text);
            _counts[key] = _counts.GetValueOrDefault(key) + 1;
        }
    }

    public int Count(string text) => _counts.GetValueOrDefault(Hash(text));

    public int DistinctTexts => _counts.Count;

    public static ulong Hash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * 1099511628211UL;
            hash = (hash ^ (byte)(c >> 8)) * 1099511628211UL;
        }
        return hash;
    }
}
