using Tuwen.Evaluation;

namespace Tuwen.Tests.Evaluation;

/// <summary>
/// Chinese-CLIP's prediction and score files on a crafted case whose ranks are worked out by hand. Twelve
/// images with one-hot features e_0 … e_11, so a text's score for image i is simply its i-th component.
/// </summary>
public class ChineseClipOutputTests
{
    private const int Images = 12;

    private static float[] Text(params (int Image, float Score)[] scores)
    {
        var row = new float[Images];
        foreach (var (image, score) in scores) row[image] = score;
        return row;
    }

    // text 100: image 0 alone scores → rank 1.
    // text 101: images 7 (0.9), 5 (0.8), then its positive 3 (0.5) → rank 3.
    // text 102: positives 2 and 11; 0,1,3,4,5,6 score 0.9…0.4, 11 scores 0.3 (rank 7), 7 0.2, 2 0.1 (rank 9) → best rank 7.
    // text 103: no ground-truth image (Chinese-CLIP's scripts still count it: always a miss).
    // text 104: image 4 alone → rank 1.
    // text 105: all scores equal (0); Python's stable sort keeps file order, so positive 9 is 10th → rank 10.
    private static readonly (long Id, long[] Truth, float[] Feature)[] Texts =
    [
        (100, [0], Text((0, 1f))),
        (101, [3], Text((7, 0.9f), (5, 0.8f), (3, 0.5f))),
        (102, [2, 11], Text((0, 0.9f), (1, 0.8f), (3, 0.7f), (4, 0.6f), (5, 0.5f), (6, 0.4f), (11, 0.3f), (7, 0.2f), (2, 0.1f))),
        (103, [], Text((8, 1f))),
        (104, [4], Text((4, 1f))),
        (105, [9], Text()),
    ];

    private static float[] ImageFeatures()
    {
        var features = new float[Images * Images];
        for (int i = 0; i < Images; i++) features[i * Images + i] = 1f;
        return features;
    }

    private static long[] ImageIds => [.. Enumerable.Range(0, Images).Select(i => 1000L + i)];

    private static RankedQueries RankTexts() => ChineseClipPredictionOutput.Rank(
        [.. Texts.SelectMany(t => t.Feature)], [.. Texts.Select(t => t.Id)], ImageFeatures(), ImageIds,
        [.. Texts.Select(t => (IReadOnlyCollection<long>)t.Truth.Select(i => 1000L + i).ToArray())], Images);

    [Fact]
    public void Ranks_and_top10_lists_follow_the_scores_with_file_order_for_ties()
    {
        var ranked = RankTexts();
        Assert.Equal([1, 3, 7, Images + 1, 1, 10], ranked.FirstPositiveRanks);
        Assert.Equal([1007L, 1005, 1003, 1000, 1001, 1002, 1004, 1006, 1008, 1009], ranked.TopIds[1]);
        Assert.Equal([1000L, 1001, 1003, 1004, 1005, 1006, 1011, 1007, 1002, 1008], ranked.TopIds[2]);
        Assert.Equal([.. Enumerable.Range(0, 10).Select(i => 1000L + i)], ranked.TopIds[5]);
    }

    [Fact]
    public void Score_counts_a_hit_when_any_ground_truth_image_is_in_the_top_k()
    {
        var ranked = RankTexts();
        var score = ChineseClipScore.Compute(
            [.. Texts.Select(t => KeyValuePair.Create(t.Id, (IReadOnlyList<long>)t.Truth.Select(i => 1000L + i).ToArray()))],
            ranked.QueryIds.Zip(ranked.TopIds).ToDictionary(p => p.First, p => p.Second));
        // By hand: hits@1 = {100, 104}, @5 adds 101, @10 adds 102 and 105; 103 never hits. Six queries.
        Assert.Equal(new ChineseClipScore(6, 2, 3, 5), score);
        Assert.Equal(2.0 / 6, score.R1);
        Assert.Equal((2.0 / 6 + 3.0 / 6 + 5.0 / 6) / 3.0, score.MeanRecall);
        // What Chinese-CLIP's evaluation.py wrote for the predictions file of this case (run once by hand with
        // upstream 31863c7: `python3 cn_clip/eval/evaluation.py texts.jsonl predictions.jsonl out.json`; see
        // bench/cnclip-interop/evaluation-output-check.md).
        Assert.Equal(
            "{\"success\": true, \"score\": 55.55555555555555, \"scoreJson\": {\"score\": 55.55555555555555, \"mean_recall\": 55.55555555555555, "
            + "\"r1\": 33.33333333333333, \"r5\": 50.0, \"r10\": 83.33333333333334}}",
            score.ToJson());
    }

    [Fact]
    public void Prediction_lines_have_the_upstream_shape()
    {
        var writer = new StringWriter();
        ChineseClipPredictionOutput.Write(writer, RankTexts(), "text_id", "image_ids");
        var lines = writer.ToString().Split('\n');
        Assert.Equal(7, lines.Length);   // six lines and the empty rest after the final "\n"
        Assert.Equal("{\"text_id\": 100, \"image_ids\": [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]}", lines[0]);
        Assert.Equal("", lines[6]);
    }

    [Fact]
    public void A_query_missing_from_the_predictions_is_refused()
    {
        var e = Assert.Throws<TuwenException>(() => ChineseClipScore.Compute(
            [KeyValuePair.Create(1L, (IReadOnlyList<long>)[5L])], new Dictionary<long, long[]>()));
        Assert.Contains("query 1 has no prediction", e.Message);
    }

    [Fact]
    public void Top_indices_keep_the_first_of_equal_scores()
    {
        Assert.Equal([2, 0, 1], ChineseClipPredictionOutput.TopIndices([0.5f, 0.5f, 0.9f, 0.5f], 3));
        Assert.Equal([3, 1], ChineseClipPredictionOutput.TopIndices([0.1f, 0.2f, 0.1f, 0.3f], 2));
    }

    [Theory]
    // Each expected string is what CPython 3 prints for repr() of the same double.
    [InlineData(100.0, "100.0")]
    [InlineData(0.0, "0.0")]
    [InlineData(1.0 / 3 * 100, "33.33333333333333")]
    [InlineData(2.0 / 3 * 100, "66.66666666666666")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(1e-4, "0.0001")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(123456.789, "123456.789")]
    public void Floats_print_as_python_repr(double value, string expected) =>
        Assert.Equal(expected, ChineseClipOutputFormat.Float(value));

    [Fact]
    public void Float32_features_print_as_python_prints_tolist_values()
    {
        Assert.Equal("0.10000000149011612", ChineseClipOutputFormat.Float(0.1f));
        Assert.Equal("-1.234567861274627e-07", ChineseClipOutputFormat.Float(-1.2345678e-7f));
    }
}
