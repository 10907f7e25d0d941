using Tuwen.Data;

namespace Tuwen.Interop.ChineseClip;

/// <summary>
/// Chinese-CLIP's two dataset forms as <see cref="CorpusFormat"/>s. Both carry many-to-many text→image links
/// (a text naming several images; an image named by several texts) through the ids kept in sample metadata.
/// Neither a Tuwen sample nor LMDB pairs can hold a text that names no image, and samples need a caption, so
/// unlabeled texts and images no text names are counted and skipped.
/// </summary>
public static class ChineseClipCorpusFormats
{
    public static readonly CorpusFormat TsvJsonl = new(
        "cnclip",
        "Chinese-CLIP {split}_imgs.tsv + {split}_texts.jsonl",
        (dir, o) => new TsvReader(dir, o.Split),
        (dir, o) => new TsvWriter(dir, o.Split));

    public static readonly CorpusFormat Lmdb = new(
        "cnclip-lmdb",
        "Chinese-CLIP LMDB: lmdb/{split}/imgs + lmdb/{split}/pairs",
        (dir, o) => new LmdbReader(dir, o.Split),
        (dir, o) => new LmdbWriter(dir, o.Split),
        new Dictionary<string, DirectConversion> { ["cnclip"] = BuildLmdb });

    // TSV/JSONL → LMDB the way Chinese-CLIP's build script does it, so the result holds exactly what the script's would.
    static string BuildLmdb(string input, string output, CorpusFormatOptions options, Action<long, long> progress)
    {
        var total = TsvReader.CountLines(ChineseClipDataset.TextsPath(input, options.Split), ChineseClipDataset.ImagesPath(input, options.Split));
        var (images, pairs) = ChineseClipLmdbWriter.Build(input, options.Split, output, done => progress(done, Math.Max(done, total)));
        progress(images, images);
        return $"wrote {images} images and {pairs} text–image pairs to {ChineseClipLmdbStore.SplitPath(output, options.Split)} (all images and pairs, as Chinese-CLIP's build script would)";
    }

    static string SkippedSummary(ChineseClipReadCounts c) =>
        $"read {c.Images} images and {c.Texts} texts ({c.UnlabeledTexts} without images, {c.ImagesWithoutText} images without texts skipped)";

    sealed class TsvReader(string directory, string split) : ICorpusFormatReader
    {
        readonly ChineseClipReadCounts _counts = new();

        public long? Total { get; } = CountLines(ChineseClipDataset.TextsPath(directory, split), ChineseClipDataset.ImagesPath(directory, split));

        public IEnumerable<Sample> Read() => ChineseClipDataset.ReadSamples(directory, split, _counts);

        public string Summary => SkippedSummary(_counts);

        // One cheap pass over the bytes; the TSV is streamed again when read.
        internal static long CountLines(string textsPath, string path)
        {
            foreach (var required in new[] { textsPath, path })
                if (!File.Exists(required)) throw new TuwenException($"Chinese-CLIP dataset file not found: {required}");
            using var stream = File.OpenRead(path);
            var buffer = new byte[1 << 16];
            long lines = 0;
            int n;
            while ((n = stream.Read(buffer)) > 0) lines += buffer.AsSpan(0, n).Count((byte)'\n');
            return lines;
        }
    }

    sealed class TsvWriter(string directory, string split) : ICorpusFormatWriter
    {
        readonly ChineseClipWriter _writer = new(directory, split);

        public void Write(Sample sample) => _writer.Write(sample);

        public void Complete() => _writer.Dispose();

        public void Dispose() => _writer.Dispose();

        public string Summary => $"wrote {_writer.Images} images to {_writer.ImagesPath} and {_writer.Texts} texts to {_writer.TextsPath}";
    }

    sealed class LmdbReader(string directory, string split) : ICorpusFormatReader
    {
        readonly ChineseClipLmdbReader _reader = new(directory, split);
        readonly ChineseClipReadCounts _counts = new();

        public long? Total => _reader.ImageCount;

        public IEnumerable<Sample> Read() => _reader.ReadSamples(_counts);

        public string Summary => $"read {_counts.Images} images and {_counts.Texts} texts from LMDB ({_counts.ImagesWithoutText} images without texts skipped)";
    }

    sealed class LmdbWriter(string directory, string split) : ICorpusFormatWriter
    {
        readonly ChineseClipLmdbWriter _writer = new(directory, split);

        public void Write(Sample sample) => _writer.Write(sample);

        public void Complete() => _writer.Complete();

        public void Dispose() => _writer.Dispose();

        public string Summary => $"wrote {_writer.Images} images and {_writer.Pairs} text–image pairs to {_writer.SplitPath}";
    }
}
