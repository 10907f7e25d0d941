using System.Text.Json.Nodes;
using Tuwen.Data;

namespace Tuwen.Tests.Data;

public sealed class EvalSetTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void LoadsFlickrImagesInOrderWithCaptionsMetadataAndCorruptOnesSkipped()
    {
        var files = Directory.GetFiles(SharedData.Path("flickr8k-cn", "images", "val"), "*.jpg").Order().Take(70).ToArray();
        var corruptIndex = 65; // in the second block of 64, so both the block gap and the block boundary are exercised
        using (var writer = new ShardWriter(_temp.Path, "flickr-eval", samplesPerShard: 30))
        {
            for (var i = 0; i < files.Length; i++)
            {
                var image = i == corruptIndex ? File.ReadAllBytes(files[i])[..500] : File.ReadAllBytes(files[i]);
                var captions = i % 2 == 0 ? new[] { $"图{i}第一句" } : [$"图{i}第一句", $"图{i}第二句"];
                writer.Write(Sample.Create($"img{i}", image, "jpg", captions, new JsonObject { ["label"] = i % 5 }));
            }
        }
        var transform = ImageTransform.ForEval(224);
        using var set = EvalSet.Load(_temp.Path, transform);

        var kept = Enumerable.Range(0, files.Length).Where(i => i != corruptIndex).ToArray();
        Assert.Equal(kept.Length, set.Count);
        Assert.Equal(1, set.CorruptImages);
        Assert.Equal(0, set.IncompleteSamples);
        Assert.Equal([(long)kept.Length, 3, 224, 224], set.Images.shape);
        Assert.Equal(kept.Select(i => $"img{i}"), set.Keys);
        Assert.Equal(kept.Select(i => i % 5), set.Metadata.Select(m => (int)m["label"]!));

        Assert.Equal(set.Captions.Count, set.CaptionImage.Count);
        for (var c = 0; c < set.Captions.Count; c++)
        {
            var key = set.Keys[set.CaptionImage[c]];
            Assert.StartsWith($"图{key[3..]}第", set.Captions[c]);
        }
        Assert.Equal(kept.Sum(i => i % 2 == 0 ? 1 : 2), set.Captions.Count);

        foreach (var row in new[] { 0, 31, 63, 64, 65, kept.Length - 1 })
        {
            var expected = transform.Apply(File.ReadAllBytes(files[kept[row]]));
            using var actual = set.Images[row];
            Assert.Equal(expected, actual.data<float>().ToArray());
        }
    }

    [Fact]
    public void NeedsAnEvaluationTransform()
    {
        DataFixtures.WriteNumberedDataset(_temp.Path, 2, 10);
        Assert.Throws<ArgumentException>(() => EvalSet.Load(_temp.Path, ImageTransform.ForTraining(16)));
        using var set = EvalSet.Load(_temp.Path, ImageTransform.ForEval(16, EvalResize.CenterCrop));
        Assert.Equal(2, set.Count);
        Assert.Equal(6, set.Captions.Count);
        Assert.Equal([0, 0, 0, 1, 1, 1], set.CaptionImage);
    }
}
