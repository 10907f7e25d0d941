using Tuwen.Data;
using Tuwen.Interop.ChineseClip;

namespace Tuwen.Interop;

/// <summary>What a conversion needs besides the directories: the Chinese-CLIP split and the shard sizes.</summary>
public sealed record CorpusFormatOptions(string Split = "valid", int SamplesPerShard = 1000, string ShardName = "converted");

/// <summary>A dataset opened for reading as Tuwen samples.</summary>
public interface ICorpusFormatReader
{
    /// <summary>How many items (images or rows) the input holds, known up front for progress; samples may be fewer.</summary>
    long? Total { get; }

    IEnumerable<Sample> Read();

    /// <summary>One line on what was read and what was skipped, valid once <see cref="Read"/> is exhausted.</summary>
    string Summary { get; }
}

/// <summary>A dataset being written from Tuwen samples; nothing is final before <see cref="Complete"/>.</summary>
public interface ICorpusFormatWriter : IDisposable
{
    void Write(Sample sample);

    void Complete();

    /// <summary>One line on what was written and where, valid after <see cref="Complete"/>.</summary>
    string Summary { get; }
}

/// <summary>
/// A conversion that does not go through samples, from (input, output, options, progress) to the summary line.
/// Progress is (done, total).
/// </summary>
public delegate string DirectConversion(string input, string output, CorpusFormatOptions options, Action<long, long> progress);

/// <summary>
/// A dataset layout Tuwen converts from and to, under the name the command line uses. <paramref name="DirectFrom"/>
/// names source formats this one loads without going through samples, where that keeps more (Chinese-CLIP's LMDB
/// built from its TSV/JSONL keeps images no text names, as its own build script does).
/// </summary>
public sealed record CorpusFormat(
    string Name,
    string Description,
    Func<string, CorpusFormatOptions, ICorpusFormatReader> OpenReader,
    Func<string, CorpusFormatOptions, ICorpusFormatWriter> CreateWriter,
    IReadOnlyDictionary<string, DirectConversion>? DirectFrom = null);

/// <summary>The formats <c>tuwen corpus convert</c> knows; one line registers a new one.</summary>
public static class CorpusFormats
{
    public static IReadOnlyList<CorpusFormat> All { get; } =
    [
        ChineseClipCorpusFormats.TsvJsonl,
        ChineseClipCorpusFormats.Lmdb,
        ShardCorpusFormats.Shards,
        ShardCorpusFormats.Img2Dataset,
    ];

    public static IEnumerable<string> Names => All.Select(f => f.Name);

    public static CorpusFormat Get(string name, string option = "format")
    {
        var wanted = name.Trim().ToLowerInvariant();
        return All.FirstOrDefault(f => f.Name == wanted)
            ?? throw new TuwenException($"{option} must be one of {string.Join(", ", Names)}, not \"{name}\"");
    }
}
