using System.Buffers.Binary;
using System.Text;

namespace Tuwen.Interop.PyTorch;

/// <summary>A module-qualified Python name the pickle referred to (never imported, only compared).</summary>
public sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A storage the pickle pointed at through a persistent id; the bytes live in the zip entry data/Key.</summary>
public sealed record StorageRef(string StorageType, string Key, string Location, long Numel);

/// <summary>What torch._utils._rebuild_tensor_v2 would have built, kept as plain numbers until the storage is read.</summary>
public sealed record TensorRef(StorageRef Storage, long Offset, long[] Size, long[] Stride);

/// <summary>
/// A pickle reader for the subset torch.save writes. It never imports or calls anything: GLOBAL names are checked
/// against a fixed allow-list the moment they are read, and REDUCE is interpreted only for the allowed callables,
/// so a checkpoint from the internet cannot run code (Python's own pickle would run os.system happily).
/// Dicts come back as Dictionary&lt;object, object?&gt;, lists as List&lt;object?&gt;, tuples as object?[].
/// </summary>
public sealed class RestrictedUnpickler
{
    public static readonly IReadOnlySet<string> StorageTypes = new HashSet<string>
    {
        "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.DoubleStorage",
        "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
        "torch.ByteStorage", "torch.BoolStorage",
    };

    const string OrderedDict = "collections.OrderedDict";
    const string RebuildTensor = "torch._utils._rebuild_tensor_v2";
    const string RebuildParameter = "torch._utils._rebuild_parameter";

    // Shared instance marks where a MARK opcode was pushed; it can never be a value a pickle produces.
    static readonly object Mark = new();

    readonly byte[] _data;
    readonly string _source;
    readonly bool _plainOnly;
    int _pos;
    readonly List<object?> _stack = new();
    readonly Dictionary<long, object?> _memo = new();

    RestrictedUnpickler(byte[] data, string source, bool plainOnly)
    {
        _data = data;
        _source = source;
        _plainOnly = plainOnly;
    }

    /// <summary>Reads one pickle. <paramref name="source"/> names the file in error messages.</summary>
    public static object? Load(byte[] data, string source) => new RestrictedUnpickler(data, source, plainOnly: false).Run();

    /// <summary>
    /// Reads a pickle of plain values only (numbers, strings, bytes, tuples, lists, dicts): every global —
    /// even the torch ones <see cref="Load"/> allows — and every persistent id is refused. For data files
    /// such as Chinese-CLIP's LMDB pairs, which never need a class.
    /// </summary>
    public static object? LoadPlain(byte[] data, string source) => new RestrictedUnpickler(data, source, plainOnly: true).Run();

    static bool IsAllowed(string fullName) =>
        fullName is OrderedDict or RebuildTensor or RebuildParameter || StorageTypes.Contains(fullName);

    TuwenException Bad(string why) => new($"cannot read {_source}: {why}");

    object? Run()
    {
        while (true)
        {
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break;                                // PROTO: version does not change what we accept
                case 0x95: Take(8); break;                                   // FRAME: length prefix only, data is inline
                case (byte)'.': return Pop();                                // STOP
                case (byte)'(': _stack.Add(Mark); break;
                case (byte)'}': _stack.Add(new Dictionary<object, object?>()); break;
                case (byte)']': _stack.Add(new List<object?>()); break;
                case (byte)')': _stack.Add(Array.Empty<object?>()); break;
                case (byte)'N': _stack.Add(null); break;
                case 0x88: _stack.Add(true); break;
                case 0x89: _stack.Add(false); break;
                case (byte)'J': _stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': _stack.Add((long)ReadByte()); break;
                case (byte)'M': _stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: _stack.Add(ReadLong1()); break;
                case (byte)'G': _stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'X': _stack.Add(Utf8(Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break;
                case 0x8c: _stack.Add(Utf8(ReadByte())); break;
                case 0x8d: _stack.Add(Utf8(Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(8))))); break;
                case (byte)'C': _stack.Add(Take(ReadByte()).ToArray()); break;
                case (byte)'B': _stack.Add(Take(Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))).ToArray()); break;
                case 0x85: _stack.Add(PopN(1)); break;
                case 0x86: _stack.Add(PopN(2)); break;
                case 0x87: _stack.Add(PopN(3)); break;
                case (byte)'t': _stack.Add(PopToMark().ToArray()); break;
                case (byte)'s': SetItems(PopN(2)); break;
                case (byte)'u': SetItems(PopToMark().ToArray()); break;
                case (byte)'a': Append(PopN(1)); break;
                case (byte)'e': Append(PopToMark().ToArray()); break;
                case (byte)'0': Pop(); break;                                // POP
                case (byte)'1': PopToMark(); break;                          // POP_MARK
                case (byte)'2': _stack.Add(Peek()); break;                   // DUP
                case (byte)'q': _memo[ReadByte()] = Peek(); break;
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(); break;
                case 0x94: _memo[_memo.Count] = Peek(); break;               // MEMOIZE
                case (byte)'h': _stack.Add(Recall(ReadByte())); break;
                case (byte)'j': _stack.Add(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                case (byte)'c': _stack.Add(Global(ReadLine(), ReadLine())); break;
                case 0x93:
                    {
                        var name = Pop() as string;
                        var module = Pop() as string;
                        if (module is null || name is null) throw Bad("STACK_GLOBAL without two strings");
                        _stack.Add(Global(module, name));
                        break;
                    }
                case (byte)'R':
                    {
                        var args = Pop() as object?[] ?? throw Bad("REDUCE arguments are not a tuple");
                        _stack.Add(Reduce(Pop(), args));
                        break;
                    }
                case (byte)'b': Pop(); CheckBuildTarget(); break;       // BUILD: state is dropped, see below
                case (byte)'Q': _stack.Add(PersistentLoad(Pop())); break;
                default:
                    throw Bad($"unsupported pickle opcode 0x{op:x2} at byte {_pos - 1}; only what torch.save writes is accepted");
            }
        }
    }

    // Refuses before anything is built from the name, so a hostile pickle fails at its first foreign global.
    PickleGlobal Global(string module, string name)
    {
        var g = new PickleGlobal(module, name);
        if (_plainOnly)
            throw new TuwenException(
                $"refusing to load {_source}: the pickle references {g}, which could run code; " +
                "only plain values (numbers, strings, tuples, lists, dicts) are accepted here");
        // A storage class torch has but we do not map (complex, quantized, ...) is a dtype problem, not an attack.
        if (module == "torch" && name.EndsWith("Storage", StringComparison.Ordinal) && !IsAllowed(g.ToString()))
            throw Bad($"tensors of storage type {g} are not supported; supported: " +
                      string.Join(", ", StorageTypes.Order(StringComparer.Ordinal)));
        if (!IsAllowed(g.ToString()))
            throw new TuwenException(
                $"refusing to load {_source}: the pickle references {g}, which could run code; " +
                "only tensors and plain containers are accepted");
        return g;
    }

    object? Reduce(object? callable, object?[] args)
    {
        switch ((callable as PickleGlobal)?.ToString())
        {
            case OrderedDict when args.Length == 0:
                return new Dictionary<object, object?>();
            case RebuildTensor when args.Length >= 4:
                {
                    var storage = args[0] as StorageRef ?? throw Bad("_rebuild_tensor_v2 without a storage");
                    return new TensorRef(storage, AsLong(args[1]), LongTuple(args[2]), LongTuple(args[3]));
                }
            case RebuildParameter when args.Length >= 1:
                // A Parameter is a tensor plus requires_grad; for loading weights only the tensor matters.
                return args[0] as TensorRef ?? throw Bad("_rebuild_parameter without a tensor");
            default:
                throw Bad($"refusing to call {callable ?? "None"} with {args.Length} argument(s); " +
                          "only OrderedDict() and tensor rebuilds are interpreted");
        }
    }

    // torch attaches `_metadata` (module versions) to state_dicts through BUILD; weights do not need it.
    void CheckBuildTarget()
    {
        var target = Peek();
        if (target is not (Dictionary<object, object?> or TensorRef))
            throw Bad($"BUILD on {target?.GetType().Name ?? "None"} is not accepted");
    }

    StorageRef PersistentLoad(object? pid)
    {
        if (_plainOnly) throw Bad("persistent ids are not accepted in a pickle of plain values");
        if (pid is not object?[] { Length: 5 } t || t[0] as string != "storage")
            throw Bad("persistent id is not a ('storage', type, key, location, numel) tuple");
        var type = t[1] as PickleGlobal;
        if (type is null || !StorageTypes.Contains(type.ToString()))
            throw Bad($"unsupported storage type {t[1] ?? "None"}");
        var key = t[2] as string ?? throw Bad("storage key is not a string");
        // Keys become zip entry names; anything but a plain token could escape the data/ folder.
        if (key.Length == 0 || key.Any(ch => !char.IsAsciiLetterOrDigit(ch) && ch != '_'))
            throw Bad($"storage key '{key}' is not a plain name");
        return new StorageRef(type.ToString(), key, t[3] as string ?? "", AsLong(t[4]));
    }

    void SetItems(object?[] kv)
    {
        if (kv.Length % 2 != 0) throw Bad("SETITEMS with an odd number of values");
        if (Peek() is not Dictionary<object, object?> dict) throw Bad("SETITEM(S) on something that is not a dict");
        for (int i = 0; i < kv.Length; i += 2)
            dict[kv[i] ?? throw Bad("dict key None is not supported")] = kv[i + 1];
    }

    void Append(object?[] items)
    {
        if (Peek() is not List<object?> list) throw Bad("APPEND(S) on something that is not a list");
        list.AddRange(items);
    }

    long AsLong(object? v) => v is long l ? l : throw Bad($"expected an integer, got {v?.GetType().Name ?? "None"}");

    long[] LongTuple(object? v) =>
        v is object?[] t ? t.Select(AsLong).ToArray() : throw Bad("expected a tuple of integers");

    object? Recall(long key) => _memo.TryGetValue(key, out var v) ? v : throw Bad($"memo key {key} was never stored");

    object? Peek() => _stack.Count > 0 && _stack[^1] != Mark ? _stack[^1] : throw Bad("stack underflow");

    object? Pop()
    {
        var v = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    object?[] PopN(int n)
    {
        var items = new object?[n];
        for (int i = n - 1; i >= 0; i--) items[i] = Pop();
        return items;
    }

    List<object?> PopToMark()
    {
        int m = _stack.LastIndexOf(Mark);
        if (m < 0) throw Bad("MARK missing");
        var items = _stack.GetRange(m + 1, _stack.Count - m - 1);
        _stack.RemoveRange(m, _stack.Count - m);
        return items;
    }

    long ReadLong1()
    {
        var bytes = Take(ReadByte());
        if (bytes.Length > 8) throw Bad("integer wider than 64 bits");
        long v = 0;
        for (int i = bytes.Length - 1; i >= 0; i--) v = (v << 8) | bytes[i];
        // Two's complement: sign-extend from the top byte that was actually written.
        if (bytes.Length is > 0 and < 8 && (bytes[^1] & 0x80) != 0) v -= 1L << (8 * bytes.Length);
        return v;
    }

    int Length(ulong n) => n <= (ulong)(_data.Length - _pos) ? (int)n : throw Bad("pickle is truncated");

    byte ReadByte() => _pos < _data.Length ? _data[_pos++] : throw Bad("pickle is truncated");

    ReadOnlySpan<byte> Take(int n)
    {
        if (n > _data.Length - _pos) throw Bad("pickle is truncated");
        var span = _data.AsSpan(_pos, n);
        _pos += n;
        return span;
    }

    string Utf8(int n) => Encoding.UTF8.GetString(Take(n));

    string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw Bad("pickle is truncated");
        var s = Encoding.UTF8.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }
}
