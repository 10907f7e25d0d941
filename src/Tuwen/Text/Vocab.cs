using System.Text;

namespace Tuwen.Text;

/// <summary>
/// A BERT word-piece vocabulary: token strings indexed by id (the line number, from 0, in vocab.txt).
/// Immutable once built, so one instance can be shared by any number of threads.
/// </summary>
public sealed class Vocab
{
    public const string PadToken = "[PAD]";
    public const string UnkToken = "[UNK]";
    public const string ClsToken = "[CLS]";
    public const string SepToken = "[SEP]";
    public const string MaskToken = "[MASK]";
    public const string ContinuationPrefix = "##";

    private readonly string[] tokens;
    private readonly IReadOnlyList<string> readOnlyTokens;
    private readonly Dictionary<string, int> idByToken;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> idBySpan;
    // Ids of "##x" tokens keyed by "x", so word-piece matching can look up a continuation without building "##x".
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> continuationIdBySpan;
    private readonly int padId, unkId, clsId, sepId, maskId;
    private readonly int longestToken, longestContinuation;

    private Vocab(string[] tokens)
    {
        this.tokens = tokens;
        // A bare array could be cast back and changed, which would break the immutability threads rely on.
        readOnlyTokens = Array.AsReadOnly(tokens);
        idByToken = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        var continuationIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < tokens.Length; id++)
        {
            // A repeated token maps to its last id, as in BERT's load_vocab (a dict filled line by line).
            string token = tokens[id];
            idByToken[token] = id;
            longestToken = Math.Max(longestToken, token.Length);
            if (token.StartsWith(ContinuationPrefix, StringComparison.Ordinal))
            {
                continuationIds[token[ContinuationPrefix.Length..]] = id;
                longestContinuation = Math.Max(longestContinuation, token.Length - ContinuationPrefix.Length);
            }
        }
        idBySpan = idByToken.GetAlternateLookup<ReadOnlySpan<char>>();
        continuationIdBySpan = continuationIds.GetAlternateLookup<ReadOnlySpan<char>>();
        padId = IdOrMissing(PadToken);
        unkId = IdOrMissing(UnkToken);
        clsId = IdOrMissing(ClsToken);
        sepId = IdOrMissing(SepToken);
        maskId = IdOrMissing(MaskToken);
    }

    /// <summary>
    /// Reads a vocab.txt: UTF-8, one token per line. Lines are split on '\n' only, because tokens may contain other
    /// line-breaking characters (the Chinese-CLIP vocab has U+2028 in ids 343 and 13502); one trailing '\r' per line
    /// is removed, and only a final empty line (the file's last newline) is dropped.
    /// </summary>
    public static Vocab Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new TuwenException($"vocab file not found: {path}");
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TuwenException($"cannot read vocab file {path}: {e.Message}", e);
        }
        var lines = text.Split('\n');
        int count = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        var tokens = new string[count];
        for (int i = 0; i < count; i++)
            tokens[i] = lines[i].EndsWith('\r') ? lines[i][..^1] : lines[i];
        return new Vocab(tokens);
    }

    public static Vocab FromTokens(IEnumerable<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var array = tokens.ToArray();
        for (int i = 0; i < array.Length; i++)
            if (array[i] is null) throw new ArgumentException($"token {i} is null", nameof(tokens));
        return new Vocab(array);
    }

    /// <summary>Writes one token per line, each ended by '\n', UTF-8 without a byte-order mark.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var text = new StringBuilder(tokens.Length * 4);
        for (int id = 0; id < tokens.Length; id++)
        {
            string token = tokens[id];
            // Such tokens would come back split or shortened, and every later id would shift.
            if (token.Contains('\n') || token.EndsWith('\r'))
                throw new TuwenException($"vocab token {id} contains a line break and cannot be saved one per line");
            text.Append(token).Append('\n');
        }
        try
        {
            File.WriteAllText(path, text.ToString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TuwenException($"cannot write vocab file {path}: {e.Message}", e);
        }
    }

    public int Count => tokens.Length;

    public IReadOnlyList<string> Tokens => readOnlyTokens;

    public bool TryGetId(string token, out int id)
    {
        ArgumentNullException.ThrowIfNull(token);
        return idByToken.TryGetValue(token, out id);
    }

    public int this[string token] => TryGetId(token, out int id)
        ? id
        : throw new KeyNotFoundException($"token '{token}' is not in the vocab");

    public string this[int id] => tokens[id];

    public int PadId => Special(padId, PadToken);
    public int UnkId => Special(unkId, UnkToken);
    public int ClsId => Special(clsId, ClsToken);
    public int SepId => Special(sepId, SepToken);
    public int MaskId => Special(maskId, MaskToken);

    /// <summary>UTF-16 length of the longest token: no longer piece can match, so matching need not try one.</summary>
    internal int LongestTokenLength => longestToken;

    /// <summary>UTF-16 length of the longest "##" token without its prefix.</summary>
    internal int LongestContinuationLength => longestContinuation;

    internal bool TryGetId(ReadOnlySpan<char> token, out int id) => idBySpan.TryGetValue(token, out id);

    /// <summary>Looks up "##" + <paramref name="suffix"/>.</summary>
    internal bool TryGetContinuationId(ReadOnlySpan<char> suffix, out int id) =>
        continuationIdBySpan.TryGetValue(suffix, out id);

    private int IdOrMissing(string token) => idByToken.TryGetValue(token, out int id) ? id : -1;

    private static int Special(int id, string token) =>
        id >= 0 ? id : throw new TuwenException($"vocab has no {token} token");
}
