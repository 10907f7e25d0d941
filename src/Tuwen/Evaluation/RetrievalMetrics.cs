using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Evaluation;

/// <summary>
/// Text↔image retrieval recall as Chinese-CLIP evaluates it, plus open_clip's mean/median rank.
/// <list type="bullet">
/// <item>text→image: a text's only positive is its image (<c>textToImage[t]</c>).</item>
/// <item>image→text: an image's positives are all of its captions; the query hits at k when any of them is in
/// the top k (Chinese-CLIP evaluation_tr), so its rank is that of its best-scored caption.</item>
/// <item>Ties are conservative: a negative scoring exactly the same as the (best) positive is ranked above it.
/// Ties among an image's own captions cost nothing, since either of them is a hit. This makes a
/// constant scorer score zero instead of 100, and makes results independent of sort order.</item>
/// </list>
/// Scores are computed in blocks of <c>chunkSize</c> queries, so 100k×100k needs chunkSize×100k at a time.
/// Features are expected L2-normalised (scores are plain dot products); that is not checked.
/// </summary>
public static class RetrievalMetrics
{
    /// <summary>256 queries × 100k candidates × 4 bytes ≈ 100 MB per block.</summary>
    public const int DefaultChunkSize = 256;

    /// <summary>Scores are dot products of text features [T,D] and image features [I,D].</summary>
    public static RetrievalResult FromFeatures(Tensor textFeatures, Tensor imageFeatures, IReadOnlyList<int> textToImage,
        int chunkSize = DefaultChunkSize)
    {
        using var source = new FeatureSimilarity(textFeatures, imageFeatures);
        return Compute(source, textToImage, chunkSize);
    }

    /// <summary>Scores given as a [T,I] matrix (rows texts, columns images).</summary>
    public static RetrievalResult FromSimilarity(Tensor similarity, IReadOnlyList<int> textToImage,
        int chunkSize = DefaultChunkSize)
    {
        using var source = new MatrixSimilarity(similarity, ownsScores: false);
        return Compute(source, textToImage, chunkSize);
    }

    /// <summary>Separate scores per direction: captions × images [T,I] and images × captions [I,T].</summary>
    public static RetrievalResult FromScores(Tensor textToImage, Tensor imageToText, IReadOnlyList<int> textToImageIndex,
        int chunkSize = DefaultChunkSize)
    {
        using var source = new TwoWaySimilarity(textToImage, imageToText);
        return Compute(source, textToImageIndex, chunkSize);
    }

    /// <inheritdoc cref="FromSimilarity(Tensor, IReadOnlyList{int}, int)"/>
    public static RetrievalResult FromSimilarity(float[,] similarity, IReadOnlyList<int> textToImage,
        int chunkSize = DefaultChunkSize)
    {
        using var source = new MatrixSimilarity(tensor(similarity), ownsScores: true);
        return Compute(source, textToImage, chunkSize);
    }

    /// <summary>
    /// Image indices of the k best-scored images for each of the given texts, best first (ties in no set order);
    /// for the report's retrieval grid. k is capped at the number of images.
    /// </summary>
    public static int[][] TopKImages(Tensor textFeatures, Tensor imageFeatures, IReadOnlyList<int> textQueryIndices, int k = 5)
    {
        using var source = new FeatureSimilarity(textFeatures, imageFeatures);
        return TopK(source, textQueryIndices, k);
    }

    /// <inheritdoc cref="TopKImages(Tensor, Tensor, IReadOnlyList{int}, int)"/>
    public static int[][] TopKImages(Tensor similarity, IReadOnlyList<int> textQueryIndices, int k = 5)
    {
        using var source = new MatrixSimilarity(similarity, ownsScores: false);
        return TopK(source, textQueryIndices, k);
    }

    private static int[][] TopK(SimilaritySource source, IReadOnlyList<int> textQueryIndices, int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1");
        int take = Math.Min(k, source.Images);
        var result = new int[textQueryIndices.Count][];
        for (int q = 0; q < textQueryIndices.Count; q++)
        {
            int text = textQueryIndices[q];
            if (text < 0 || text >= source.Texts)
                throw new ArgumentOutOfRangeException(nameof(textQueryIndices), text, $"text index outside [0, {source.Texts})");
            using var scope = NewDisposeScope();
            var (_, indices) = source.TextRows(text, 1).squeeze(0).topk(take);
            result[q] = indices.to(ScalarType.Int32).cpu().data<int>().ToArray();
        }
        return result;
    }

    private static RetrievalResult Compute(SimilaritySource source, IReadOnlyList<int> textToImage, int chunkSize)
    {
        if (chunkSize < 1) throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "chunk size must be at least 1");
        ValidateAssignment(textToImage, source.Texts, source.Images);

        var textImageIds = textToImage.Select(i => (long)i).ToArray();
        using var textImage = tensor(textImageIds, device: source.Device);

        var textRanks = new int[source.Texts];
        for (int start = 0; start < source.Texts; start += chunkSize)
        {
            int count = Math.Min(chunkSize, source.Texts - start);
            using var scope = NewDisposeScope();
            var scores = source.TextRows(start, count);
            RequireFinite(scores);
            var positive = scores.gather(1, textImage.narrow(0, start, count).unsqueeze(1));
            // The positive itself satisfies >=, so the count is already the 1-based rank with ties counted against it.
            var ranks = scores.ge(positive).sum(1);
            CopyRanks(ranks, textRanks, start);
        }

        var imageRanks = new int[source.Images];
        for (int start = 0; start < source.Images; start += chunkSize)
        {
            int count = Math.Min(chunkSize, source.Images - start);
            using var scope = NewDisposeScope();
            var scores = source.ImageRows(start, count);
            RequireFinite(scores);
            // Explicit Scalars held by `using`: see Models.Scalars for why never implicit ones.
            using Scalar first = start.ToScalar(), end = (start + count).ToScalar(), minusInfinity = float.NegativeInfinity.ToScalar();
            var imageIds = arange(first, end, Models.Scalars.One, ScalarType.Int64, source.Device).unsqueeze(1);
            var isPositive = textImage.unsqueeze(0).eq(imageIds);
            var isNegative = isPositive.logical_not();
            var bestPositive = scores.masked_fill(isNegative, minusInfinity).max(1, keepdim: true).values;
            var ranks = scores.ge(bestPositive).logical_and(isNegative).sum(1).add(Models.Scalars.One);
            CopyRanks(ranks, imageRanks, start);
        }

        return new RetrievalResult(
            RetrievalDirectionResult.FromRanks(textRanks),
            RetrievalDirectionResult.FromRanks(imageRanks));
    }

    private static void ValidateAssignment(IReadOnlyList<int> textToImage, int texts, int images)
    {
        if (texts == 0 || images == 0) throw new ArgumentException($"need at least one text and one image (got {texts} texts, {images} images)");
        if (textToImage.Count != texts)
            throw new ArgumentException($"textToImage has {textToImage.Count} entries but there are {texts} texts", nameof(textToImage));
        var captionCount = new int[images];
        for (int t = 0; t < texts; t++)
        {
            int image = textToImage[t];
            if (image < 0 || image >= images)
                throw new ArgumentException($"textToImage[{t}] = {image} is outside [0, {images})", nameof(textToImage));
            captionCount[image]++;
        }
        int orphan = Array.IndexOf(captionCount, 0);
        // An image without captions has no positive, so image→text recall would be undefined for it.
        if (orphan >= 0) throw new ArgumentException($"image {orphan} has no caption in textToImage", nameof(textToImage));
    }

    private static void RequireFinite(Tensor scores)
    {
        // NaN compares false with everything and would silently give rank 0 or drop a negative.
        if (!scores.isfinite().all().item<bool>())
            throw new ArgumentException("similarity scores contain NaN or infinity");
    }

    private static void CopyRanks(Tensor ranks, int[] destination, int start)
    {
        var values = ranks.to(ScalarType.Int32).cpu().data<int>().ToArray();
        Array.Copy(values, 0, destination, start, values.Length);
    }
}
