namespace Tuwen.Corpus.Sources;

/// <summary>
/// The texts found for one image, each kept apart: WuDaoMM-style corpora pair an image with its alt, title,
/// figure caption or a URL list's caption (strong correlation) or with text merely near it on the page (weak).
/// </summary>
public sealed record CandidateTexts(
    string? Caption = null, string? Alt = null, string? Title = null, string? FigureCaption = null, string? Nearby = null, string? PageTitle = null)
{
    /// <summary>(field name, text, strong?) in order of preference; empty fields are left out.</summary>
    public IEnumerable<(string Field, string Text, bool Strong)> InPreferenceOrder()
    {
        if (!string.IsNullOrWhiteSpace(Caption)) yield return ("caption", Caption, true);
        if (!string.IsNullOrWhiteSpace(Alt)) yield return ("alt", Alt, true);
        if (!string.IsNullOrWhiteSpace(Title)) yield return ("title", Title, true);
        if (!string.IsNullOrWhiteSpace(FigureCaption)) yield return ("figcaption", FigureCaption, true);
        if (!string.IsNullOrWhiteSpace(Nearby)) yield return ("nearby", Nearby, false);
        if (!string.IsNullOrWhiteSpace(PageTitle)) yield return ("page_title", PageTitle, false);
    }
}

/// <summary>
/// One image URL with its texts as a source yields it. <see cref="Error"/> is set instead of a usable URL when
/// the input row itself was bad (no URL, broken JSON, relative URL without a base): such rows still take a
/// place in the numbering so that their drop is counted like any other.
/// </summary>
public sealed record SourceItem(string Url, CandidateTexts Texts, string Origin, string? PageUrl = null, string? Error = null)
{
    public static SourceItem Bad(string origin, string reason) => new("", new CandidateTexts(), origin, Error: reason);
}

/// <summary>A <see cref="SourceItem"/> numbered in the deterministic order of the whole input.</summary>
public sealed record Candidate(long Index, SourceItem Item)
{
    public string Url => Item.Url;
    public CandidateTexts Texts => Item.Texts;
}

/// <summary>A reader of one kind of input file; yields items in a fixed order so that numbering is reproducible.</summary>
public interface ICandidateSource
{
    /// <summary>True for the files this source reads (by name; the content is read only by <see cref="Read"/>).</summary>
    bool Accepts(string path);

    IEnumerable<SourceItem> Read(string path, CancellationToken cancel);
}
