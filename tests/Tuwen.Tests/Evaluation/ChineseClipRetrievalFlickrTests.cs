using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Interop.ChineseClip;
using Tuwen.Tests.Data;
using static TorchSharp.torch;

namespace Tuwen.Tests.Evaluation;

/// <summary>
/// The Chinese-CLIP-compatible path end to end on real Flickr8K-CN validation data written in its TSV/JSONL
/// layout by <see cref="ChineseClipWriter"/> (the first 150 images × 5 captions keep the test fast; the full
/// 1,000 images ran by hand through the CLI). Checks the files' shapes and ids, and that the score files agree
/// with <see cref="RetrievalMetrics"/> computed independently on the same written features.
/// </summary>
public class ChineseClipRetrievalFlickrTests
{
    private const int ImageCount = 150;

    [Fact]
    public void Flickr8kCn_validation_files_and_scores_agree_with_retrieval_metrics()
    {
        using var dir = new TempDirectory();
        var flickr = Flickr8kCnVal.Instance;
        using (var writer = new ChineseClipWriter(dir.Combine("data"), "valid"))
            for (int i = 0; i < ImageCount; i++)
                writer.Write(Sample.Create(flickr.ImageIds[i], File.ReadAllBytes(Flickr8kCnVal.ImagePath(flickr.ImageIds[i])), "jpg",
                    [.. flickr.Captions.Where((_, c) => flickr.CaptionToImage[c] == i)], new JsonObject()));

        using var runtime = ImageFolderZeroShotSharedDataTests.TinyRuntime();
        var run = ChineseClipRetrievalOutput.Run(runtime, dir.Combine("data"), "valid", dir.Combine("out"), batchSize: 32);

        var texts = ChineseClipDataset.ReadTexts(ChineseClipDataset.TextsPath(dir.Combine("data"), "valid")).ToList();
        Assert.Equal(ImageCount * 5, texts.Count);
        var imageFeatures = ReadFeatures(run.Files["image_features"], "image_id");
        var textFeatures = ReadFeatures(run.Files["text_features"], "text_id");
        Assert.Equal(ImageCount, imageFeatures.Count);
        Assert.Equal(texts.Select(t => t.TextId), textFeatures.Select(f => f.Id));
        Assert.All(imageFeatures.Concat(textFeatures), f =>
        {
            Assert.Equal(128, f.Feature.Length);
            Assert.InRange(Math.Sqrt(f.Feature.Sum(v => v * v)), 1 - 1e-6, 1 + 1e-6);
        });

        var predictions = File.ReadAllLines(run.Files["predictions"]).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(texts.Select(t => t.TextId), predictions.Select(p => p["text_id"]!.GetValue<long>()));
        var imageIds = imageFeatures.Select(f => f.Id).ToHashSet();
        Assert.All(predictions, p =>
        {
            var ids = p["image_ids"]!.AsArray().Select(n => n!.GetValue<long>()).ToList();
            Assert.Equal(10, ids.Distinct().Count());
            Assert.All(ids, id => Assert.Contains(id, imageIds));
        });
        var trPredictions = File.ReadAllLines(run.Files["tr_predictions"]).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(imageFeatures.Select(f => f.Id), trPredictions.Select(p => p["image_id"]!.GetValue<long>()));
        Assert.All(trPredictions, p => Assert.Equal(10, p["text_ids"]!.AsArray().Count));
        Assert.Equal(ImageCount, File.ReadAllLines(run.Files["tr_annotation"]).Length);

        // Independent check: RetrievalMetrics on the written features (each text has exactly one image here).
        var imageIndex = imageFeatures.Select((f, i) => (f.Id, i)).ToDictionary(p => p.Id, p => p.i);
        using var t = tensor(textFeatures.SelectMany(f => f.Feature).ToArray(), [textFeatures.Count, 128]);
        using var im = tensor(imageFeatures.SelectMany(f => f.Feature).ToArray(), [imageFeatures.Count, 128]);
        var metrics = RetrievalMetrics.FromFeatures(t, im, [.. texts.Select(x => imageIndex[x.ImageIds.Single()])]);
        Assert.Equal(metrics.TextToImage.HitsAt1, run.TextToImage.HitsAt1);
        Assert.Equal(metrics.TextToImage.HitsAt5, run.TextToImage.HitsAt5);
        Assert.Equal(metrics.TextToImage.HitsAt10, run.TextToImage.HitsAt10);
        Assert.Equal(metrics.ImageToText.HitsAt1, run.ImageToText.HitsAt1);
        Assert.Equal(metrics.ImageToText.HitsAt5, run.ImageToText.HitsAt5);
        Assert.Equal(metrics.ImageToText.HitsAt10, run.ImageToText.HitsAt10);
        Assert.Equal(metrics.TextToImage.FirstPositiveRanks, run.Retrieval.TextToImage.FirstPositiveRanks);

        var score = JsonNode.Parse(File.ReadAllText(run.Files["score"]))!;
        Assert.Equal(metrics.TextToImage.RecallAt10, score["scoreJson"]!["r10"]!.GetValue<double>(), 9);
        Assert.Equal(metrics.MeanRecall, run.Retrieval.MeanRecall, 9);
        Assert.Equal(run.TextToImage.ToJson(), File.ReadAllText(run.Files["score"]));
    }

    private static List<(long Id, float[] Feature)> ReadFeatures(string path, string key) =>
        [.. File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!).Select(n =>
            (n[key]!.GetValue<long>(), n["feature"]!.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray()))];
}
