using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuwen.Objectives;

/// <summary>
/// A strict reader of a recipe's objective_options: a misspelt name or a value of the wrong type is a user
/// error naming the objective, the option and the known names, never a silently ignored setting. Values may
/// come from JSON text or be built in code (a JsonValue of an int reads as a number).
/// </summary>
public sealed class ObjectiveOptions
{
    private readonly string objective;
    private readonly JsonObject options;

    public ObjectiveOptions(string objective, JsonObject? options, IReadOnlyCollection<string> known)
    {
        this.objective = objective;
        this.options = options ?? new JsonObject();
        foreach (var (key, _) in this.options)
            if (!known.Contains(key))
                throw new TuwenException($"{objective}: unknown option '{key}' (known: {(known.Count == 0 ? "none" : string.Join(", ", known))})");
    }

    public double Number(string key, double fallback) => Number(key) ?? fallback;

    public double? Number(string key)
    {
        if (options[key] is not { } node) return null;
        if (node.GetValueKind() == JsonValueKind.Number) return node.Deserialize<double>();
        // A number written as a string ("2") is taken, as a hand-edited recipe may hold one.
        return node.GetValueKind() == JsonValueKind.String
               && double.TryParse(node.GetValue<string>(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
            ? parsed : throw Wrong(key, "a number", node);
    }

    public int Int(string key, int fallback) => (int)Whole(key, fallback, int.MinValue, int.MaxValue);

    public long Long(string key, long fallback) => Whole(key, fallback, long.MinValue, long.MaxValue);

    private long Whole(string key, long fallback, long min, long max)
    {
        if (Number(key) is not { } v) return fallback;
        return v == Math.Floor(v) && v >= min && v <= max ? (long)v : throw Wrong(key, "an integer", options[key]!);
    }

    public bool Flag(string key, bool fallback) => options[key] switch
    {
        null => fallback,
        var node when node.GetValueKind() == JsonValueKind.True => true,
        var node when node.GetValueKind() == JsonValueKind.False => false,
        var node => throw Wrong(key, "true or false", node),
    };

    /// <param name="what">How to describe a valid value in the error, e.g. "a path (a checkpoint or run directory)".</param>
    public string? Text(string key, string what = "a non-empty string")
    {
        if (options[key] is not { } node) return null;
        return node.GetValueKind() == JsonValueKind.String && !string.IsNullOrWhiteSpace(node.GetValue<string>())
            ? node.GetValue<string>() : throw Wrong(key, what, node);
    }

    private TuwenException Wrong(string key, string what, JsonNode node) =>
        new($"{objective}: {key} must be {what}, not {node.ToJsonString()}");
}
