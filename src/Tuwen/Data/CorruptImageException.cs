namespace Tuwen.Data;

/// <summary>Image bytes that cannot be decoded (unknown format, truncated, absurd size). Loaders skip and count them.</summary>
public sealed class CorruptImageException : TuwenException
{
    public CorruptImageException(string message) : base(message) { }
}
