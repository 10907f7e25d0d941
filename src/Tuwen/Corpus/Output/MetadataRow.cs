using System.Globalization;
using System.Text.Json.Nodes;
using Tuwen.Corpus.Pipeline;

namespace Tuwen.Corpus.Output;

/// <summary>
/// One row of the metadata Parquet files (img2dataset keeps the same per shard): where the image came from,
/// every candidate text, the caption chosen, sizes, hashes, and status with the failure reason.
/// </summary>
public sealed class MetadataRow
{
    public string Key { get; set; } = "";
    public string Url { get; set; } = "";
    public string? PageUrl { get; set; }
    public string Origin { get; set; } = "";
    public string Status { get; set; } = "";
    public string? Reason { get; set; }
    public string? Caption { get; set; }
    public string? CaptionField { get; set; }
    public string? Correlation { get; set; }
    public string? Alt { get; set; }
    public string? Title { get; set; }
    public string? FigureCaption { get; set; }
    public string? Nearby { get; set; }
    public string? PageTitle { get; set; }
    public string? SourceCaption { get; set; }
    public int? Width { get; set; }
    public int? Height { get; set; }
    public int? OriginalWidth { get; set; }
    public int? OriginalHeight { get; set; }
    public long? Bytes { get; set; }
    public string? Sha256 { get; set; }
    public string? DHash { get; set; }
    public double? Relevance { get; set; }
    public int? Attempts { get; set; }

    public static MetadataRow From(CandidateOutcome outcome)
    {
        var item = outcome.Candidate.Item;
        var image = outcome.Image;
        return new MetadataRow
        {
            Key = outcome.Key,
            Url = item.Url,
            PageUrl = item.PageUrl,
            Origin = item.Origin,
            Status = outcome.Kept ? "success" : "dropped",
            Reason = outcome.DropReason,
            Caption = outcome.Caption?.Text,
            CaptionField = outcome.Caption?.Field,
            Correlation = outcome.Caption?.Correlation,
            Alt = item.Texts.Alt,
            Title = item.Texts.Title,
            FigureCaption = item.Texts.FigureCaption,
            Nearby = item.Texts.Nearby,
            PageTitle = item.Texts.PageTitle,
            SourceCaption = item.Texts.Caption,
            Width = image?.Width,
            Height = image?.Height,
            OriginalWidth = image?.OriginalWidth,
            OriginalHeight = image?.OriginalHeight,
            Bytes = image?.Bytes.Length,
            Sha256 = image?.Sha256,
            DHash = image is null ? null : image.DHash.ToString("x16", CultureInfo.InvariantCulture),
            Relevance = outcome.Relevance,
            Attempts = outcome.Attempts == 0 ? null : outcome.Attempts,
        };
    }

    /// <summary>The sample's KEY.json as the shard stores it (keys in snake_case, empty fields left out).</summary>
    public JsonObject ToSampleMetadata()
    {
        var json = new JsonObject
        {
            ["url"] = Url,
            ["status"] = Status,
            ["origin"] = Origin,
        };
        void Put(string name, JsonNode? value) { if (value is not null) json[name] = value; }
        Put("page_url", PageUrl);
        Put("caption_field", CaptionField);
        Put("correlation", Correlation);
        var texts = new JsonObject();
        void Text(string name, string? value) { if (value is not null) texts[name] = value; }
        Text("caption", SourceCaption);
        Text("alt", Alt);
        Text("title", Title);
        Text("figcaption", FigureCaption);
        Text("nearby", Nearby);
        Text("page_title", PageTitle);
        json["texts"] = texts;
        Put("width", Width);
        Put("height", Height);
        Put("original_width", OriginalWidth);
        Put("original_height", OriginalHeight);
        Put("sha256", Sha256);
        Put("dhash", DHash);
        Put("relevance", Relevance);
        return json;
    }

    /// <summary>The row back from a sample's KEY.json (the merge pass reads shards, not Parquet).</summary>
    public static MetadataRow FromSampleMetadata(string key, string caption, JsonObject json)
    {
        var texts = json["texts"] as JsonObject;
        return new MetadataRow
        {
            Key = key,
            Url = (string?)json["url"] ?? "",
            PageUrl = (string?)json["page_url"],
            Origin = (string?)json["origin"] ?? "",
            Status = (string?)json["status"] ?? "success",
            Caption = caption,
            CaptionField = (string?)json["caption_field"],
            Correlation = (string?)json["correlation"],
            SourceCaption = (string?)texts?["caption"],
            Alt = (string?)texts?["alt"],
            Title = (string?)texts?["title"],
            FigureCaption = (string?)texts?["figcaption"],
            Nearby = (string?)texts?["nearby"],
            PageTitle = (string?)texts?["page_title"],
            Width = (int?)json["width"],
            Height = (int?)json["height"],
            OriginalWidth = (int?)json["original_width"],
            OriginalHeight = (int?)json["original_height"],
            Sha256 = (string?)json["sha256"],
            DHash = (string?)json["dhash"],
            Relevance = (double?)json["relevance"],
        };
    }
}

/// <summary>A row of duplicates.parquet: a sample the whole-corpus de-duplication dropped, and why.</summary>
public sealed class DuplicateRow
{
    public string Key { get; set; } = "";
    public string Reason { get; set; } = "";
    public string Sha256 { get; set; } = "";
    public string DHash { get; set; } = "";
}
