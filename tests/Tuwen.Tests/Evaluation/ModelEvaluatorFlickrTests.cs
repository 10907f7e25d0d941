using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Models;
using Tuwen.Text;
using static TorchSharp.torch;

namespace Tuwen.Tests.Evaluation;

/// <summary>
/// The evaluator on the real Flickr8K-CN validation set through the product's own path: shards written by
/// ShardWriter, images decoded by EvalSet, captions tokenized with Chinese-CLIP's vocab, features from a
/// (untrained) dual encoder. An untrained model's numbers are near chance; what is checked is that 1,000
/// images × 5 Chinese captions go through end to end and that the counts and chance level come out right.
/// </summary>
public class ModelEvaluatorFlickrTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void UntrainedTinyModelOnFlickr8kCnValidation()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"flickr-eval-{Guid.NewGuid():N}");
        try
        {
            var flickr = Flickr8kCnVal.Instance;
            Assert.Equal(1000, flickr.ImageIds.Length);
            using (var writer = new ShardWriter(dir, "flickr8k-cn-val"))
                for (var i = 0; i < flickr.ImageIds.Length; i++)
                {
                    var captions = flickr.Captions.Where((_, c) => flickr.CaptionToImage[c] == i).ToList();
                    writer.Write(Sample.Create(flickr.ImageIds[i].Replace('.', '_'), File.ReadAllBytes(Flickr8kCnVal.ImagePath(flickr.ImageIds[i])),
                        "jpg", captions, new JsonObject()));
                }

            var vocab = Vocab.Load(SharedData.Path("chinese-clip", "vocab.txt"));
            var tokenizer = new BertTokenizer(vocab);
            var config = ModelConfig.Load("tiny");
            manual_seed(3);
            using var model = new DualEncoder(config with { Text = config.Text with { VocabSize = vocab.Count, ContextLength = 52, MaxPositions = 64 } });
            using var set = EvalSet.Load(dir, ImageTransform.ForEval(config.Vision.ImageSize));
            Assert.Equal(1000, set.Count);
            Assert.Equal(5000, set.Captions.Count);
            var evaluator = new ModelEvaluator(model, t => tokenizer.Encode(t, 52), 52, ScalarType.BFloat16);
            var report = evaluator.Evaluate("untrained tiny", "flickr8k-cn val", set, zeroShot: null);
            var r = report.Retrieval!;
            Assert.Equal(5000, r.TextToImage.Queries);
            Assert.Equal(1000, r.ImageToText.Queries);
            // Chance: a text's R@10 is 10/1000 = 1 %; an image with 5 positives among 5,000 ≈ 1 % too.
            Assert.InRange(r.TextToImage.RecallAt10, 0, 5);
            Assert.InRange(r.ImageToText.RecallAt10, 0, 5);
            Assert.True(r.TextToImage.RecallAt1 <= r.TextToImage.RecallAt5 && r.TextToImage.RecallAt5 <= r.TextToImage.RecallAt10);
            Assert.Contains("| text→image |", report.ToMarkdown());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
