using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tuwen.Corpus.Pipeline;

/// <summary>Which of a candidate's texts may become its caption.</summary>
public enum Correlation { Both, Strong, Weak }

/// <summary>What to do with a caption holding a phone number, e-mail address or ID number.</summary>
public enum PrivacyAction { Mask, Drop, Keep }

/// <summary>img2dataset's resize modes.</summary>
public enum ResizeMode
{
    /// <summary>Keep the pixels; JPEG and PNG are stored as downloaded, other formats re-encoded.</summary>
    No,
    /// <summary>Shorter side to the size, aspect ratio kept.</summary>
    KeepRatio,
    /// <summary>Shorter side to the size, then the centre square.</summary>
    CenterCrop,
    /// <summary>Longer side to the size, centred on a white square.</summary>
    Border,
}

/// <summary>
/// Everything `tuwen corpus build` can be told, from a JSON file (snake_case keys) with command-line flags on
/// top. Defaults follow Wukong's published rules where it published one (≥ 200 px, aspect ≤ 3, captions on
/// more than 10 images dropped, ≤ 32 words ≈ 64 characters) and img2dataset's elsewhere (10 s timeout,
/// JPEG 95, border resize to 256 px).
/// </summary>
public sealed record CorpusBuildOptions
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    // Input and output
    public IReadOnlyList<string> Inputs { get; init; } = [];
    public string Output { get; init; } = "";
    public string Name { get; init; } = "corpus";
    public string UrlColumn { get; init; } = "url";
    public string CaptionColumn { get; init; } = "caption";
    /// <summary>Candidates per work unit: the grain of restarts and of the split between workers.</summary>
    public int UnitSize { get; init; } = 1000;
    public int SamplesPerShard { get; init; } = 1000;
    public int ShardIndex { get; init; }
    public int ShardCount { get; init; } = 1;

    // Text
    public Correlation Correlation { get; init; } = Correlation.Both;
    public bool RequireChinese { get; init; } = true;
    public int MinLength { get; init; } = 2;
    public int MaxLength { get; init; } = 64;
    /// <summary>A caption on more images than this is boilerplate ("点击查看大图"); 0 disables the rule.</summary>
    public int MaxCaptionRepeats { get; init; } = 10;
    public string? SensitiveWordsFile { get; init; }
    public PrivacyAction Privacy { get; init; } = PrivacyAction.Mask;
    public bool TraditionalToSimplified { get; init; }

    // Download
    public int Concurrency { get; init; } = 64;
    public int PerHostConcurrency { get; init; } = 4;
    public int PerHostDelayMs { get; init; }
    public double TimeoutSeconds { get; init; } = 10;
    public int Retries { get; init; } = 2;
    public int RetryBaseDelayMs { get; init; } = 1000;
    public long MaxBodyBytes { get; init; } = 20 << 20;
    public int MaxRedirects { get; init; } = 5;
    public bool RespectRobots { get; init; } = true;
    public string UserAgent { get; init; } = "TuwenCorpusBot/0.1";
    /// <summary>Off in production: fetching from 127.0.0.1, 10.x or 169.254.x would make the crawler an SSRF tool.</summary>
    public bool AllowPrivateNetwork { get; init; }

    // Images
    public int MinSide { get; init; } = 200;
    public double MaxAspectRatio { get; init; } = 3.0;
    /// <summary>Decompression-bomb guard, checked on the header before any pixel is decoded.</summary>
    public long MaxPixels { get; init; } = 50_000_000;
    public ResizeMode ResizeMode { get; init; } = ResizeMode.Border;
    public int ImageSize { get; init; } = 256;
    public string EncodeFormat { get; init; } = "jpg";
    public int EncodeQuality { get; init; } = 95;

    // De-duplication
    public bool DedupExact { get; init; } = true;
    public bool DedupPerceptual { get; init; } = true;
    public int PerceptualThreshold { get; init; } = 3;
    public bool DedupPairs { get; init; } = true;

    // Relevance
    public string? RelevanceModel { get; init; }
    public double RelevanceThreshold { get; init; } = 0.2;

    public static CorpusBuildOptions Load(string path)
    {
        if (!File.Exists(path)) throw new TuwenException($"corpus config not found: {path}");
        try
        {
            return JsonSerializer.Deserialize<CorpusBuildOptions>(File.ReadAllText(path), Json) ?? throw new TuwenException($"{path} is empty");
        }
        catch (JsonException e)
        {
            throw new TuwenException($"{path}: {e.Message}", e);
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Throws <see cref="TuwenException"/> naming the first value out of range.</summary>
    public void Validate()
    {
        if (Inputs.Count == 0) throw new TuwenException("no input given");
        if (string.IsNullOrWhiteSpace(Output)) throw new TuwenException("no output directory given (--out)");
        Check(!string.IsNullOrWhiteSpace(Name) && Name.IndexOfAny(['/', '\\', ' ', '.']) < 0, $"dataset name \"{Name}\" must be non-empty without '/', '\\', '.' or spaces");
        Check(UnitSize >= 1, "unit_size must be at least 1");
        Check(SamplesPerShard >= 1, "samples_per_shard must be at least 1");
        Check(ShardCount >= 1 && ShardIndex >= 0 && ShardIndex < ShardCount, $"shard index {ShardIndex} is not in 0..{ShardCount - 1}");
        Check(MinLength >= 0 && MaxLength >= MinLength, "caption length bounds must satisfy 0 ≤ min ≤ max");
        Check(MaxCaptionRepeats >= 0, "max_caption_repeats must not be negative");
        Check(Concurrency >= 1 && PerHostConcurrency >= 1, "concurrency limits must be at least 1");
        Check(PerHostDelayMs >= 0 && RetryBaseDelayMs >= 0 && Retries >= 0 && MaxRedirects >= 0, "delays, retries and redirects must not be negative");
        Check(TimeoutSeconds > 0, "timeout must be positive");
        Check(MaxBodyBytes > 0 && MaxPixels > 0, "size limits must be positive");
        Check(MinSide >= 0 && MaxAspectRatio >= 1, "min_side must not be negative and max_aspect_ratio at least 1");
        Check(ImageSize >= 8, "image_size must be at least 8");
        Check(EncodeFormat is "jpg" or "png", $"encode_format must be jpg or png, not {EncodeFormat}");
        Check(EncodeQuality is >= 1 and <= 100, "encode_quality must be 1..100");
        Check(PerceptualThreshold is >= 0 and <= 15, "perceptual_threshold must be 0..15 bits");
        if (SensitiveWordsFile is not null && !File.Exists(SensitiveWordsFile)) throw new TuwenException($"sensitive-word list not found: {SensitiveWordsFile}");
        if (RelevanceModel is not null && !Directory.Exists(RelevanceModel) && !File.Exists(RelevanceModel))
            throw new TuwenException($"relevance model not found: {RelevanceModel}");
    }

    /// <summary>
    /// A hash of the settings that decide what a work unit contains. Finished units are reused only under
    /// the same settings; worker placement, politeness and patience (concurrency, delays, timeout, retries) do not
    /// count, so a restart may be gentler or more patient than the run it continues.
    /// </summary>
    public string ContentFingerprint()
    {
        var decisive = this with
        {
            Output = "", ShardIndex = 0, ShardCount = 1, Concurrency = 0, PerHostConcurrency = 0, PerHostDelayMs = 0,
            RetryBaseDelayMs = 0, TimeoutSeconds = 0, Retries = 0, SamplesPerShard = 0, DedupExact = false, DedupPerceptual = false, DedupPairs = false, PerceptualThreshold = 0,
            Inputs = [],
        };
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(decisive.ToJson())))[..16];
    }

    private static void Check(bool condition, string message)
    {
        if (!condition) throw new TuwenException(message);
    }
}
