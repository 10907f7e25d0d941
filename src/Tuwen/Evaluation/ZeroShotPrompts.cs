using System.Text.Json;

namespace Tuwen.Evaluation;

/// <summary>
/// Loads zero-shot prompt templates and class names. Two formats:
/// CLIP_benchmark JSON (<c>{"imagenet1k": ["{c}的照片。", …]}</c>, or a bare JSON array), and plain UTF-8
/// text with one entry per line (blank lines skipped). A template marks the class name with <c>{c}</c> or <c>{}</c>.
/// </summary>
public static class ZeroShotPrompts
{
    private static readonly string[] Placeholders = ["{c}", "{}"];

    /// <summary>Templates from <paramref name="path"/>: JSON when it ends in .json, else one per line.</summary>
    /// <param name="dataset">JSON key to read; may be omitted when the file has exactly one key.</param>
    public static IReadOnlyList<string> LoadTemplates(string path, string? dataset = null)
    {
        var templates = LoadList(path, dataset, "template");
        foreach (var template in templates)
        {
            if (!HasPlaceholder(template))
                throw new TuwenException($"{path}: template \"{template}\" has no {{c}} or {{}} placeholder for the class name");
        }
        return templates;
    }

    /// <summary>Class names from <paramref name="path"/>, same formats as <see cref="LoadTemplates"/>.</summary>
    public static IReadOnlyList<string> LoadClassNames(string path, string? dataset = null) => LoadList(path, dataset, "class name");

    public static bool HasPlaceholder(string template) => Placeholders.Any(template.Contains);

    /// <summary>The prompt for one class: every <c>{c}</c> and <c>{}</c> replaced by the class name.</summary>
    public static string Fill(string template, string className)
    {
        if (!HasPlaceholder(template))
            throw new ArgumentException($"template \"{template}\" has no {{c}} or {{}} placeholder", nameof(template));
        return template.Replace("{c}", className, StringComparison.Ordinal).Replace("{}", className, StringComparison.Ordinal);
    }

    private static IReadOnlyList<string> LoadList(string path, string? dataset, string what)
    {
        if (!File.Exists(path)) throw new TuwenException($"{what} file not found: {path}");
        var entries = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? ReadJsonList(path, dataset)
            : File.ReadAllLines(path).Select(line => line.Trim()).Where(line => line.Length > 0).ToList();
        if (entries.Count == 0) throw new TuwenException($"{path}: no {what}s found");
        return entries;
    }

    private static List<string> ReadJsonList(string path, string? dataset)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new TuwenException($"{path}: not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            var list = SelectList(document.RootElement, path, dataset);
            var entries = new List<string>();
            foreach (var item in list.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String) throw new TuwenException($"{path}: list entries must be strings");
                entries.Add(item.GetString()!);
            }
            return entries;
        }
    }

    private static JsonElement SelectList(JsonElement root, string path, string? dataset)
    {
        if (root.ValueKind == JsonValueKind.Array) return root;
        if (root.ValueKind != JsonValueKind.Object) throw new TuwenException($"{path}: expected a JSON object or array");
        var keys = root.EnumerateObject().Select(p => p.Name).ToList();
        string key;
        if (dataset != null) key = dataset;
        else if (keys.Count == 1) key = keys[0];
        else throw new TuwenException($"{path}: several lists ({string.Join(", ", keys)}); name the dataset to use");
        if (!root.TryGetProperty(key, out var list) || list.ValueKind != JsonValueKind.Array)
            throw new TuwenException($"{path}: no list \"{key}\" (have: {string.Join(", ", keys)})");
        return list;
    }
}
