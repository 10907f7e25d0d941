using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Tests.Data;
using Tuwen.Tests.Inference;

namespace Tuwen.Tests.Evaluation;

/// <summary>
/// Image-folder zero-shot plumbing with <see cref="ColourRuntime"/>, whose right answers are known: a red image
/// is class 红 whatever the folder says, so the folder's label decides hit or miss, and the counts are exact.
/// </summary>
public class ImageFolderZeroShotTests
{
    private static readonly string[] Classes = ["红", "绿", "蓝"];
    private static readonly string[] Templates = ["{c}色的照片", "一张{c}的照片"];

    private static void Image(TempDirectory dir, string folder, string name, byte r, byte g, byte b)
    {
        Directory.CreateDirectory(dir.Combine(folder));
        File.WriteAllBytes(dir.Combine(folder, name), ColourRuntime.SolidPng(r, g, b));
    }

    [Fact]
    public void Numbered_folders_give_the_class_index_and_a_misfiled_image_counts_as_a_miss()
    {
        using var dir = new TempDirectory();
        Image(dir, "test/000", "a.png", 250, 10, 10);
        Image(dir, "test/000", "b.png", 200, 0, 30);
        Image(dir, "test/001", "a.png", 0, 220, 0);
        Image(dir, "test/002", "a.png", 0, 0, 255);
        Image(dir, "test/002", "b.png", 240, 0, 0);   // red, filed as blue: must miss at top-1
        var data = ImageFolderDataset.Open(dir.Path, Classes);
        Assert.Equal("numbered folders", data.Layout);
        Assert.Equal([0, 0, 1, 2, 2], data.Items.Select(i => i.Label));

        using var runtime = new ColourRuntime();
        var result = ImageFolderZeroShot.Evaluate(runtime, data, Classes, Templates, batchSize: 2);
        Assert.Equal(5, result.Samples);
        Assert.Equal(4, result.HitsAt1);
        Assert.Equal(3, result.TopK);
        Assert.Equal(5, result.HitsAtTopK);
        Assert.Equal([2, 1, 2], result.ClassSamples);
        Assert.Equal([2, 1, 1], result.ClassHitsAt1);
        Assert.Equal(80.0, result.Top1Accuracy);
        Assert.Equal(3, runtime.ImageCalls);   // batches of 2, 2, 1
    }

    [Fact]
    public void Class_named_folders_map_by_name_when_the_names_are_classes_else_by_sorted_position()
    {
        using var dir = new TempDirectory();
        Image(dir, "蓝", "x.png", 0, 0, 255);
        Image(dir, "红", "x.png", 255, 0, 0);
        var byName = ImageFolderDataset.Open(dir.Path, Classes);
        Assert.Equal("class-named folders (by name)", byName.Layout);
        // Ordinal order: 红 (U+7EA2) before 蓝 (U+84DD).
        Assert.Equal([0, 2], byName.Items.Select(i => i.Label));
        using var runtime = new ColourRuntime();
        Assert.Equal(2, ImageFolderZeroShot.Evaluate(runtime, byName, Classes, Templates).HitsAt1);

        using var english = new TempDirectory();
        Image(english, "blue", "x.png", 0, 0, 255);
        Image(english, "green", "x.png", 0, 255, 0);
        Image(english, "red", "x.png", 255, 0, 0);
        // torchvision order blue, green, red = classes 0, 1, 2 of a file listing 蓝 绿 红.
        var sorted = ImageFolderDataset.Open(english.Path, ["蓝", "绿", "红"]);
        Assert.Equal("class-named folders (sorted)", sorted.Layout);
        Assert.Equal(3, ImageFolderZeroShot.Evaluate(runtime, sorted, ["蓝", "绿", "红"], Templates).HitsAt1);
    }

    [Fact]
    public void Bad_layouts_give_clear_errors()
    {
        using var dir = new TempDirectory();
        Assert.Contains("no class folders", Assert.Throws<TuwenException>(() => ImageFolderDataset.Open(dir.Path, Classes)).Message);
        Assert.Contains("not found", Assert.Throws<TuwenException>(() => ImageFolderDataset.Open(dir.Combine("missing"), Classes)).Message);

        Image(dir, "test/007", "a.png", 1, 2, 3);
        Assert.Contains("class 7 but the class-name file has only 3",
            Assert.Throws<TuwenException>(() => ImageFolderDataset.Open(dir.Path, Classes)).Message);

        using var named = new TempDirectory();
        Image(named, "cat", "a.png", 1, 2, 3);
        Assert.Contains("1 class folders but 3 class names", Assert.Throws<TuwenException>(() => ImageFolderDataset.Open(named.Path, Classes)).Message);

        using var indexed = new TempDirectory();
        File.WriteAllText(indexed.Combine("index.tsv"), "file\tclass_index\nmissing.jpg\t1\n");
        Assert.Contains("image not found", Assert.Throws<TuwenException>(() => ImageFolderDataset.Open(indexed.Path, Classes)).Message);
        File.WriteAllText(indexed.Combine("index.tsv"), "name\tlabel\n");
        Assert.Contains("'file' and 'class_index'", Assert.Throws<TuwenException>(() => ImageFolderDataset.Open(indexed.Path, Classes)).Message);
    }

    [Fact]
    public void A_corrupt_image_names_its_file()
    {
        using var dir = new TempDirectory();
        Image(dir, "000", "a.png", 255, 0, 0);
        File.WriteAllBytes(dir.Combine("000", "broken.png"), [1, 2, 3]);
        using var runtime = new ColourRuntime();
        var e = Assert.Throws<TuwenException>(() => ImageFolderZeroShot.Evaluate(runtime, ImageFolderDataset.Open(dir.Path, Classes), Classes, Templates));
        Assert.Contains("broken.png", e.Message);
    }
}
