using System.Text;
using Tuwen.Data;
using Tuwen.Inference;
using Tuwen.Interop.ChineseClip;

namespace Tuwen.Evaluation;

/// <summary>What <see cref="ChineseClipRetrievalOutput.Run"/> computed and where it wrote it.</summary>
public sealed record ChineseClipRetrievalRun(
    ChineseClipScore TextToImage,
    ChineseClipScore ImageToText,
    RetrievalResult Retrieval,
    IReadOnlyDictionary<string, string> Files);

/// <summary>
/// Evaluates a model on a Chinese-CLIP dataset split (<c>{split}_imgs.tsv</c> + <c>{split}_texts.jsonl</c>) and
/// writes what Chinese-CLIP's own evaluation chain writes, under the names its README uses:
/// <list type="bullet">
/// <item><c>{split}_imgs.img_feat.jsonl</c> / <c>{split}_texts.txt_feat.jsonl</c>: {"image_id"|"text_id": id, "feature": [L2-normalised floats]} (extract_features.py)</item>
/// <item><c>{split}_predictions.jsonl</c>: {"text_id", "image_ids": top 10} (make_topk_predictions.py)</item>
/// <item><c>{split}_texts.tr.jsonl</c>: {"image_id", "text_ids"} ground truth (transform_ir_annotation_to_tr.py)</item>
/// <item><c>{split}_tr_predictions.jsonl</c>: {"image_id", "text_ids": top 10} (make_topk_predictions_tr.py)</item>
/// <item><c>{split}_score.json</c> / <c>{split}_tr_score.json</c>: the score files of evaluation.py / evaluation_tr.py</item>
/// </list>
/// Every file is written under a .tmp name and renamed when complete.
/// </summary>
public static class ChineseClipRetrievalOutput
{
    public static ChineseClipRetrievalRun Run(IEmbeddingRuntime runtime, string datasetDir, string split, string outDir, int batchSize = 64,
        Action<long, long, string>? progress = null)
    {
        var texts = ChineseClipDataset.ReadTexts(ChineseClipDataset.TextsPath(datasetDir, split)).ToList();
        if (texts.Count == 0) throw new TuwenException($"{ChineseClipDataset.TextsPath(datasetDir, split)} has no texts");
        var imagesPath = ChineseClipDataset.ImagesPath(datasetDir, split);
        int dim = runtime.EmbedDim;

        var imageIds = new List<long>();
        var imageFeatures = new List<float[]>();
        var seen = new HashSet<long>();
        foreach (var (ids, features) in RuntimeFeatures.Images(runtime, ChineseClipDataset.ReadImages(imagesPath), batchSize))
        {
            imageIds.AddRange(ids);
            imageFeatures.Add(features);
            progress?.Invoke(imageIds.Count, 0, "images");
        }
        if (imageIds.Count == 0) throw new TuwenException($"{imagesPath} has no images");
        seen.UnionWith(imageIds);
        var dangling = texts.SelectMany(t => t.ImageIds.Where(id => !seen.Contains(id)).Select(id => $"{t.Source}: text {t.TextId} names image {id}")).ToList();
        if (dangling.Count > 0)
            throw new TuwenException($"{dangling.Count} text→image reference(s) name images missing from {imagesPath}: {string.Join("; ", dangling.Take(5))}");
        var imageMatrix = Concat(imageFeatures, imageIds.Count * dim);

        var textMatrix = RuntimeFeatures.Texts(runtime, texts.Select(t => t.Text).ToList(), batchSize,
            done => progress?.Invoke(done, texts.Count, "texts"));
        var textIds = texts.Select(t => t.TextId).ToList();

        // transform_ir_annotation_to_tr: image → its texts, images in order of first mention, no de-duplication.
        var imageToTexts = new Dictionary<long, List<long>>();
        var imageOrder = new List<long>();
        foreach (var text in texts)
            foreach (var imageId in text.ImageIds)
            {
                if (!imageToTexts.TryGetValue(imageId, out var list))
                {
                    imageToTexts[imageId] = list = [];
                    imageOrder.Add(imageId);
                }
                list.Add(text.TextId);
            }

        var t2i = ChineseClipPredictionOutput.Rank(textMatrix, textIds, imageMatrix, imageIds, texts.Select(t => (IReadOnlyCollection<long>)t.ImageIds).ToList(), dim);
        var i2t = ChineseClipPredictionOutput.Rank(imageMatrix, imageIds, textMatrix, textIds,
            imageIds.Select(id => imageToTexts.TryGetValue(id, out var l) ? (IReadOnlyCollection<long>)l : []).ToList(), dim);

        Directory.CreateDirectory(outDir);
        var files = new Dictionary<string, string>
        {
            ["image_features"] = Path.Combine(outDir, $"{split}_imgs.img_feat.jsonl"),
            ["text_features"] = Path.Combine(outDir, $"{split}_texts.txt_feat.jsonl"),
            ["predictions"] = Path.Combine(outDir, $"{split}_predictions.jsonl"),
            ["tr_annotation"] = Path.Combine(outDir, $"{split}_texts.tr.jsonl"),
            ["tr_predictions"] = Path.Combine(outDir, $"{split}_tr_predictions.jsonl"),
            ["score"] = Path.Combine(outDir, $"{split}_score.json"),
            ["tr_score"] = Path.Combine(outDir, $"{split}_tr_score.json"),
        };
        AtomicFile.WriteText(files["image_features"], w => WriteFeatures(w, "image_id", imageIds, imageMatrix, dim));
        AtomicFile.WriteText(files["text_features"], w => WriteFeatures(w, "text_id", textIds, textMatrix, dim));
        AtomicFile.WriteText(files["predictions"], w => ChineseClipPredictionOutput.Write(w, t2i, "text_id", "image_ids"));
        AtomicFile.WriteText(files["tr_annotation"], w =>
        {
            foreach (var imageId in imageOrder)
                w.Write($"{{\"image_id\": {imageId}, \"text_ids\": {ChineseClipOutputFormat.IntegerList(imageToTexts[imageId])}}}\n");
        });
        AtomicFile.WriteText(files["tr_predictions"], w => ChineseClipPredictionOutput.Write(w, i2t, "image_id", "text_ids"));

        var textScore = ChineseClipScore.Compute(
            texts.Select(t => KeyValuePair.Create(t.TextId, (IReadOnlyList<long>)t.ImageIds)).ToList(), ToDictionary(t2i));
        var imageScore = ChineseClipScore.Compute(
            imageOrder.Select(id => KeyValuePair.Create(id, (IReadOnlyList<long>)imageToTexts[id])).ToList(), ToDictionary(i2t));
        AtomicFile.WriteText(files["score"], w => w.Write(textScore.ToJson()));
        AtomicFile.WriteText(files["tr_score"], w => w.Write(imageScore.ToJson()));

        // eval.json counts the same queries as the score files: every text; every image some text names.
        var imageIndex = imageIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        var retrieval = new RetrievalResult(
            RetrievalDirectionResult.FromRanks([.. t2i.FirstPositiveRanks]),
            RetrievalDirectionResult.FromRanks([.. imageOrder.Select(id => i2t.FirstPositiveRanks[imageIndex[id]])]));
        return new ChineseClipRetrievalRun(textScore, imageScore, retrieval, files);
    }

    private static Dictionary<long, long[]> ToDictionary(RankedQueries ranked)
    {
        var result = new Dictionary<long, long[]>();
        for (int i = 0; i < ranked.QueryIds.Count; i++) result[ranked.QueryIds[i]] = ranked.TopIds[i];
        return result;
    }

    private static float[] Concat(List<float[]> parts, int length)
    {
        var all = new float[length];
        int at = 0;
        foreach (var part in parts)
        {
            part.CopyTo(all, at);
            at += part.Length;
        }
        return all;
    }

    private static void WriteFeatures(TextWriter writer, string idKey, IReadOnlyList<long> ids, float[] features, int dim)
    {
        var line = new StringBuilder();
        for (int i = 0; i < ids.Count; i++)
        {
            line.Clear().Append("{\"").Append(idKey).Append("\": ").Append(ids[i]).Append(", \"feature\": ");
            ChineseClipOutputFormat.AppendFloatList(line, features.AsSpan(i * dim, dim));
            line.Append("}\n");
            writer.Write(line);
        }
    }
}
