using Tuwen.Evaluation;
using static TorchSharp.torch;

namespace Tuwen.Tests.Evaluation;

/// <summary>End to end on the real Flickr8K-CN validation split: 1,000 images × 5 Chinese captions.</summary>
public class Flickr8kRetrievalTests
{
    [Fact]
    public void ValidationSplit_HasOneThousandImagesWithFiveCaptionsEach()
    {
        var data = Flickr8kCnVal.Instance;
        Assert.Equal(1000, data.ImageIds.Length);
        Assert.Equal(5000, data.Captions.Length);
        Assert.All(data.CaptionToImage.GroupBy(i => i), g => Assert.Equal(Flickr8kCnVal.CaptionsPerImage, g.Count()));
        Assert.All(data.Captions, c => Assert.False(string.IsNullOrWhiteSpace(c)));
        Assert.True(File.Exists(Flickr8kCnVal.ImagePath(data.ImageIds[0])));
    }

    [Fact]
    public void TrivialColourAndCharacterModel_GivesWellFormedRecalls()
    {
        var data = Flickr8kCnVal.Instance;
        var imageRows = data.ImageIds.AsParallel().AsOrdered()
            .Select(id => Flickr8kCnVal.ColourGridFeatures(Flickr8kCnVal.ImagePath(id))).ToArray();
        var textRows = data.Captions.Select(Flickr8kCnVal.HashedCharacterFeatures).ToArray();

        using var scope = NewDisposeScope();
        var imageFeatures = nn.functional.normalize(tensor(imageRows.SelectMany(r => r).ToArray()).reshape(1000, 48), dim: 1);
        var textFeatures = nn.functional.normalize(tensor(textRows.SelectMany(r => r).ToArray()).reshape(5000, 48), dim: 1);

        var result = RetrievalMetrics.FromFeatures(textFeatures, imageFeatures, data.CaptionToImage, chunkSize: 600);

        Assert.Equal(5000, result.TextToImage.Queries);
        Assert.Equal(1000, result.ImageToText.Queries);
        foreach (var direction in new[] { result.TextToImage, result.ImageToText })
        {
            Assert.InRange(direction.RecallAt1, 0.0, 100.0);
            Assert.InRange(direction.RecallAt10, 0.0, 100.0);
            Assert.True(direction.RecallAt1 <= direction.RecallAt5 && direction.RecallAt5 <= direction.RecallAt10,
                $"recalls not monotone: {direction.RecallAt1} {direction.RecallAt5} {direction.RecallAt10}");
            Assert.InRange(direction.MedianRank, 1.0, direction == result.TextToImage ? 1000.0 : 4996.0);
        }
        Assert.InRange(result.MeanRecall, 0.0, 100.0);
        // Unrelated features cannot know which image a caption describes: far from an oracle.
        Assert.True(result.TextToImage.RecallAt10 < 20.0, $"t2i R@10 {result.TextToImage.RecallAt10} suspiciously high");
    }

    [Fact]
    public void OracleFeatures_GiveOneHundredEverywhere()
    {
        var data = Flickr8kCnVal.Instance;
        using var scope = NewDisposeScope();
        // Both sides one-hot in the image id: each caption scores 1 with its image and 0 with all others.
        var imageFeatures = eye(1000);
        var textFeatures = nn.functional.one_hot(tensor(data.CaptionToImage.Select(i => (long)i).ToArray()), 1000).to(ScalarType.Float32);

        var result = RetrievalMetrics.FromFeatures(textFeatures, imageFeatures, data.CaptionToImage, chunkSize: 333);

        foreach (var direction in new[] { result.TextToImage, result.ImageToText })
        {
            Assert.Equal(100.0, direction.RecallAt1);
            Assert.Equal(100.0, direction.RecallAt5);
            Assert.Equal(100.0, direction.RecallAt10);
            Assert.Equal(1.0, direction.MeanRank);
            Assert.Equal(1.0, direction.MedianRank);
        }
        Assert.Equal(100.0, result.MeanRecall);
    }

    [Fact]
    public void OracleWithTwoImagesSwapped_LosesExactlyThoseQueries()
    {
        // Images 0 and 1 exchange features. Their 10 captions score 1 on the other image and 0 on their own,
        // tied with 998 unrelated images, so (ties counting against) they rank 1,000th. Each of the two images
        // scores 1 on the other's 5 captions and 0 on its own 5 and on 4,990 others: rank 4,996.
        var data = Flickr8kCnVal.Instance;
        using var scope = NewDisposeScope();
        var permutation = Enumerable.Range(0, 1000).Select(i => (long)(i == 0 ? 1 : i == 1 ? 0 : i)).ToArray();
        var imageFeatures = eye(1000).index_select(0, tensor(permutation));
        var textFeatures = nn.functional.one_hot(tensor(data.CaptionToImage.Select(i => (long)i).ToArray()), 1000).to(ScalarType.Float32);

        var result = RetrievalMetrics.FromFeatures(textFeatures, imageFeatures, data.CaptionToImage);

        Assert.Equal(Enumerable.Repeat(1000, 10), result.TextToImage.FirstPositiveRanks.Take(10));
        Assert.Equal((4990, 4990, 4990), (result.TextToImage.HitsAt1, result.TextToImage.HitsAt5, result.TextToImage.HitsAt10));
        Assert.Equal(99.8, result.TextToImage.RecallAt1, 1e-9);
        Assert.Equal((4990 + 10 * 1000) / 5000.0, result.TextToImage.MeanRank, 1e-9);       // 2.998
        Assert.Equal([4996, 4996], result.ImageToText.FirstPositiveRanks.Take(2));
        Assert.Equal((998, 998, 998), (result.ImageToText.HitsAt1, result.ImageToText.HitsAt5, result.ImageToText.HitsAt10));
        Assert.Equal((998 + 2 * 4996) / 1000.0, result.ImageToText.MeanRank, 1e-9);         // 10.99
        Assert.Equal(1.0, result.ImageToText.MedianRank);
    }
}
