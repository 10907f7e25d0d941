using Tuwen.Evaluation;
using static TorchSharp.torch;

namespace Tuwen.Tests.Evaluation;

public class ZeroShotClassifierTests
{
    private const double Tolerance = 1e-5;
    private static readonly string[] Classes = ["猫", "狗", "鸟"];
    private static readonly string[] Templates = ["一张{c}的照片。", "{}的画。"];

    // Prompt embeddings chosen by hand. 猫's first one is deliberately not unit length: the class weight must
    // average normalised vectors ((1,0,0)+(0,1,0))/2, not raw ones ((3,0,0)+(0,1,0))/2.
    private static readonly Dictionary<string, float[]> PromptEmbeddings = new()
    {
        ["一张猫的照片。"] = [3, 0, 0],
        ["猫的画。"] = [0, 1, 0],
        ["一张狗的照片。"] = [0, 0, 1],
        ["狗的画。"] = [0, 0, 1],
        ["一张鸟的照片。"] = [0, 1, 0],
        ["鸟的画。"] = [0, 0.6f, 0.8f],
    };

    private static Tensor EncodeByLookup(IReadOnlyList<string> prompts)
    {
        var data = prompts.SelectMany(p => PromptEmbeddings[p]).ToArray();
        return tensor(data).reshape(prompts.Count, 3);
    }

    private static float[] Row(Tensor matrix, int row)
    {
        using var selected = matrix[row];
        return selected.data<float>().ToArray();
    }

    [Fact]
    public void ClassWeights_AreRenormalisedMeansOfNormalisedPromptEmbeddings()
    {
        var seen = new List<string>();
        using var classifier = ZeroShotClassifier.Create(Classes, Templates, prompts =>
        {
            seen.AddRange(prompts);
            return EncodeByLookup(prompts);
        });

        Assert.Equal(["一张猫的照片。", "猫的画。", "一张狗的照片。", "狗的画。", "一张鸟的照片。", "鸟的画。"], seen);
        float r = (float)Math.Sqrt(0.5);
        AssertVector([r, r, 0], Row(classifier.ClassWeights, 0));
        AssertVector([0, 0, 1], Row(classifier.ClassWeights, 1));
        // ((0,1,0)+(0,0.6,0.8))/2 = (0,0.8,0.4), length √0.8 → (0, 2/√5, 1/√5).
        AssertVector([0, 2 / (float)Math.Sqrt(5), 1 / (float)Math.Sqrt(5)], Row(classifier.ClassWeights, 2));
    }

    [Fact]
    public void HandMadeThreeClassExample_GivesKnownAccuraciesAndLogits()
    {
        using var classifier = ZeroShotClassifier.Create(Classes, Templates, EncodeByLookup);
        using var images = tensor(new float[]
        {
            1, 0, 0,          // 猫 .707, 狗 0, 鸟 0          label 猫 → right
            0, 0, 1,          // 猫 0, 狗 1, 鸟 .447          label 狗 → right
            0, 1, 0,          // 猫 .707, 狗 0, 鸟 .894       label 鸟 → right
            0.6f, 0.8f, 0,    // 猫 .990, 狗 0, 鸟 .716       label 鸟 → wrong (2nd)
            0, 0.6f, 0.8f,    // 猫 .424, 狗 .8, 鸟 .894      label 猫 → wrong (3rd)
        }).reshape(5, 3);
        int[] labels = [0, 1, 2, 2, 0];

        var result = classifier.Evaluate(images, labels, chunkSize: 2);

        Assert.Equal(60.0, result.Top1Accuracy, Tolerance);
        Assert.Equal(3, result.TopK);                         // only 3 classes: "top-5" is top-3
        Assert.Equal(100.0, result.Top5Accuracy, Tolerance);
        Assert.Equal(new double?[] { 50.0, 100.0, 50.0 }, result.PerClassAccuracy);
        Assert.Equal(200.0 / 3, result.MeanPerClassAccuracy, Tolerance);
        Assert.Equal([2, 1, 2], result.ClassSamples);

        using var logits = classifier.Logits(images);
        AssertVector([140 / (float)Math.Sqrt(2), 0, 160 / (float)Math.Sqrt(5)], Row(logits, 3), 1e-3);      // 98.99, 0, 71.55
        AssertVector([60 / (float)Math.Sqrt(2), 80, 200 / (float)Math.Sqrt(5)], Row(logits, 4), 1e-3);     // 42.43, 80, 89.44
    }

    [Fact]
    public void TopFive_IsCountedWithSevenClasses()
    {
        using var weights = eye(7);
        using var classifier = new ZeroShotClassifier(["a", "b", "c", "d", "e", "f", "g"], weights);
        float[] descending = [0.7f, 0.6f, 0.5f, 0.4f, 0.3f, 0.2f, 0.1f];
        using var images = tensor(descending.Concat(descending).Concat(descending).ToArray()).reshape(3, 7);

        // Class 0 ranks 1st, class 4 ranks 5th, class 5 ranks 6th.
        var result = classifier.Evaluate(images, [0, 4, 5]);

        Assert.Equal(5, result.TopK);
        Assert.Equal(100.0 / 3, result.Top1Accuracy, Tolerance);
        Assert.Equal(200.0 / 3, result.Top5Accuracy, Tolerance);
        Assert.Equal(new double?[] { 100.0, null, null, null, 0.0, 0.0, null }, result.PerClassAccuracy);
    }

    [Fact]
    public void Ties_CountAsMisses()
    {
        using var weights = eye(3);
        using var classifier = new ZeroShotClassifier(["a", "b", "c"], weights);
        using var images = tensor(new float[] { 1, 1, 0, 1, 1, 0, 1, 0.5f, 0 }).reshape(3, 3);
        var result = classifier.Evaluate(images, [0, 1, 0]);
        Assert.Equal(1, result.HitsAt1); // only the untied third image
        Assert.Equal(3, result.HitsAtTopK);
    }

    [Fact]
    public void LoadsTheClipBenchmarkChineseTemplatesAndClassNames()
    {
        var templates = ZeroShotPrompts.LoadTemplates(SharedData.Path("clip-benchmark-cn", "cn_zeroshot_classification_templates.json"));
        Assert.Equal(80, templates.Count);
        Assert.Equal("{c}的照片。", templates[0]);
        Assert.Equal("质量差的金鱼的照片。", ZeroShotPrompts.Fill(templates[1], "金鱼"));

        var classes = ZeroShotPrompts.LoadClassNames(SharedData.Path("clip-benchmark-cn", "cn_classnames.json"), "imagenet1k");
        Assert.Equal(1000, classes.Count);
        Assert.Equal("金鱼", classes[1]);
    }

    [Fact]
    public void LoadsPlainTextTemplates_AndRejectsOnesWithoutPlaceholder()
    {
        var directory = Directory.CreateTempSubdirectory("tuwen-zeroshot-");
        try
        {
            var good = Path.Combine(directory.FullName, "templates.txt");
            File.WriteAllText(good, "一张{}的照片。\n\n  {c}的画。  \r\n");
            Assert.Equal(["一张{}的照片。", "{c}的画。"], ZeroShotPrompts.LoadTemplates(good));

            var bad = Path.Combine(directory.FullName, "bad.json");
            File.WriteAllText(bad, """{"x": ["{c}的照片。", "一张照片。"]}""");
            Assert.Throws<TuwenException>(() => ZeroShotPrompts.LoadTemplates(bad));
            Assert.Throws<TuwenException>(() => ZeroShotPrompts.LoadTemplates(Path.Combine(directory.FullName, "missing.txt")));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static void AssertVector(float[] expected, float[] actual, double tolerance = Tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], tolerance);
    }
}
