using System.Globalization;
using SkiaSharp;

namespace Tuwen.Evaluation;

/// <summary>One retrieved image: its encoded bytes (PNG/JPEG as stored) and whether it is the query's positive.</summary>
public sealed record RetrievalGridImage(byte[] EncodedImage, bool IsCorrect);

/// <summary>A query and its retrieved images, best first.</summary>
public sealed record RetrievalGridRow(string Query, IReadOnlyList<RetrievalGridImage> Images);

/// <summary>
/// A PNG showing, per row, a (Chinese) query on the left and its top retrieved images, correct ones outlined green.
/// Images are centre-cropped to square thumbnails; an undecodable image shows as a grey tile.
/// </summary>
public static class RetrievalGrid
{
    public const int ThumbnailSize = 160;
    public const int QueryColumnWidth = 300;
    public const int Margin = 12;
    public const float QueryFontSize = 22f;

    private const float CorrectOutlineWidth = 6f;
    private static readonly SKColor CorrectColor = new(0x1E, 0xA0, 0x3C);
    private static readonly SKColor FrameColor = new(0xC8, 0xC8, 0xC8);

    /// <summary>Pixel size of the PNG for this many rows with at most this many images per row (the query column includes its gap).</summary>
    public static (int Width, int Height) CanvasSize(int rows, int imagesPerRow) =>
        (Margin + QueryColumnWidth + imagesPerRow * (ThumbnailSize + Margin),
         Margin + rows * (ThumbnailSize + Margin));

    /// <summary>
    /// Rows from retrieval output: <paramref name="topImages"/>[q] are image indices best first (as from
    /// <see cref="RetrievalMetrics.TopKImages(TorchSharp.torch.Tensor, TorchSharp.torch.Tensor, IReadOnlyList{int}, int)"/>),
    /// <paramref name="correctImages"/>[q] the query's own image, <paramref name="loadImage"/> gives an image's bytes.
    /// </summary>
    public static IReadOnlyList<RetrievalGridRow> BuildRows(IReadOnlyList<string> queries, IReadOnlyList<int[]> topImages,
        IReadOnlyList<int> correctImages, Func<int, byte[]> loadImage)
    {
        if (topImages.Count != queries.Count || correctImages.Count != queries.Count)
            throw new ArgumentException($"{queries.Count} queries, {topImages.Count} top-k lists, {correctImages.Count} correct images");
        return queries.Select((query, q) => new RetrievalGridRow(query,
            topImages[q].Select(image => new RetrievalGridImage(loadImage(image), image == correctImages[q])).ToArray())).ToArray();
    }

    public static void Render(IReadOnlyList<RetrievalGridRow> rows, string pngPath)
    {
        if (rows.Count == 0) throw new ArgumentException("nothing to draw", nameof(rows));
        int imagesPerRow = Math.Max(1, rows.Max(r => r.Images.Count));
        var (width, height) = CanvasSize(rows.Count, imagesPerRow);

        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"Skia could not create a {width}x{height} surface");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(CjkFont.Typeface, QueryFontSize);
        using var textPaint = new SKPaint { Color = SKColors.Black, IsAntialias = true };

        for (int r = 0; r < rows.Count; r++)
        {
            float top = Margin + r * (ThumbnailSize + Margin);
            DrawQuery(canvas, rows[r].Query, new SKRect(Margin, top, Margin + QueryColumnWidth - Margin, top + ThumbnailSize), font, textPaint);
            for (int i = 0; i < rows[r].Images.Count; i++)
            {
                float left = Margin + QueryColumnWidth + i * (ThumbnailSize + Margin);
                DrawThumbnail(canvas, rows[r].Images[i], new SKRect(left, top, left + ThumbnailSize, top + ThumbnailSize));
            }
        }

        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        var directory = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (directory != null) Directory.CreateDirectory(directory);
        using var file = File.Create(pngPath);
        png.SaveTo(file);
    }

    private static void DrawQuery(SKCanvas canvas, string query, SKRect box, SKFont font, SKPaint paint)
    {
        float lineHeight = font.Spacing;
        int maxLines = Math.Max(1, (int)(box.Height / lineHeight));
        var lines = WrapText(query, font, box.Width, maxLines);
        float baseline = box.Top - font.Metrics.Ascent;
        foreach (var line in lines)
        {
            canvas.DrawText(line, box.Left, baseline, SKTextAlign.Left, font, paint);
            baseline += lineHeight;
        }
    }

    /// <summary>
    /// Breaks between characters (Chinese has no spaces to break at), never inside a surrogate pair or
    /// combining sequence; the last line that fits ends in "…" when text is left over.
    /// </summary>
    internal static List<string> WrapText(string text, SKFont font, float maxWidth, int maxLines)
    {
        var elements = new List<string>();
        var enumerator = StringInfo.GetTextElementEnumerator(text.ReplaceLineEndings(" ").Trim());
        while (enumerator.MoveNext()) elements.Add(enumerator.GetTextElement());

        var lines = new List<string>();
        var current = "";
        int next = 0;
        while (next < elements.Count && lines.Count < maxLines)
        {
            var candidate = current + elements[next];
            if (current.Length > 0 && font.MeasureText(candidate) > maxWidth)
            {
                lines.Add(current);
                current = "";
                continue;
            }
            current = candidate;
            next++;
        }
        if (current.Length > 0 && lines.Count < maxLines) lines.Add(current);
        if (next < elements.Count && lines.Count > 0)
        {
            var last = lines[^1];
            while (last.Length > 0 && font.MeasureText(last + "…") > maxWidth) last = last[..^1];
            lines[^1] = last + "…";
        }
        return lines;
    }

    private static void DrawThumbnail(SKCanvas canvas, RetrievalGridImage cell, SKRect destination)
    {
        using var image = SKImage.FromEncodedData(cell.EncodedImage);
        if (image is null)
        {
            using var grey = new SKPaint { Color = new SKColor(0xE0, 0xE0, 0xE0) };
            canvas.DrawRect(destination, grey);
        }
        else
        {
            int side = Math.Min(image.Width, image.Height);
            var source = SKRect.Create((image.Width - side) / 2f, (image.Height - side) / 2f, side, side);
            using var imagePaint = new SKPaint { IsAntialias = true };
            canvas.DrawImage(image, source, destination, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear), imagePaint);
        }

        float width = cell.IsCorrect ? CorrectOutlineWidth : 1f;
        using var outline = new SKPaint
        {
            Style = SKPaintStyle.Stroke,
            StrokeWidth = width,
            Color = cell.IsCorrect ? CorrectColor : FrameColor,
            IsAntialias = true,
        };
        // Inset by half the stroke so the whole outline lies on the thumbnail and never on its neighbour.
        var inset = destination;
        inset.Inflate(-width / 2f, -width / 2f);
        canvas.DrawRect(inset, outline);
    }
}
