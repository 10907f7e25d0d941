using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Interop.PyTorch;

/// <summary>
/// Reads the state_dict out of a PyTorch checkpoint (the zip format torch.save writes since 1.6) without Python
/// and without running the pickle: data.pkl goes through <see cref="RestrictedUnpickler"/>, the tensors are
/// rebuilt from the raw little-endian storages in data/N.
/// </summary>
public static class TorchCheckpointReader
{
    /// <summary>
    /// Returns name → tensor. A top-level dict holding the weights under "state_dict" or "model" (Chinese-CLIP
    /// nests them under "state_dict") is unwrapped, and a leading "module." (left by DataParallel) is stripped.
    /// The caller owns the returned tensors.
    /// </summary>
    public static Dictionary<string, Tensor> ReadStateDict(string path)
    {
        if (!File.Exists(path)) throw new TuwenException($"checkpoint {path} does not exist");
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new TuwenException(
                $"cannot read {path}: it is not a zip archive; checkpoints saved by torch older than 1.6 " +
                "(or with _use_new_zipfile_serialization=False) are not supported, re-save them with a newer torch", e);
        }
        using (zip)
            return Read(zip, path);
    }

    static Dictionary<string, Tensor> Read(ZipArchive zip, string path)
    {
        // The folder inside the zip is named after the file torch.save first wrote, so find it by its data.pkl.
        var pkl = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)
                                                  && e.FullName.Count(c => c == '/') == 1)
                  ?? throw new TuwenException($"cannot read {path}: the zip has no ARCHIVE/data.pkl, so it is not a torch checkpoint");
        string prefix = pkl.FullName[..^"data.pkl".Length];
        var order = zip.GetEntry(prefix + "byteorder");
        if (order is not null && ReadAll(order).AsSpan().SequenceEqual("big"u8))
            throw new TuwenException($"cannot read {path}: big-endian checkpoints are not supported");
        if (!BitConverter.IsLittleEndian)
            throw new TuwenException("reading torch checkpoints needs a little-endian machine");

        var root = RestrictedUnpickler.Load(ReadAll(pkl), path);
        var dict = Unwrap(root, path);

        var storages = new Dictionary<string, Tensor>();
        var result = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (key, value) in dict)
            {
                if (key is not string name)
                    throw new TuwenException($"cannot read {path}: state_dict key {key} is not a string");
                if (value is not TensorRef t)
                    throw new TuwenException($"cannot read {path}: state_dict entry '{name}' is not a tensor");
                if (name.StartsWith("module.", StringComparison.Ordinal)) name = name["module.".Length..];
                if (!storages.TryGetValue(t.Storage.Key, out var storage))
                    storages[t.Storage.Key] = storage = LoadStorage(zip, prefix, t.Storage, path);
                result[name] = Materialize(storage, t, name, path);
            }
        }
        catch
        {
            foreach (var r in result.Values) r.Dispose();
            throw;
        }
        finally
        {
            foreach (var s in storages.Values) s.Dispose();
        }
        return result;
    }

    static Dictionary<object, object?> Unwrap(object? root, string path)
    {
        if (root is not Dictionary<object, object?> dict)
            throw new TuwenException($"cannot read {path}: the checkpoint is not a dict of tensors");
        foreach (var key in new[] { "state_dict", "model" })
            if (dict.TryGetValue(key, out var inner) && inner is Dictionary<object, object?> nested)
                return nested;
        return dict;
    }

    public static ScalarType DTypeOf(string storageType) => storageType switch
    {
        "torch.FloatStorage" => ScalarType.Float32,
        "torch.HalfStorage" => ScalarType.Float16,
        "torch.BFloat16Storage" => ScalarType.BFloat16,
        "torch.DoubleStorage" => ScalarType.Float64,
        "torch.LongStorage" => ScalarType.Int64,
        "torch.IntStorage" => ScalarType.Int32,
        "torch.ShortStorage" => ScalarType.Int16,
        "torch.CharStorage" => ScalarType.Int8,
        "torch.ByteStorage" => ScalarType.Byte,
        "torch.BoolStorage" => ScalarType.Bool,
        _ => throw new TuwenException($"unsupported tensor storage type {storageType}"),
    };

    static int ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    static Tensor LoadStorage(ZipArchive zip, string prefix, StorageRef s, string path)
    {
        var dtype = DTypeOf(s.StorageType);
        var entry = zip.GetEntry($"{prefix}data/{s.Key}")
                    ?? throw new TuwenException($"cannot read {path}: storage data/{s.Key} is missing from the zip");
        int size = ElementSize(dtype);
        if (s.Numel < 0 || s.Numel > Array.MaxLength / size)
            throw new TuwenException($"cannot read {path}: storage data/{s.Key} claims {s.Numel} elements");
        long need = s.Numel * size;
        if (entry.Length < need)
            throw new TuwenException(
                $"cannot read {path}: storage data/{s.Key} is truncated ({entry.Length} bytes, {need} expected)");
        var bytes = ReadAll(entry);
        if (bytes.Length < need)
            throw new TuwenException(
                $"cannot read {path}: storage data/{s.Key} is truncated ({bytes.Length} bytes, {need} expected)");
        // Copying the raw bytes (not converting values) keeps fp16/bf16 bit patterns exact.
        var storage = torch.empty(s.Numel, dtype);
        storage.bytes = bytes.AsSpan(0, (int)need);
        return storage;
    }

    static Tensor Materialize(Tensor storage, TensorRef t, string name, string path)
    {
        if (t.Size.Length != t.Stride.Length || t.Size.Any(d => d < 0) || t.Stride.Any(d => d < 0) || t.Offset < 0)
            throw new TuwenException($"cannot read {path}: tensor '{name}' has an invalid size/stride");
        var dtype = DTypeOf(t.Storage.StorageType);
        // The furthest element the view touches must lie inside the storage, else as_strided would read past it.
        long last = t.Offset;
        bool empty = t.Size.Any(d => d == 0);
        try
        {
            for (int i = 0; i < t.Size.Length && !empty; i++) last = checked(last + (t.Size[i] - 1) * t.Stride[i]);
        }
        catch (OverflowException)
        {
            last = long.MaxValue;
        }
        if (!empty && last >= storage.shape[0])
            throw new TuwenException(
                $"cannot read {path}: tensor '{name}' reaches element {last} of a storage with {storage.shape[0]}");
        if (empty) return torch.empty(t.Size, dtype);
        using var view = storage.as_strided(t.Size, t.Stride, t.Offset);
        // A fresh contiguous copy: tensors that shared a storage in Python must not alias each other here.
        var owned = torch.empty(t.Size, dtype);
        owned.copy_(view);
        return owned;
    }

    static byte[] ReadAll(ZipArchiveEntry entry)
    {
        using var s = entry.Open();
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }
}
