using System.Globalization;
using System.Text;
using Tuwen.Data;

namespace Tuwen.Interop;

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

    /// <summary>Loads a TSV/JSONL split straight into LMDB, as Chinese-CLIP's build script does.</summary>
    public static (long Images, long Pairs) Build(string dataDirectory, string split, string outputDirectory)
    {
        var splitPath = ChineseClipLmdbStore.SplitPath(outputDirectory, split);
        long pairs = WritePairs(ChineseClipDataset.TextsPath(dataDirectory, split), Path.Combine(splitPath, ChineseClipLmdbStore.PairsName));
        long images = WriteImages(ChineseClipDataset.ImagesPath(dataDirectory, split), Path.Combine(splitPath, ChineseClipLmdbStore.ImagesName));
        return (images, pairs);
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

    static long WriteImages(string imagesPath, string lmdbPath)
    {
        using var db = new LmdbDataFileWriter(lmdbPath);
        long count = 0;
        foreach (var (id, bytes) in ChineseClipDataset.ReadImages(imagesPath))
        {
            // Standard-alphabet base64 as the released TSVs carry it; Chinese-CLIP's urlsafe_b64decode reads it unchanged.
            db.Put(Key(id), Encoding.ASCII.GetBytes(Convert.ToBase64String(bytes)));
            count++;
        }
        db.Put(Encoding.UTF8.GetBytes(ChineseClipLmdbStore.ImageCountKey), Key(count));
        db.Complete();
        return count;
    }

    // Keys and counts are decimal text, as the build script formats them.
    static byte[] Key(long n) => Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture));
}
