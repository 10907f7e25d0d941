using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// FILIP's two token-wise similarities for every image–text pair, both indexed [image i, text j]:
/// image→text s^I[i,j] = mean over image i's tokens of the best-matching token of text j, and text→image
/// s^T[i,j] = mean over text j's tokens of the best-matching token of image i.
/// </summary>
public sealed record TokenWiseScores(Tensor ImageToText, Tensor TextToImage) : IDisposable
{
    public void Dispose() { ImageToText.Dispose(); TextToImage.Dispose(); }
}

/// <summary>
/// Late interaction over normalised tokens (Wukong §2.6, FILIP). Padding is excluded by masking, not by
/// zeroing: Wukong's code multiplies pad vectors by 0, so a pad scores ⟨x, 0⟩ = 0 and wins the max whenever
/// every real text token scores below 0 against an image token (common early in training and for short
/// prompts). Here a pad is filled with −∞ before a max and left out of a mean's sum and count, so the score
/// depends on the real tokens only and does not change with the padded length.
/// </summary>
public static class TokenWiseSimilarity
{
    /// <summary>Floats of one [B1, n1, chunk, n2] block of token products when no chunk size is given (128 MiB).</summary>
    public const long DefaultBlockElements = 1L << 25;

    private static readonly Scalar NegativeInfinity = float.NegativeInfinity.ToScalar();

    /// <summary>
    /// Both similarities of image tokens [B1, n1, D] against text tokens [B2, n2, D] (both L2-normalised).
    /// <paramref name="textMask"/> [B2, n2] and <paramref name="imageMask"/> [B1, n1] (optional) are true (or
    /// nonzero) for real tokens; every text and image needs at least one. Texts are processed
    /// <paramref name="textChunk"/> at a time (default: as many as keep B1·n1·chunk·n2 within
    /// <see cref="DefaultBlockElements"/>), so memory stays bounded for large evaluation sets. Works with and
    /// without autograd.
    /// </summary>
    public static TokenWiseScores Compute(Tensor imageTokens, Tensor? imageMask, Tensor textTokens, Tensor textMask, int? textChunk = null)
    {
        Validate(imageTokens, imageMask, textTokens, textMask);
        using var scope = NewDisposeScope();
        long b1 = imageTokens.shape[0], n1 = imageTokens.shape[1], b2 = textTokens.shape[0], n2 = textTokens.shape[1], d = imageTokens.shape[2];
        var chunk = textChunk ?? (int)Math.Clamp(DefaultBlockElements / Math.Max(1, b1 * n1 * n2), 1, Math.Max(1, b2));
        if (chunk < 1) throw new ArgumentOutOfRangeException(nameof(textChunk), chunk, "chunk size must be at least 1");

        var textValid = textMask.to(ScalarType.Bool);
        var imageValid = imageMask?.to(ScalarType.Bool);
        var imageFlat = imageTokens.reshape(b1 * n1, d);
        var imageToText = new List<Tensor>();
        var textToImage = new List<Tensor>();
        for (long start = 0; start < b2; start += chunk)
        {
            var count = Math.Min(chunk, b2 - start);
            var text = textTokens.narrow(0, start, count);
            var valid = textValid.narrow(0, start, count);                                        // [c, n2]
            var products = imageFlat.matmul(text.reshape(count * n2, d).t()).reshape(b1, n1, count, n2);

            // s^I: best real text token for each image token, then the mean over (real) image tokens.
            var bestText = products.masked_fill(valid.logical_not().reshape(1, 1, count, n2), NegativeInfinity).amax([3]);   // [b1, n1, c]
            imageToText.Add(MaskedMean(bestText, imageValid?.unsqueeze(2), dim: 1));                                       // [b1, c]

            // s^T: best (real) image token for each text token, then the mean over real text tokens.
            var bestImage = imageValid is null ? products.amax([1])
                : products.masked_fill(imageValid.logical_not().reshape(b1, n1, 1, 1), NegativeInfinity).amax([1]);     // [b1, c, n2]
            textToImage.Add(MaskedMean(bestImage, valid.unsqueeze(0), dim: 2));                                           // [b1, c]
        }
        var i2t = imageToText.Count == 1 ? imageToText[0] : cat(imageToText, 1);
        var t2i = textToImage.Count == 1 ? textToImage[0] : cat(textToImage, 1);
        return new TokenWiseScores(i2t.MoveToOuterDisposeScope(), t2i.MoveToOuterDisposeScope());
    }

    /// <summary>Mean over <paramref name="dim"/> of the entries where <paramref name="valid"/> is true (all when null).</summary>
    private static Tensor MaskedMean(Tensor values, Tensor? valid, long dim)
    {
        if (valid is null) return values.mean([dim]);
        // masked_fill rather than a product with the mask: a pad's value may be −∞ (never here, but cheap to be safe).
        var sum = values.masked_fill(valid.logical_not(), Scalars.Zero).sum([dim]);
        return sum.div(valid.sum([dim]).to(values.dtype));
    }

    private static void Validate(Tensor imageTokens, Tensor? imageMask, Tensor textTokens, Tensor textMask)
    {
        if (imageTokens.dim() != 3 || textTokens.dim() != 3)
            throw new ArgumentException($"tokens must be [batch, tokens, dim]; got image [{string.Join(",", imageTokens.shape)}], text [{string.Join(",", textTokens.shape)}]");
        if (imageTokens.shape[2] != textTokens.shape[2])
            throw new ArgumentException($"token widths differ: image {imageTokens.shape[2]}, text {textTokens.shape[2]}");
        if (textMask.dim() != 2 || textMask.shape[0] != textTokens.shape[0] || textMask.shape[1] != textTokens.shape[1])
            throw new ArgumentException($"text mask [{string.Join(",", textMask.shape)}] does not match text tokens [{string.Join(",", textTokens.shape)}]");
        if (imageMask is not null && (imageMask.dim() != 2 || imageMask.shape[0] != imageTokens.shape[0] || imageMask.shape[1] != imageTokens.shape[1]))
            throw new ArgumentException($"image mask [{string.Join(",", imageMask.shape)}] does not match image tokens [{string.Join(",", imageTokens.shape)}]");
        // A sequence with no real token has no defined score (its max would be −∞).
        using var scope = NewDisposeScope();
        if (!textMask.to(ScalarType.Bool).any(1).all().item<bool>()) throw new ArgumentException("a text has no unmasked token");
        if (imageMask is not null && !imageMask.to(ScalarType.Bool).any(1).all().item<bool>()) throw new ArgumentException("an image has no unmasked token");
    }
}
