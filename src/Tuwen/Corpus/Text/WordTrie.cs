namespace Tuwen.Corpus.Text;

/// <summary>
/// A character trie answering "does this text contain any of the words": one walk per start position, so the
/// cost grows with text length times the longest word, not with the size of the list.
/// </summary>
internal sealed class WordTrie
{
    private sealed class Node
    {
        public Dictionary<char, Node>? Next;
        public bool End;
    }

    private readonly Node _root = new();

    public WordTrie(IEnumerable<string> words)
    {
        foreach (var word in words)
        {
            if (string.IsNullOrEmpty(word)) continue;
            var node = _root;
            foreach (var c in word)
            {
                node.Next ??= [];
                if (!node.Next.TryGetValue(c, out var child)) node.Next[c] = child = new Node();
                node = child;
            }
            if (!node.End) Count++;
            node.End = true;
        }
    }

    public int Count { get; private set; }

    public bool ContainsAny(string text)
    {
        for (var start = 0; start < text.Length; start++)
        {
            var node = _root;
            for (var i = start; i < text.Length; i++)
            {
                if (node.Next is null || !node.Next.TryGetValue(text[i], out node)) break;
                if (node.End) return true;
            }
        }
        return false;
    }
}
