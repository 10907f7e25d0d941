using Tuwen.Corpus.Images;
using Tuwen.Corpus.Sources;
using Tuwen.Corpus.Text;

namespace Tuwen.Corpus.Pipeline;

/// <summary>What became of one candidate: a kept sample (caption + image) or the reason it was dropped.</summary>
public sealed record CandidateOutcome(Candidate Candidate)
{
    public ChosenCaption? Caption { get; init; }
    public ProcessedImage? Image { get; init; }
    public string? DropReason { get; init; }
    public string? FinalUrl { get; init; }
    public int Attempts { get; init; }
    public long DownloadedBytes { get; init; }
    public double? Relevance { get; init; }

    public bool Kept => DropReason is null && Image is not null && Caption is not null;

    public string Key => KeyOf(Candidate.Index);

    public static string KeyOf(long index) => index.ToString("D10", System.Globalization.CultureInfo.InvariantCulture);
}
