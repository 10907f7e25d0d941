namespace Tuwen.Corpus.Text;

/// <summary>A rule's answer: keep the text (possibly rewritten, e.g. masked) or drop it for a named reason.</summary>
public readonly record struct TextVerdict(string? Text, string? DropReason)
{
    public static TextVerdict Keep(string text) => new(text, null);
    public static TextVerdict Drop(string reason) => new(null, reason);
    public bool Dropped => DropReason is not null;
}

/// <summary>One text filter rule; rules run in a fixed order and the first drop decides the reason counted.</summary>
public interface ITextRule
{
    TextVerdict Apply(string text);
}
