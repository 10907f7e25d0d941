using Tuwen.Evaluation;
using Tuwen.Tests.Data;
using Tuwen.Tests.Inference;

namespace Tuwen.Tests.Evaluation;

/// <summary>
/// <see cref="ChineseClipRetrievalOutput"/> end to end on a hand-made Chinese-CLIP split scored by
/// <see cref="ColourRuntime"/> (image = one-hot of its colour, text = one-hot of the colour it names), so every
/// score, tie and file line is known in advance. Texts name several images, one names none.
/// </summary>
public class ChineseClipRetrievalOutputTests
{
    [Fact]
    public void Writes_every_file_with_hand_computed_contents()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "valid_imgs.tsv"), string.Join("\n",
            Line(11, 255, 0, 0), Line(12, 0, 255, 0), Line(13, 0, 0, 255), Line(14, 250, 5, 5)) + "\n");
        File.WriteAllText(Path.Combine(data, "valid_texts.jsonl"), string.Join("\n",
            "{\"text_id\": 1, \"text\": \"红色的照片\", \"image_ids\": [11, 14]}",
            "{\"text_id\": 2, \"text\": \"绿色\", \"image_ids\": [12]}",
            "{\"text_id\": 3, \"text\": \"蓝\", \"image_ids\": [13, 11]}",
            "{\"text_id\": 4, \"text\": \"一张照片\", \"image_ids\": [14]}",
            "{\"text_id\": 5, \"text\": \"红\", \"image_ids\": []}") + "\n");

        using var runtime = new ColourRuntime();
        var run = ChineseClipRetrievalOutput.Run(runtime, data, "valid", dir.Combine("out"), batchSize: 3);

        // Text 4 names no colour: a zero feature, every image ties at 0 and file order puts its image 14 fourth.
        Assert.Equal([
            "{\"text_id\": 1, \"image_ids\": [11, 14, 12, 13]}",
            "{\"text_id\": 2, \"image_ids\": [12, 11, 13, 14]}",
            "{\"text_id\": 3, \"image_ids\": [13, 11, 12, 14]}",
            "{\"text_id\": 4, \"image_ids\": [11, 12, 13, 14]}",
            "{\"text_id\": 5, \"image_ids\": [11, 14, 12, 13]}"], File.ReadAllLines(run.Files["predictions"]));
        // transform_ir_annotation_to_tr: images in order of first mention (11, 14 from text 1, then 12, then 13).
        Assert.Equal([
            "{\"image_id\": 11, \"text_ids\": [1, 3]}",
            "{\"image_id\": 14, \"text_ids\": [1, 4]}",
            "{\"image_id\": 12, \"text_ids\": [2]}",
            "{\"image_id\": 13, \"text_ids\": [3]}"], File.ReadAllLines(run.Files["tr_annotation"]));
        Assert.Equal("{\"image_id\": 11, \"text_ids\": [1, 5, 2, 3, 4]}", File.ReadLines(run.Files["tr_predictions"]).First());
        Assert.Equal("{\"image_id\": 12, \"feature\": [0.0, 1.0, 0.0]}", File.ReadAllLines(run.Files["image_features"])[1]);
        Assert.Equal("{\"text_id\": 4, \"feature\": [0.0, 0.0, 0.0]}", File.ReadAllLines(run.Files["text_features"])[3]);

        // Texts 1–3 hit at 1, text 4 at rank 4, text 5 (no image) never: 3/5, 4/5, 4/5. Python prints
        // (0.6 + 0.8 + 0.8) / 3.0 * 100 as 73.33333333333334 (checked with /usr/bin/python3).
        Assert.Equal(new ChineseClipScore(5, 3, 4, 4), run.TextToImage);
        Assert.Equal("{\"success\": true, \"score\": 73.33333333333334, \"scoreJson\": {\"score\": 73.33333333333334, "
            + "\"mean_recall\": 73.33333333333334, \"r1\": 60.0, \"r5\": 80.0, \"r10\": 80.0}}", File.ReadAllText(run.Files["score"]));
        Assert.Equal(new ChineseClipScore(4, 4, 4, 4), run.ImageToText);
        Assert.Equal("{\"success\": true, \"score\": 100.0, \"scoreJson\": {\"score\": 100.0, \"mean_recall\": 100.0, "
            + "\"r1\": 100.0, \"r5\": 100.0, \"r10\": 100.0}}", File.ReadAllText(run.Files["tr_score"]));

        Assert.Equal([1, 1, 1, 4, 5], run.Retrieval.TextToImage.FirstPositiveRanks);
        Assert.Equal([1, 1, 1, 1], run.Retrieval.ImageToText.FirstPositiveRanks);
        Assert.Empty(Directory.GetFiles(dir.Combine("out"), "*.tmp"));
    }

    [Fact]
    public void A_text_naming_a_missing_image_is_refused()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("valid_imgs.tsv"), Line(1, 255, 0, 0) + "\n");
        File.WriteAllText(dir.Combine("valid_texts.jsonl"), "{\"text_id\": 7, \"text\": \"红\", \"image_ids\": [2]}\n");
        using var runtime = new ColourRuntime();
        var e = Assert.Throws<TuwenException>(() => ChineseClipRetrievalOutput.Run(runtime, dir.Path, "valid", dir.Combine("out")));
        Assert.Contains("text 7 names image 2", e.Message);
        Assert.False(Directory.Exists(dir.Combine("out")));
    }

    private static string Line(long id, byte r, byte g, byte b) => $"{id}\t{Convert.ToBase64String(ColourRuntime.SolidPng(r, g, b))}";
}
