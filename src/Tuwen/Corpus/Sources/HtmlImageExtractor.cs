using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace Tuwen.Corpus.Sources;

/// <summary>
/// Every &lt;img&gt; of a page with its candidate texts: alt, title, the enclosing figure's caption, the text
/// around it and the page title. Relative URLs are resolved against &lt;base href&gt;, the page's own URL
/// (WARC), or its canonical / og:url link (saved pages); inline data: images are not candidates.
/// </summary>
public static class HtmlImageExtractor
{
    // Surrounding text is weak evidence; a whole article would drown the caption filters and the shard.
    private const int MaxNearbyChars = 200;
    private const int MaxAncestorLevels = 3;

    private static readonly HtmlParser Parser = new(new HtmlParserOptions { IsScripting = false });

    /// <summary>Parses bytes (the charset comes from the HTTP header hint, a BOM or &lt;meta charset&gt;).</summary>
    public static IReadOnlyList<SourceItem> Extract(Stream html, string? pageUrl, string origin)
    {
        using var document = Parser.ParseDocument(html);
        return Extract(document, pageUrl, origin);
    }

    public static IReadOnlyList<SourceItem> Extract(string html, string? pageUrl, string origin)
    {
        using var document = Parser.ParseDocument(html);
        return Extract(document, pageUrl, origin);
    }

    private static List<SourceItem> Extract(IHtmlDocument document, string? pageUrl, string origin)
    {
        var baseUri = BaseUri(document, pageUrl);
        var pageTitle = Collapse(document.Title);
        var items = new List<SourceItem>();
        foreach (var img in document.QuerySelectorAll("img"))
        {
            var src = FirstAttribute(img, "src", "data-src", "data-original") ?? FirstSrcsetUrl(img.GetAttribute("srcset"));
            if (src is null || src.StartsWith("data:", StringComparison.OrdinalIgnoreCase)) continue;
            var itemOrigin = pageUrl ?? origin;
            Uri? url = null;
            if (!(Uri.TryCreate(src, UriKind.Absolute, out url) && url.Scheme is "http" or "https"))
            {
                url = null;
                if (baseUri is not null) Uri.TryCreate(baseUri, src, out url);
                else if (!Uri.TryCreate(src, UriKind.Absolute, out _))
                {
                    items.Add(SourceItem.Bad(itemOrigin, "source.relative_url_without_base"));
                    continue;
                }
            }
            if (url is null || url.Scheme is not ("http" or "https"))
            {
                items.Add(SourceItem.Bad(itemOrigin, "source.bad_url"));
                continue;
            }
            var figure = img.Closest("figure");
            var texts = new CandidateTexts(
                Alt: Collapse(img.GetAttribute("alt")),
                Title: Collapse(img.GetAttribute("title")),
                FigureCaption: Collapse(figure?.QuerySelector("figcaption")?.TextContent),
                Nearby: Nearby(img),
                PageTitle: pageTitle);
            items.Add(new SourceItem(url.AbsoluteUri, texts, itemOrigin, pageUrl ?? baseUri?.AbsoluteUri));
        }
        return items;
    }

    private static Uri? BaseUri(IHtmlDocument document, string? pageUrl)
    {
        Uri? page = pageUrl is not null && Uri.TryCreate(pageUrl, UriKind.Absolute, out var p) ? p : null;
        page ??= AbsoluteHttp(document.QuerySelector("link[rel=canonical]")?.GetAttribute("href"))
            ?? AbsoluteHttp(document.QuerySelector("meta[property='og:url']")?.GetAttribute("content"));
        var baseHref = document.QuerySelector("base[href]")?.GetAttribute("href");
        if (baseHref is null) return page;
        if (AbsoluteHttp(baseHref) is { } absolute) return absolute;
        return page is not null && Uri.TryCreate(page, baseHref, out var combined) ? combined : page;
    }

    private static Uri? AbsoluteHttp(string? href)
        => href is not null && Uri.TryCreate(href.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;

    private static string? FirstAttribute(IElement element, params string[] names)
    {
        foreach (var name in names)
        {
            var value = element.GetAttribute(name)?.Trim();
            if (!string.IsNullOrEmpty(value)) return value;
        }
        return null;
    }

    /// <summary>The first URL of a srcset ("a.jpg 1x, b.jpg 2x"), for images that carry no src.</summary>
    private static string? FirstSrcsetUrl(string? srcset)
    {
        var first = srcset?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        var url = first?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return string.IsNullOrEmpty(url) ? null : url;
    }

    /// <summary>The text of the nearest ancestor (up to three levels) that has any, cut to a sentence's length.</summary>
    private static string? Nearby(IElement img)
    {
        var element = img.ParentElement;
        for (var level = 0; element is not null && level < MaxAncestorLevels; level++, element = element.ParentElement)
        {
            if (element is IHtmlBodyElement) break;
            var text = Collapse(element.TextContent);
            if (text is null) continue;
            return text.Length <= MaxNearbyChars ? text : text[..MaxNearbyChars];
        }
        return null;
    }

    /// <summary>Whitespace runs to one space, trimmed; null when nothing is left.</summary>
    internal static string? Collapse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var builder = new System.Text.StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c)) { space = builder.Length > 0; continue; }
            if (space) builder.Append(' ');
            space = false;
            builder.Append(c);
        }
        return builder.Length == 0 ? null : builder.ToString();
    }
}
