using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Tuwen.Corpus;

namespace Tuwen.Tests.Corpus;

/// <summary>Small documents shaped like the real packs, so the join can be checked without them.</summary>
internal static class EmojiZhHandMade
{
    public const string Cldr = """
        {"annotations": {"identity": {"language": "zh"}, "annotations": {
          "❤": {"default": ["心", "爱"], "tts": ["红心"]},
          "😀": {"default": ["笑脸", "嘿嘿", " 高兴 ", "高兴"], "tts": ["嘿嘿"]},
          "{": {"default": ["括号"], "tts": ["左花括号"]}
        }}}
        """;

    public const string CldrDerived = """
        {"annotationsDerived": {"identity": {"language": "zh"}, "annotations": {
          "👍🏻": {"default": ["赞", "较浅肤色"], "tts": ["拇指向上: 较浅肤色"]}
        }}}
        """;

    public const string EmojibaseData = """
        [
          {"label": "按键: #", "hexcode": "0023-FE0F-20E3", "tags": ["按键"], "group": 8, "subgroup": 94},
          {"label": "挥手", "hexcode": "1F44B", "tags": ["你好", "再见"], "group": 1, "subgroup": 16,
           "skins": [{"label": "挥手: 较浅肤色", "hexcode": "1F44B-1F3FB", "group": 1, "subgroup": 16, "tone": 1}]},
          {"label": "红心（emojibase）", "hexcode": "2764-FE0F", "tags": ["心"], "group": 0},
          {"label": "拇指向上", "hexcode": "1F44D", "tags": ["赞"], "group": 1,
           "skins": [{"label": "拇指向上: 较浅肤色", "hexcode": "1F44D-1F3FB", "group": 1}]}
        ]
        """;

    public const string EmojibaseMessages = """
        {"groups": [
          {"key": "smileys-emotion", "message": "笑脸", "order": 0},
          {"key": "people-body", "message": "人体", "order": 1},
          {"key": "component", "message": "组件", "order": 2},
          {"key": "symbols", "message": "人的符号", "order": 8}],
         "subgroups": [{"key": "sky-weather", "message": "天气", "order": 59}, {"key": "hand-fingers-open", "message": "手伸开", "order": 16}]}
        """;

    /// <summary>
    /// Nine images listed for google: two base emoji with a skin-tone variation, a heart and a keycap spelled with
    /// U+FE0F, one emoji nobody names (1F9CC), one whose PNG the pack lacks (2600-FE0F); 1F600 has no facebook image.
    /// </summary>
    public const string EmojiJson = """
        [
          {"unified": "1F600", "image": "1f600.png", "category": "Smileys & Emotion", "subcategory": "face-smiling", "has_img_google": true, "has_img_facebook": false},
          {"unified": "2764-FE0F", "image": "2764-fe0f.png", "category": "Smileys & Emotion", "subcategory": "heart", "has_img_google": true, "has_img_facebook": true},
          {"unified": "1F44B", "image": "1f44b.png", "category": "People & Body", "subcategory": "hand-fingers-open", "has_img_google": true,
           "skin_variations": {"1F3FB": {"unified": "1F44B-1F3FB", "image": "1f44b-1f3fb.png", "has_img_google": true}}},
          {"unified": "1F44D", "image": "1f44d.png", "category": "People & Body", "subcategory": "hand-fingers-closed", "has_img_google": true,
           "skin_variations": {"1F3FB": {"unified": "1F44D-1F3FB", "image": "1f44d-1f3fb.png", "has_img_google": true}}},
          {"unified": "0023-FE0F-20E3", "image": "0023-fe0f-20e3.png", "category": "Symbols", "subcategory": "keycap", "has_img_google": true},
          {"unified": "1F9CC", "image": "1f9cc.png", "category": "Smileys & Emotion", "subcategory": "face-costume", "has_img_google": true},
          {"unified": "2600-FE0F", "image": "2600-fe0f.png", "category": "Travel & Places", "subcategory": "sky & weather", "has_img_google": true}
        ]
        """;

    public static IReadOnlyList<string> GooglePngsInPack { get; } =
        ["1f600.png", "2764-fe0f.png", "1f44b.png", "1f44b-1f3fb.png", "1f44d.png", "1f44d-1f3fb.png", "0023-fe0f-20e3.png", "1f9cc.png", "unlisted.png"];

    public static EmojiZhNames Names() => EmojiZhNames.FromJson(
        JsonNode.Parse(Cldr)!, JsonNode.Parse(CldrDerived)!, JsonNode.Parse(EmojibaseData)!, JsonNode.Parse(EmojibaseMessages)!);

    /// <summary>The image's name written as its bytes: each fake PNG is distinguishable from the others.</summary>
    public static byte[] FakePng(string file) => [0x89, .. "PNG\r\n\u001a\n"u8, .. Encoding.UTF8.GetBytes(file)];

    /// <summary>Writes a .tgz laid out as `npm pack` writes it (a top `package/` folder).</summary>
    public static void WriteNpmTarball(string path, IEnumerable<(string Path, byte[] Content)> files)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "package/"));
        foreach (var (entryPath, content) in files)
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/" + entryPath) { DataStream = new MemoryStream(content) });
        }
    }

    public static void WriteGooglePack(string folder)
    {
        var files = new List<(string, byte[])> { ("emoji.json", Encoding.UTF8.GetBytes(EmojiJson)) };
        files.AddRange(GooglePngsInPack.Select(f => ($"img/google/64/{f}", FakePng(f))));
        files.Add(("img/google/sheets/64.png", FakePng("sheet")));
        WriteNpmTarball(Path.Combine(folder, "emoji-datasource-google-16.0.0.tgz"), files);
    }
}

/// <summary>A temporary folder removed after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("tuwen-corpus-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
