using Parquet;
using Parquet.Schema;

namespace Tuwen.Corpus.Sources;

/// <summary>URL lists in Parquet (the format LAION and Wukong's copies are published in), read one row group at a time.</summary>
internal static class ParquetUrlList
{
    public static IEnumerable<SourceItem> Read(string path, string urlColumn, string captionColumn, CancellationToken cancel)
    {
        var origin = Path.GetFileName(path);
        using var stream = File.OpenRead(path);
        ParquetReader reader;
        try
        {
            reader = ParquetReader.CreateAsync(stream, cancellationToken: cancel).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or Parquet.ParquetException)
        {
            throw new TuwenException($"{path} is not a readable Parquet file: {e.Message}", e);
        }
        try
        {
            var fields = reader.Schema.GetDataFields();
            var urlField = fields.FirstOrDefault(f => f.Name.Equals(urlColumn, StringComparison.OrdinalIgnoreCase))
                ?? throw new TuwenException($"{path}: no \"{urlColumn}\" column ({string.Join(", ", fields.Take(10).Select(f => f.Name))})");
            var captionField = fields.FirstOrDefault(f => f.Name.Equals(captionColumn, StringComparison.OrdinalIgnoreCase));
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                cancel.ThrowIfCancellationRequested();
                var (urls, captions) = ReadGroup(reader, g, urlField, captionField, cancel);
                for (var i = 0; i < urls.Length; i++)
                {
                    var url = urls[i]?.Trim();
                    yield return string.IsNullOrEmpty(url)
                        ? SourceItem.Bad(origin, "source.no_url")
                        : new SourceItem(url, new CandidateTexts(Caption: captions?[i]), origin);
                }
            }
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static (string?[] Urls, string?[]? Captions) ReadGroup(ParquetReader reader, int group, DataField urlField, DataField? captionField, CancellationToken cancel)
    {
        using var rowGroup = reader.OpenRowGroupReader(group);
        var count = checked((int)rowGroup.RowCount);
        var urls = new string?[count];
        rowGroup.ReadAsync(urlField, urls.AsMemory()!, null, cancel).AsTask().GetAwaiter().GetResult();
        string?[]? captions = null;
        if (captionField is not null)
        {
            captions = new string?[count];
            rowGroup.ReadAsync(captionField, captions.AsMemory()!, null, cancel).AsTask().GetAwaiter().GetResult();
        }
        return (urls, captions);
    }
}
