using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Inference;
using Tuwen.Models;
using Tuwen.Text;
using Tuwen.Training;

namespace Tuwen.Tests.Evaluation;

/// <summary>Zero-shot plumbing on the real ImageNet sample and a CIFAR-10 subset with a tiny untrained model.</summary>
public class ImageFolderZeroShotSharedDataTests
{
    internal static TorchEmbeddingRuntime TinyRuntime()
    {
        TorchSharp.torch.manual_seed(11);
        var vocab = Vocab.Load(SharedData.Path("chinese-clip", "vocab.txt"));
        var tiny = ModelConfig.Load("tiny");
        var model = new DualEncoder(tiny with { Text = tiny.Text with { VocabSize = vocab.Count } });
        return new TorchEmbeddingRuntime(new LoadedModel(model, new BertTokenizer(vocab), tiny.Text.ContextLength, null), ownsModel: true);
    }

    [Fact]
    public void ImageNet_sample_labels_come_from_its_index()
    {
        var classes = ZeroShotPrompts.LoadClassNames(SharedData.Path("chinese-clip", "imagenet_label_cn.txt"));
        Assert.Equal(1000, classes.Count);
        var data = ImageFolderDataset.Open(SharedData.Path("imagenet-sample-250"), classes);
        Assert.Equal("index.tsv", data.Layout);
        Assert.Equal(250, data.Items.Count);
        Assert.Equal(Enumerable.Range(0, 250).Select(i => i * 4), data.Items.Select(i => i.Label));
        Assert.EndsWith("n01440764_tench.JPEG", data.Items[0].Path);

        var templates = ZeroShotPrompts.LoadTemplates(SharedData.Path("clip-benchmark-cn", "cn_zeroshot_classification_templates.json"), "imagenet1k");
        using var runtime = TinyRuntime();
        // 40 images and 2 templates keep it quick; all 1,000 classes are still built and ranked.
        var subset = data.Items.Take(40).ToList();
        var result = ImageFolderZeroShot.Evaluate(runtime, data.First(40), classes, templates.Take(2).ToList());
        Assert.Equal(40, result.Samples);
        Assert.Equal(1000, result.ClassNames.Count);
        Assert.Equal(40, result.ClassSamples.Sum());
        Assert.All(subset, i => Assert.Equal(1, result.ClassSamples[i.Label]));
        Assert.InRange(result.Top5Accuracy, 0, 100);
    }

    [Fact]
    public void Cifar10_class_folders_follow_torchvision_order()
    {
        var classes = ZeroShotPrompts.LoadClassNames(SharedData.Path("cifar10-test-jpg", "label_cn.txt"));
        var data = ImageFolderDataset.Open(SharedData.Path("cifar10-test-jpg"), classes).Take(3);
        Assert.Equal("class-named folders (sorted)", data.Layout);
        Assert.Equal(30, data.Items.Count);
        var english = File.ReadAllLines(SharedData.Path("cifar10-test-jpg", "classes.txt")).Where(l => l.Length > 0).ToArray();
        // classes.txt is the standard label order; every image's folder must be the English name of its label.
        Assert.All(data.Items, i => Assert.Equal(english[i.Label], Path.GetFileName(Path.GetDirectoryName(i.Path))));

        using var runtime = TinyRuntime();
        var result = ImageFolderZeroShot.Evaluate(runtime, data, classes, ["一张{c}的照片。"]);
        Assert.Equal(30, result.Samples);
        Assert.Equal(Enumerable.Repeat(3, 10), result.ClassSamples);
        Assert.Equal(5, result.TopK);
    }
}
