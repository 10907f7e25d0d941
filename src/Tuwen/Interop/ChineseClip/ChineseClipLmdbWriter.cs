using System.Globalization;
using System.Text;
using Tuwen.Data;
using Tuwen.Interop.Lmdb;

namespace Tuwen.Interop.ChineseClip;

/// <summary>
/// Writes Tuwen samples as Chinese-CLIP's LMDB form, <c>{directory}/lmdb/{split}/{imgs,pairs}</c>, with the keys and
/// values its build script writes. Samples are first staged as TSV/JSONL through <see cref="ChineseClipWriter"/>
/// (which assigns and keeps ids and merges a text shared by several images into one line) and then loaded the
/// way the build script loads them: pairs in text order, one per (text, image), then the images.
/// <see cref="Complete"/> builds the databases; disposing without it only removes the staging files.
/// </summary>
public sealed class ChineseClipLmdbWriter : IDisposable
{
    readonly string _split;
    readonly string _staging;
    readonly string _splitPath;
    readonly ChineseClipWriter _staged;
    bool _done;

    public ChineseClipLmdbWriter(string directory, string split)
    {
        _split = split;
        _splitPath = ChineseClipLmdbStore.SplitPath(directory, split);
        foreach (var name in new[] { ChineseClipLmdbStore.ImagesName, ChineseClipLmdbStore.PairsName })
            if (Directory.Exists(Path.Combine(_splitPath, name)))
                throw new TuwenException($"{Path.Combine(_splitPath, name)} already exists; remove it or write elsewhere (LMDB would merge into it)");
        _staging = Path.Combine(directory, $".tuwen-staging-{split}");
        _staged = new ChineseClipWriter(_staging, split);
    }

    public string SplitPath => _splitPath;
    public long Images { get; private set; }
    public long Pairs { get; private set; }

    public void Write(Sample sample) => _staged.Write(sample);

    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _staged.Dispose();
        Pairs = WritePairs(ChineseClipDataset.TextsPath(_staging, _split), Path.Combine(_splitPath, ChineseClipLmdbStore.PairsName));
        Images = WriteImages(ChineseClipDataset.ImagesPath(_staging, _split), Path.Combine(_splitPath, ChineseClipLmdbStore.ImagesName));
        Dispose();
    }

    public void Dispose()
    {
        if (_done) return;
        _done = true;
        _staged.Dispose();
        if (Directory.Exists(_staging)) Directory.Delete(_staging, recursive: true);
    }

    /// <summary>
    /// Loads a TSV/JSONL split straight into LMDB as Chinese-CLIP's build script does — every image, pairs in JSONL
    /// order — so the databases hold exactly what the script would write. Unlike the script it refuses texts naming
    /// images the TSV lacks, and then leaves nothing behind. <paramref name="progress"/> gets images written so far.
    /// </summary>
    public static (long Images, long Pairs) Build(string dataDirectory, string split, string outputDirectory, Action<long>? progress = null)
    {
        var splitPath = ChineseClipLmdbStore.SplitPath(outputDirectory, split);
        var (textsPath, imagesPath) = (ChineseClipDataset.TextsPath(dataDirectory, split), ChineseClipDataset.ImagesPath(dataDirectory, split));
        var targets = new[] { ChineseClipLmdbStore.PairsName, ChineseClipLmdbStore.ImagesName }.Select(n => Path.Combine(splitPath, n)).ToArray();
        foreach (var target in targets)
            if (File.Exists(Path.Combine(target, "data.mdb")))
                throw new TuwenException($"{target} already exists; remove it or write elsewhere");
        foreach (var input in new[] { textsPath, imagesPath })
            if (!File.Exists(input)) throw new TuwenException($"Chinese-CLIP dataset file not found: {input}");
        // Ids only, before anything is written: a text naming an image the TSV lacks is refused up front.
        var present = ImageIds(imagesPath);
        var missing = ChineseClipDataset.ReadTexts(textsPath).SelectMany(t => t.ImageIds).Where(id => !present.Contains(id)).Distinct().Order().Take(5).ToList();
        if (missing.Count > 0)
            throw new TuwenException($"{textsPath} names images missing from {imagesPath}: {string.Join(", ", missing)}");
        try
        {
            long pairs = WritePairs(textsPath, targets[0]);
            long images = WriteImages(imagesPath, targets[1], progress);
            return (images, pairs);
        }
        catch
        {
            foreach (var target in targets) File.Delete(Path.Combine(target, "data.mdb"));
            throw;
        }
    }

    static HashSet<long> ImageIds(string imagesPath)
    {
        var ids = new HashSet<long>();
        int line = 0;
        foreach (var text in File.ReadLines(imagesPath))
        {
            line++;
            if (text.Trim().Length == 0) continue;
            int tab = text.IndexOf('\t');
            if (tab < 0 || !long.TryParse(text.AsSpan(0, tab).Trim(), out long id))
                throw new TuwenException($"{imagesPath}:{line}: expected image_id<TAB>base64");
            ids.Add(id);
        }
        return ids;
    }

    static long WritePairs(string textsPath, string lmdbPath)
    {
        using var db = new LmdbDataFileWriter(lmdbPath);
        long index = 0;
        foreach (var text in ChineseClipDataset.ReadTexts(textsPath))
            foreach (var imageId in text.ImageIds)
                db.Put(Key(index++), new ChineseClipLmdbPair(imageId, text.TextId, text.Text).ToPickle());
        db.Put(Encoding.UTF8.GetBytes(ChineseClipLmdbStore.PairCountKey), Key(index));
        db.Complete();
        return index;
    }

    static long WriteImages(string imagesPath, string lmdbPath, Action<long>? progress = null)
    {
        using var db = new LmdbDataFileWriter(lmdbPath);
        long count = 0;
        foreach (var (id, bytes) in ChineseClipDataset.ReadImages(imagesPath))
        {
            // Standard-alphabet base64 as the released TSVs carry it; Chinese-CLIP's urlsafe_b64decode reads it unchanged.
            db.Put(Key(id), Encoding.ASCII.GetBytes(Convert.ToBase64String(bytes)));
            count++;
            progress?.Invoke(count);
        }
        db.Put(Encoding.UTF8.GetBytes(ChineseClipLmdbStore.ImageCountKey), Key(count));
        db.Complete();
        return count;
    }

    // Keys and counts are decimal text, as the build script formats them.
    static byte[] Key(long n) => Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture));
}
