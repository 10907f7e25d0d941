using Tuwen.Evaluation;
using static TorchSharp.torch;

namespace Tuwen.Tests.Evaluation;

public class RetrievalMetricsTests
{
    private const double Tolerance = 1e-9;

    // 12 texts × 6 images, two captions per image, assigned out of order so that code assuming
    // "caption t belongs to image t/5" fails. Every row and every column holds distinct values (no ties).
    private static readonly int[] HandTextToImage = [3, 0, 5, 1, 0, 2, 4, 3, 1, 5, 2, 4];

    private static readonly float[,] HandScores =
    {
        //  img0 img1 img2 img3 img4 img5
        { 10, 20, 30, 90, 40, 50 }, // t0  → img3: 90 is the row maximum               rank 1
        { 80, 85, 11, 21, 31, 61 }, // t1  → img0: 85 above                             rank 2
        { 12, 22, 32, 42, 52, 60 }, // t2  → img5                                       rank 1
        { 60, 13, 61, 62, 63, 64 }, // t3  → img1: row minimum                          rank 6
        { 14, 70, 71, 72, 73,  4 }, // t4  → img0: 70,71,72,73 above                    rank 5
        { 15, 25, 96, 35, 45, 65 }, // t5  → img2                                       rank 1
        { 16, 26, 36, 81, 56, 82 }, // t6  → img4: 81,82 above                          rank 3
        { 17, 27, 37, 97, 47, 77 }, // t7  → img3                                       rank 1
        { 65,  3, 66, 67, 68, 69 }, // t8  → img1: row minimum                          rank 6
        { 18, 28, 38, 48, 98, 58 }, // t9  → img5: 98 above                             rank 2
        { 74, 75, 19, 76,  9,  8 }, // t10 → img2: 74,75,76 above                       rank 4
        {  5, 24,  7, 23, 57, 33 }, // t11 → img4                                       rank 1
    };
    // Image→text, best positive caption per column and the negatives at or above it:
    // img0 {t1 80, t4 14} best 80, none above → 1;   img1 {t3 13, t8 3} best 13, all 10 negatives above → 11;
    // img2 {t5 96, t10 19} → 1;   img3 {t0 90, t7 97} → 1;
    // img4 {t6 56, t11 57} best 57, above: t3 63, t4 73, t8 68, t9 98 → 5;
    // img5 {t2 60, t9 58} best 60, above: t1 61, t3 64, t5 65, t6 82, t7 77, t8 69 → 7.
    private static readonly int[] HandTextRanks = [1, 2, 1, 6, 5, 1, 3, 1, 6, 2, 4, 1];
    private static readonly int[] HandImageRanks = [1, 11, 1, 1, 5, 7];

    private static void AssertHandResult(RetrievalResult result)
    {
        Assert.Equal(HandTextRanks, result.TextToImage.FirstPositiveRanks);
        Assert.Equal(HandImageRanks, result.ImageToText.FirstPositiveRanks);

        var t2i = result.TextToImage;
        Assert.Equal(12, t2i.Queries);
        Assert.Equal((5, 10, 12), (t2i.HitsAt1, t2i.HitsAt5, t2i.HitsAt10));
        Assert.Equal(100.0 * 5 / 12, t2i.RecallAt1, Tolerance);   // 41.67
        Assert.Equal(100.0 * 10 / 12, t2i.RecallAt5, Tolerance);  // 83.33
        Assert.Equal(100.0, t2i.RecallAt10, Tolerance);
        Assert.Equal(75.0, t2i.MeanRecall, Tolerance);
        Assert.Equal(33.0 / 12, t2i.MeanRank, Tolerance);         // 2.75
        Assert.Equal(2.0, t2i.MedianRank);                        // sorted ranks, 6th and 7th are 2 and 2

        var i2t = result.ImageToText;
        Assert.Equal(6, i2t.Queries);
        Assert.Equal((3, 4, 5), (i2t.HitsAt1, i2t.HitsAt5, i2t.HitsAt10));
        Assert.Equal(50.0, i2t.RecallAt1, Tolerance);
        Assert.Equal(100.0 * 4 / 6, i2t.RecallAt5, Tolerance);    // 66.67
        Assert.Equal(100.0 * 5 / 6, i2t.RecallAt10, Tolerance);   // 83.33
        Assert.Equal(200.0 / 3, i2t.MeanRecall, Tolerance);
        Assert.Equal(26.0 / 6, i2t.MeanRank, Tolerance);          // 4.33
        Assert.Equal(3.0, i2t.MedianRank);                        // 1 1 1 5 7 11 → (1+5)/2

        Assert.Equal(425.0 / 6, result.MeanRecall, Tolerance);    // (41.67+83.33+100+50+66.67+83.33)/6 = 70.83
        Assert.Equal((12, 6), (result.Texts, result.Images));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(RetrievalMetrics.DefaultChunkSize)]
    public void HandMadeMatrix_GivesHandComputedRecallsAndRanks(int chunkSize)
    {
        AssertHandResult(RetrievalMetrics.FromSimilarity(HandScores, HandTextToImage, chunkSize));
    }

    [Fact]
    public void HandMadeMatrix_AsTensor_GivesHandComputedRecallsAndRanks()
    {
        using var scores = tensor(HandScores);
        AssertHandResult(RetrievalMetrics.FromSimilarity(scores, HandTextToImage, chunkSize: 4));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(64)]
    public void HandMadeMatrix_AsFeatures_GivesHandComputedRecallsAndRanks(int chunkSize)
    {
        // Texts carry their score rows, images are unit vectors: text·imageᵀ reproduces the matrix exactly.
        using var textFeatures = tensor(HandScores);
        using var imageFeatures = eye(6);
        AssertHandResult(RetrievalMetrics.FromFeatures(textFeatures, imageFeatures, HandTextToImage, chunkSize));
    }

    [Fact]
    public void Ties_CountAgainstTheQuery_ButTiesBetweenPositivesDoNot()
    {
        float[,] scores =
        {
            // img0 img1 img2
            { 5, 5, 1 }, // t0 → img0, tied with img1          → rank 2
            { 7, 6, 3 }, // t1 → img0                          → rank 1
            { 4, 4, 4 }, // t2 → img1, everything tied         → rank 3
            { 2, 6, 1 }, // t3 → img1                          → rank 1
            { 9, 0, 9 }, // t4 → img2, tied with img0          → rank 2
            { 1, 1, 9 }, // t5 → img2                          → rank 1
        };
        int[] textToImage = [0, 0, 1, 1, 2, 2];
        // img0: best positive t1 = 7, negative t4 = 9 above → 2.
        // img1: best positive t3 = 6, negative t1 = 6 tied → 2.
        // img2: positives t4 = t5 = 9 tie with each other, no negative reaches 9 → 1.
        var result = RetrievalMetrics.FromSimilarity(scores, textToImage);

        Assert.Equal([2, 1, 3, 1, 2, 1], result.TextToImage.FirstPositiveRanks);
        Assert.Equal([2, 2, 1], result.ImageToText.FirstPositiveRanks);
        Assert.Equal(50.0, result.TextToImage.RecallAt1, Tolerance);
        Assert.Equal(100.0, result.TextToImage.RecallAt5, Tolerance);
        Assert.Equal(100.0 / 3, result.ImageToText.RecallAt1, Tolerance);
        Assert.Equal(10.0 / 6, result.TextToImage.MeanRank, Tolerance);
        // Ranks 1 1 1 2 2 3: true median 1.5, reported as open_clip does, floor → 1.
        Assert.Equal(1.0, result.TextToImage.MedianRank);
        Assert.Equal(5.0 / 3, result.ImageToText.MeanRank, Tolerance);
        Assert.Equal(2.0, result.ImageToText.MedianRank);
    }

    [Fact]
    public void ConstantScorer_ScoresZeroAtRankOne()
    {
        var scores = new float[4, 2]; // all zero: every candidate ties
        var result = RetrievalMetrics.FromSimilarity(scores, [0, 0, 1, 1]);
        Assert.Equal(0.0, result.TextToImage.RecallAt1);
        Assert.Equal(0.0, result.ImageToText.RecallAt1);
        Assert.Equal([2, 2, 2, 2], result.TextToImage.FirstPositiveRanks);
        Assert.Equal([3, 3], result.ImageToText.FirstPositiveRanks); // both negative captions tie with the positives
    }

    [Fact]
    public void TopKImages_ReturnsBestFirst()
    {
        using var scores = tensor(HandScores);
        var top = RetrievalMetrics.TopKImages(scores, [1, 6, 10], k: 3);
        Assert.Equal([1, 0, 5], top[0]);  // 85, 80, 61
        Assert.Equal([5, 3, 4], top[1]);  // 82, 81, 56
        Assert.Equal([3, 1, 0], top[2]);  // 76, 75, 74

        using var textFeatures = tensor(HandScores);
        using var imageFeatures = eye(6);
        var fromFeatures = RetrievalMetrics.TopKImages(textFeatures, imageFeatures, [3], k: 10);
        Assert.Equal([5, 4, 3, 2, 0, 1], fromFeatures[0]); // k capped at the 6 images
    }

    [Fact]
    public void ChunkedAndUnchunked_AgreeOnARandomCase()
    {
        const int images = 97, captionsPerImage = 3, width = 16;
        var random = new Random(20240601);
        var imageData = new float[images * width];
        for (int i = 0; i < imageData.Length; i++) imageData[i] = (float)(random.NextDouble() * 2 - 1);
        var textToImage = Enumerable.Range(0, images * captionsPerImage).Select(_ => 0).ToArray();
        var textData = new float[textToImage.Length * width];
        for (int t = 0; t < textToImage.Length; t++)
        {
            // Shuffled assignment, each caption a noisy copy of its image so that recalls are neither 0 nor 100.
            textToImage[t] = (t * 37) % images;
            for (int d = 0; d < width; d++)
                textData[t * width + d] = imageData[textToImage[t] * width + d] + (float)(random.NextDouble() * 2 - 1) * 1.5f;
        }
        using var scope = NewDisposeScope();
        var imageFeatures = nn.functional.normalize(tensor(imageData).reshape(images, width), dim: 1);
        var textFeatures = nn.functional.normalize(tensor(textData).reshape(textToImage.Length, width), dim: 1);

        var whole = RetrievalMetrics.FromFeatures(textFeatures, imageFeatures, textToImage, chunkSize: 100_000);
        var chunked = RetrievalMetrics.FromFeatures(textFeatures, imageFeatures, textToImage, chunkSize: 7);
        var fromMatrix = RetrievalMetrics.FromSimilarity(textFeatures.matmul(imageFeatures.t()), textToImage, chunkSize: 13);

        foreach (var other in new[] { chunked, fromMatrix })
        {
            Assert.Equal(whole.TextToImage.FirstPositiveRanks, other.TextToImage.FirstPositiveRanks);
            Assert.Equal(whole.ImageToText.FirstPositiveRanks, other.ImageToText.FirstPositiveRanks);
            Assert.Equal(whole.MeanRecall, other.MeanRecall);
        }
        Assert.InRange(whole.TextToImage.RecallAt1, 1.0, 99.0);
        Assert.InRange(whole.ImageToText.RecallAt1, 1.0, 99.0);
    }

    [Fact]
    public void RejectsBadInput()
    {
        var scores = new float[3, 2];
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.FromSimilarity(scores, [0, 0]));          // length
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.FromSimilarity(scores, [0, 2, 1]));       // range
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.FromSimilarity(scores, [0, 0, 0]));       // image 1 has no caption
        Assert.Throws<ArgumentOutOfRangeException>(() => RetrievalMetrics.FromSimilarity(scores, [0, 1, 1], chunkSize: 0));
        scores[2, 1] = float.NaN;
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.FromSimilarity(scores, [0, 1, 1]));
        using var text = zeros(3, 4);
        using var image = zeros(2, 5);
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.FromFeatures(text, image, [0, 1, 1]));    // widths differ
    }
}
