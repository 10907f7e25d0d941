using Tuwen.Data;
using Tuwen.Interop.ChineseClip;

namespace Tuwen.Inference;

/// <summary>The inputs <c>tuwen embed</c> reads, as streams of images and texts with their metadata rows.</summary>
public sealed record EmbeddingSource(string Description, IEnumerable<EmbedImage> Images, IEnumerable<TextEmbeddingRow> Texts);

public static class EmbeddingSources
{
    /// <summary>Webdataset shards: every sample's image, and each of its captions as a text.</summary>
    public static EmbeddingSource Shards(string datasetDirOrTar)
    {
        var shards = ShardReader.FindShards(datasetDirOrTar);
        IEnumerable<EmbedImage> Images()
        {
            foreach (var shard in shards)
            {
                var name = Path.GetFileName(shard);
                foreach (var sample in ShardReader.Read([shard]))
                {
                    var bytes = sample.Image;
                    yield return new EmbedImage(new ImageEmbeddingRow
                    {
                        Key = sample.Key,
                        ImagePath = $"{name}/{sample.Key}.{sample.ImageExtension}",
                        Caption = sample.Captions.FirstOrDefault(),
                        Captions = sample.Captions.Count == 0 ? null : string.Join('\n', sample.Captions),
                        Source = name,
                    }, () => bytes);
                }
            }
        }
        IEnumerable<TextEmbeddingRow> Texts()
        {
            foreach (var shard in shards)
            {
                var name = Path.GetFileName(shard);
                foreach (var sample in ShardReader.Read([shard]))
                    foreach (var caption in sample.Captions)
                        yield return new TextEmbeddingRow { Key = sample.Key, Caption = caption, Source = name };
            }
        }
        return new EmbeddingSource($"{shards.Count} shard(s) in {datasetDirOrTar}", Images(), Texts());
    }

    /// <summary>Every image file under a folder (recursively, ordinal path order); an image folder has no texts.</summary>
    public static EmbeddingSource ImageFolder(string directory)
    {
        if (!Directory.Exists(directory)) throw new TuwenException($"image folder not found: {directory}");
        var root = Path.GetFullPath(directory);
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => ImageFolderDataset.ImageExtensions.Contains(Path.GetExtension(f)))
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new TuwenException($"{directory}: no image files ({string.Join(", ", ImageFolderDataset.ImageExtensions)})");
        var images = files.Select(f => new EmbedImage(new ImageEmbeddingRow
        {
            Key = Path.GetRelativePath(root, f).Replace('\\', '/'),
            ImagePath = f,
            Source = root,
        }, () => File.ReadAllBytes(f)));
        return new EmbeddingSource($"{files.Count} images in {directory}", images, []);
    }

    /// <summary>A Chinese-CLIP split: <c>{split}_imgs.tsv</c> images and <c>{split}_texts.jsonl</c> texts, keyed by their ids.</summary>
    public static EmbeddingSource ChineseClip(string directory, string split)
    {
        var imagesPath = ChineseClipDataset.ImagesPath(directory, split);
        var textsPath = ChineseClipDataset.TextsPath(directory, split);
        if (!File.Exists(imagesPath)) throw new TuwenException($"Chinese-CLIP dataset file not found: {imagesPath}");
        var tsv = Path.GetFileName(imagesPath);
        var images = ChineseClipDataset.ReadImages(imagesPath).Select(image => new EmbedImage(new ImageEmbeddingRow
        {
            Key = image.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ImagePath = $"{tsv}#{image.Id}",
            Source = tsv,
            ImageId = image.Id,
        }, () => image.Bytes));
        var jsonl = Path.GetFileName(textsPath);
        // ReadTexts opens the file lazily and says which one is missing, so image-only runs need no texts file.
        var texts = ChineseClipDataset.ReadTexts(textsPath).Select(t => new TextEmbeddingRow
            {
                Key = t.TextId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Caption = t.Text,
                Source = jsonl,
                TextId = t.TextId,
                ImageIds = string.Join(' ', t.ImageIds),
            });
        return new EmbeddingSource($"Chinese-CLIP {split} split in {directory}", images, texts);
    }
}
