using Tuwen.Data;
using Tuwen.Inference;
using static TorchSharp.torch;

namespace Tuwen.Evaluation;

/// <summary>
/// Zero-shot classification of an <see cref="ImageFolderDataset"/> through any <see cref="IEmbeddingRuntime"/>,
/// as Chinese-CLIP's zeroshot_evaluation does it (see <see cref="ZeroShotClassifier"/>): class weights from the
/// templates filled with each class name, images streamed in batches, top-1 / top-5 and per-class accuracy.
/// </summary>
public static class ImageFolderZeroShot
{
    public static ZeroShotResult Evaluate(IEmbeddingRuntime runtime, ImageFolderDataset data, IReadOnlyList<string> classNames,
        IReadOnlyList<string> templates, int batchSize = 64, Action<long, long, string>? progress = null)
    {
        if (data.Items.Count == 0) throw new TuwenException($"{data.Root}: no images");
        int dim = runtime.EmbedDim;
        using var classifier = ZeroShotClassifier.Create(classNames, templates,
            prompts => tensor(RuntimeFeatures.Texts(runtime, prompts, batchSize), [prompts.Count, dim]));

        var features = new float[(long)data.Items.Count * dim];
        int done = 0;
        foreach (var (tags, rows) in RuntimeFeatures.Images(runtime, Read(data), batchSize))
        {
            // The stream keeps the input order and fails on an undecodable image, so rows land in item order.
            rows.CopyTo(features.AsSpan(done * dim));
            done += tags.Count;
            progress?.Invoke(done, data.Items.Count, "images");
        }
        using var imageFeatures = tensor(features, [data.Items.Count, dim]);
        return classifier.Evaluate(imageFeatures, data.Items.Select(i => i.Label).ToArray());
    }

    private static IEnumerable<(string Tag, byte[] Bytes)> Read(ImageFolderDataset data)
    {
        foreach (var item in data.Items) yield return (item.Path, File.ReadAllBytes(item.Path));
    }
}
