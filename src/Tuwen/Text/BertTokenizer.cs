namespace Tuwen.Text;

/// <summary>
/// BERT's FullTokenizer (bert-base-chinese settings: lower-casing, accent stripping, one token per CJK ideograph)
/// over a given vocab, id for id, plus Chinese-CLIP's fixed-length encoding with [CLS]/[SEP] and zero padding.
/// Stateless after construction, so one instance may serve many threads at once.
/// </summary>
public sealed class BertTokenizer
{
    /// <summary>BERT's max_input_chars_per_word: a longer word (in code points) becomes a single [UNK].</summary>
    public const int MaxInputCharsPerWord = 100;

    /// <summary>Chinese-CLIP's context length; Wukong uses 32, R2D2 64, BriVL 80.</summary>
    public const int DefaultContextLength = 52;

    private readonly Vocab vocab;
    private readonly int unkId, clsId, sepId;
    // Whole-word id of every single BMP character (or -1): most Chinese words are one ideograph, so this
    // replaces a hash lookup per character with an array read.
    private readonly int[] singleCharIds = new int[0x10000];

    public BertTokenizer(Vocab vocab)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        this.vocab = vocab;
        unkId = vocab.UnkId;
        clsId = vocab.ClsId;
        sepId = vocab.SepId;
        // Encode pads with zeros and AttentionMask treats 0 as padding, as Chinese-CLIP does.
        if (vocab.PadId != 0) throw new TuwenException($"vocab has [PAD] at id {vocab.PadId}; it must be id 0");
        Array.Fill(singleCharIds, -1);
        for (int c = 0; c < singleCharIds.Length; c++)
        {
            if (char.IsSurrogate((char)c)) continue;
            char ch = (char)c;
            if (vocab.TryGetId(new ReadOnlySpan<char>(in ch), out int id)) singleCharIds[c] = id;
        }
    }

    public Vocab Vocab => vocab;

    /// <summary>The word pieces of <paramref name="text"/>, without [CLS]/[SEP].</summary>
    public IReadOnlyList<string> Tokenize(string text)
    {
        var ids = EncodeIds(text);
        var pieces = new string[ids.Length];
        for (int i = 0; i < ids.Length; i++) pieces[i] = vocab[ids[i]];
        return pieces;
    }

    /// <summary>The ids of the word pieces of <paramref name="text"/>, without [CLS]/[SEP] and untruncated.</summary>
    public int[] EncodeIds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sink = new IdListSink(this, new List<int>(text.Length + 4));
        BertBasicTokenizer.Run(text, ref sink);
        return sink.Ids.ToArray();
    }

    /// <summary>
    /// Chinese-CLIP's tokenize for one text: [CLS], the first contextLength − 2 piece ids, [SEP], then zeros
    /// ([PAD]) up to exactly <paramref name="contextLength"/> values.
    /// </summary>
    public long[] Encode(string text, int contextLength = DefaultContextLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        CheckContextLength(contextLength);
        var row = new long[contextLength];
        EncodeRow(text, row, 0, contextLength);
        return row;
    }

    /// <summary>Encode for each text, as one row-major [texts.Count × contextLength] array.</summary>
    public long[] EncodeBatch(IReadOnlyList<string> texts, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(texts);
        CheckContextLength(contextLength);
        var rows = new long[checked(texts.Count * contextLength)];
        for (int i = 0; i < texts.Count; i++)
        {
            var text = texts[i] ?? throw new ArgumentException($"text {i} is null", nameof(texts));
            EncodeRow(text, rows, i * contextLength, contextLength);
        }
        return rows;
    }

    /// <summary>1 where the id is not [PAD] (id 0), else 0; same length as <paramref name="ids"/>.</summary>
    public static long[] AttentionMask(long[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var mask = new long[ids.Length];
        for (int i = 0; i < ids.Length; i++) mask[i] = ids[i] != 0 ? 1 : 0;
        return mask;
    }

    private static void CheckContextLength(int contextLength)
    {
        if (contextLength < 2)
            throw new TuwenException($"context length must be at least 2 (room for [CLS] and [SEP]), got {contextLength}");
    }

    /// <summary>Writes one encoded row into rows[offset .. offset + contextLength), which must be zero.</summary>
    private void EncodeRow(string text, long[] rows, int offset, int contextLength)
    {
        rows[offset] = clsId;
        var sink = new RowSink(this, rows, offset + 1, contextLength - 2);
        if (contextLength > 2) BertBasicTokenizer.Run(text, ref sink);
        rows[offset + 1 + sink.Count] = sepId;
    }

    /// <summary>
    /// BERT's WordpieceTokenizer for one word: greedy longest-match-first, continuation pieces looked up as "##"+rest;
    /// if any position cannot be matched, or the word has more than 100 code points, the whole word is one [UNK].
    /// Writes at most <see cref="MaxInputCharsPerWord"/> ids and returns how many.
    /// </summary>
    internal int WordPiece(ReadOnlySpan<char> word, Span<int> pieces)
    {
        if (word.Length == 1)
        {
            int id = singleCharIds[word[0]];
            pieces[0] = id >= 0 ? id : unkId;
            return 1;
        }

        int codePoints = word.Length;
        foreach (char c in word)
            if (char.IsLowSurrogate(c)) codePoints--;
        if (codePoints > MaxInputCharsPerWord)
        {
            pieces[0] = unkId;
            return 1;
        }

        int count = 0;
        for (int start = 0; start < word.Length;)
        {
            bool first = start == 0;
            // Pieces longer than the longest vocab entry cannot match, so the search starts at that length.
            int end = Math.Min(word.Length, start + (first ? vocab.LongestTokenLength : vocab.LongestContinuationLength));
            if (end < word.Length && char.IsLowSurrogate(word[end])) end--;
            bool found = false;
            int id = 0;
            while (end > start)
            {
                var piece = word[start..end];
                found = first ? vocab.TryGetId(piece, out id) : vocab.TryGetContinuationId(piece, out id);
                if (found) break;
                end -= end - start >= 2 && char.IsLowSurrogate(word[end - 1]) ? 2 : 1;
            }
            if (!found)
            {
                pieces[0] = unkId;
                return 1;
            }
            pieces[count++] = id;
            start = end;
        }
        return count;
    }

    private struct IdListSink(BertTokenizer tokenizer, List<int> ids) : IWordSink
    {
        public readonly List<int> Ids => ids;

        public readonly bool OnWord(ReadOnlySpan<char> word)
        {
            Span<int> pieces = stackalloc int[MaxInputCharsPerWord];
            int n = tokenizer.WordPiece(word, pieces);
            for (int i = 0; i < n; i++) ids.Add(pieces[i]);
            return true;
        }
    }

    /// <summary>Writes piece ids into a row until it holds <c>capacity</c> of them, then stops the tokenizer.</summary>
    private struct RowSink(BertTokenizer tokenizer, long[] rows, int start, int capacity) : IWordSink
    {
        public int Count { get; private set; }

        public bool OnWord(ReadOnlySpan<char> word)
        {
            Span<int> pieces = stackalloc int[MaxInputCharsPerWord];
            int n = Math.Min(tokenizer.WordPiece(word, pieces), capacity - Count);
            for (int i = 0; i < n; i++) rows[start + Count + i] = pieces[i];
            Count += n;
            return Count < capacity;
        }
    }
}
