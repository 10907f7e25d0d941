using SkiaSharp;

namespace Tuwen.Evaluation;

/// <summary>
/// A typeface that has Chinese glyphs. Skia's default typeface on a bare Linux box has none and draws
/// empty boxes, so the file installed by the set-up (fonts-wqy-microhei) is loaded by path first.
/// </summary>
public static class CjkFont
{
    public const string WenQuanYiMicroHeiPath = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

    private static readonly Lazy<SKTypeface> Shared = new(Find);

    /// <summary>Process-wide; do not dispose.</summary>
    public static SKTypeface Typeface => Shared.Value;

    /// <summary>Whether <see cref="Typeface"/> can actually draw Chinese (false means boxes will appear).</summary>
    public static bool HasChineseGlyphs => HasGlyph(Typeface, '中');

    private static SKTypeface Find()
    {
        if (File.Exists(WenQuanYiMicroHeiPath))
        {
            var wqy = SKTypeface.FromFile(WenQuanYiMicroHeiPath, 0);
            if (wqy != null && HasGlyph(wqy, '中')) return wqy;
            wqy?.Dispose();
        }
        var matched = SKFontManager.Default.MatchCharacter('中');
        return matched ?? SKTypeface.Default;
    }

    private static bool HasGlyph(SKTypeface typeface, char character) => typeface.GetGlyph(character) != 0;
}
