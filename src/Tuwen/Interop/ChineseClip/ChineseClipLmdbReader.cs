using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Interop.Lmdb;

namespace Tuwen.Interop.ChineseClip;

/// <summary>
/// Reads Chinese-CLIP's LMDB form of a split (see <see cref="ChineseClipLmdbStore"/>) as Tuwen samples — the same
/// samples <see cref="ChineseClipDataset.ReadSamples"/> yields for the TSV/JSONL form: one per image that a pair
/// names, keyed <c>cnclip-{image_id}</c>, captions and text ids from its pairs. The structure is checked before the
/// first sample is handed on (counts against num_samples / num_images, every pair unpickled and its image
/// present), so a converter fails on a broken input before writing; only an image whose base64 is corrupt is
/// found when it is reached. Images are yielded in LMDB key order.
/// </summary>
public sealed class ChineseClipLmdbReader
{
    readonly string _imagesPath;
    readonly string _pairsPath;

    public ChineseClipLmdbReader(string directory, string split)
    {
        var splitPath = ChineseClipLmdbStore.FindSplit(directory, split);
        _imagesPath = Path.Combine(splitPath, ChineseClipLmdbStore.ImagesName);
        _pairsPath = Path.Combine(splitPath, ChineseClipLmdbStore.PairsName);
    }

    /// <summary>num_images as recorded in imgs (available before reading).</summary>
    public long ImageCount
    {
        get
        {
            using var file = LmdbDataFile.Open(_imagesPath);
            return CountValue(file, _imagesPath, ChineseClipLmdbStore.ImageCountKey);
        }
    }

    /// <summary>Every (image_id, text_id, text) pair in index order.</summary>
    public IReadOnlyList<ChineseClipLmdbPair> ReadPairs()
    {
        using var file = LmdbDataFile.Open(_pairsPath);
        long count = CountValue(file, _pairsPath, ChineseClipLmdbStore.PairCountKey);
        if (file.Entries - 1 != count)
            throw new TuwenException($"{_pairsPath} is incomplete: {ChineseClipLmdbStore.PairCountKey} says {count} pairs but it holds {file.Entries - 1}");
        // Walked in key order ("0", "1", "10", …) and placed by index, so only the parsed pairs are held.
        var pairs = new ChineseClipLmdbPair?[count];
        foreach (var (k, value) in file.ReadAll())
        {
            var key = Encoding.UTF8.GetString(k);
            if (key == ChineseClipLmdbStore.PairCountKey) continue;
            if (!long.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out long index) || index >= count || pairs[index] is not null)
                throw new TuwenException($"{_pairsPath}: key \"{key}\" is not a pair index below {ChineseClipLmdbStore.PairCountKey} = {count}");
            pairs[index] = ChineseClipLmdbPair.FromPickle(value, $"{_pairsPath} key \"{key}\"");
        }
        return [.. pairs.Select(p => p!.Value)];
    }

    public IEnumerable<Sample> ReadSamples(ChineseClipReadCounts? counts = null)
    {
        counts ??= new ChineseClipReadCounts();
        var byImage = new Dictionary<long, List<ChineseClipLmdbPair>>();
        var texts = new HashSet<long>();
        foreach (var pair in ReadPairs())
        {
            texts.Add(pair.TextId);
            if (!byImage.TryGetValue(pair.ImageId, out var list)) byImage[pair.ImageId] = list = [];
            if (!list.Any(p => p.TextId == pair.TextId)) list.Add(pair);
        }
        counts.Texts = texts.Count;

        using var file = LmdbDataFile.Open(_imagesPath);
        long declared = CountValue(file, _imagesPath, ChineseClipLmdbStore.ImageCountKey);
        var ids = ImageIds(file);
        if (ids.Count != declared)
            throw new TuwenException($"{_imagesPath} is incomplete: {ChineseClipLmdbStore.ImageCountKey} says {declared} images but it holds {ids.Count}");
        var present = ids.Select(i => i.Id).ToHashSet();
        var dangling = byImage.Where(p => !present.Contains(p.Key)).SelectMany(p => p.Value).ToList();
        if (dangling.Count > 0)
        {
            var first = string.Join("; ", dangling.Take(5).Select(p => $"text {p.TextId} names image {p.ImageId}"));
            throw new TuwenException($"{dangling.Count} pair(s) in {_pairsPath} name images missing from {_imagesPath}: {first}");
        }

        foreach (var (id, key) in ids)
        {
            counts.Images++;
            if (!byImage.TryGetValue(id, out var pairs))
            {
                counts.ImagesWithoutText++;
                continue;
            }
            var source = $"{_imagesPath} key \"{Encoding.UTF8.GetString(key)}\"";
            var value = file.Get(key) ?? throw new TuwenException($"{source}: value missing");
            // Chinese-CLIP decodes the value as UTF-8 text holding base64.
            var bytes = ChineseClipDataset.DecodeBase64(Encoding.UTF8.GetString(value), source);
            var extension = ImageFormats.Sniff(bytes) ?? throw new TuwenException($"{source}: image {id} is not a JPEG, PNG, WebP or GIF");
            var metadata = new JsonObject
            {
                ["source"] = "cnclip",
                [ChineseClipDataset.ImageIdKey] = id,
                [ChineseClipDataset.TextIdsKey] = new JsonArray([.. pairs.Select(p => JsonValue.Create(p.TextId))]),
            };
            counts.Samples++;
            yield return Sample.Create($"cnclip-{id}", bytes, extension, [.. pairs.Select(p => p.Text)], metadata);
        }
    }

    // Keys only: the image values are read one at a time while samples are handed on.
    List<(long Id, byte[] Key)> ImageIds(LmdbDataFile file)
    {
        var ids = new List<(long, byte[])>();
        foreach (var key in file.ReadKeys())
        {
            var text = Encoding.UTF8.GetString(key);
            if (text == ChineseClipLmdbStore.ImageCountKey) continue;
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long id))
                throw new TuwenException($"{_imagesPath}: key \"{text}\" is not an image id");
            ids.Add((id, key));
        }
        return ids;
    }

    static long CountValue(LmdbDataFile file, string path, string key)
    {
        var value = file.Get(Encoding.UTF8.GetBytes(key))
            ?? throw new TuwenException($"{path} has no \"{key}\" entry; it is incomplete or not a Chinese-CLIP LMDB");
        var text = Encoding.UTF8.GetString(value);
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n)
            ? n : throw new TuwenException($"{path}: \"{key}\" is \"{text}\", not a count");
    }
}
