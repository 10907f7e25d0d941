namespace Tuwen.Interop.Img2Dataset;

/// <summary>
/// Column names of img2dataset's <c>output_format="parquet"</c> shards (img2dataset/writer.py, downloader.py):
/// the input's extra columns, <c>caption</c>, <c>url</c>, then <c>key</c>, <c>status</c>, <c>error_message</c>,
/// <c>width</c>, <c>height</c>, <c>original_width</c>, <c>original_height</c> (int32), the hash column
/// (<c>sha256</c> by default) and one binary column named after the encode format holding the image bytes —
/// null for rows whose download failed. Files are <c>{shard:05d}.parquet</c>.
/// </summary>
public static class Img2DatasetColumns
{
    public const string Key = "key";
    public const string Caption = "caption";
    public const string Url = "url";
    public const string Status = "status";
    public const string ErrorMessage = "error_message";
    public const string Width = "width";
    public const string Height = "height";
    public const string OriginalWidth = "original_width";
    public const string OriginalHeight = "original_height";
    public const string Sha256 = "sha256";
    public const string Success = "success";

    /// <summary>
    /// img2dataset carries one caption per image. Tuwen samples can have several and metadata (Chinese-CLIP ids,
    /// so text→image links); these extra columns keep them, as img2dataset's own save_additional_columns would.
    /// Readers that do not know them just see more columns.
    /// </summary>
    public const string TuwenCaptions = "tuwen_captions";
    public const string TuwenMetadata = "tuwen_metadata";

    /// <summary>Image columns img2dataset can write (its encode_format values), and the names Tuwen extensions map to.</summary>
    public static readonly IReadOnlyList<string> ImageColumns = ["jpg", "png", "webp", "gif"];

    public static string ImageColumnFor(string extension) => extension is "jpeg" ? "jpg" : extension;

    public static readonly IReadOnlySet<string> Standard = new HashSet<string>
    {
        Key, Caption, Url, Status, ErrorMessage, Width, Height, OriginalWidth, OriginalHeight, TuwenCaptions, TuwenMetadata,
        "jpg", "jpeg", "png", "webp", "gif",
    };
}
