using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Inference;
using Tuwen.Training;

namespace Tuwen.Cli.Commands;

/// <summary>
/// The runtime-based evaluation paths of `tuwen eval`: retrieval on a Chinese-CLIP dataset (writing its feature,
/// prediction and score files) and zero-shot over an image folder. Both score by global-feature cosine, as
/// Chinese-CLIP does.
/// </summary>
public static class EvalChineseClipCommand
{
    public static int Retrieval(string checkpointPath, string datasetDir, string split, string? outDir, bool asJson, string runtimeName, int batch,
        TorchSharp.torch.Device? device = null)
    {
        CliApp.ConfigureTorch();
        CliApp.RequireDirectory(datasetDir, "Chinese-CLIP dataset directory");
        if (outDir is null) throw new TuwenException("--cnclip writes Chinese-CLIP's prediction and score files: give --out DIR");
        using var runtime = EmbeddingRuntimes.Open(runtimeName, checkpointPath, device);
        var run = ProgressView.Run($"evaluating {split}", report =>
            ChineseClipRetrievalOutput.Run(runtime, datasetDir, split, outDir, batch, Throttled(report, batch)));
        var report = new EvaluationReport(ModelLabel(checkpointPath), run.Retrieval)
            { RetrievalDataset = $"{Path.GetFileName(Path.GetFullPath(datasetDir).TrimEnd('/'))} {split}" };
        report.WriteTo(outDir);
        Console.WriteLine(asJson ? report.ToJson() : report.ToMarkdown());
        Console.Error.WriteLine($"text→image score ({Path.GetFileName(run.Files["score"])}): {run.TextToImage.ToJson()}");
        Console.Error.WriteLine($"image→text score ({Path.GetFileName(run.Files["tr_score"])}): {run.ImageToText.ToJson()}");
        return 0;
    }

    public static int ZeroShot(string checkpointPath, string folder, string classesPath, IReadOnlyList<string> templates, int? perClass,
        string? outDir, bool asJson, string runtimeName, int batch, TorchSharp.torch.Device? device = null)
    {
        CliApp.ConfigureTorch();
        var classNames = ZeroShotPrompts.LoadClassNames(classesPath);
        var data = ImageFolderDataset.Open(folder, classNames);
        if (perClass is int n) data = data.Take(n);
        using var runtime = EmbeddingRuntimes.Open(runtimeName, checkpointPath, device);
        var result = ProgressView.Run("zero-shot", report =>
            ImageFolderZeroShot.Evaluate(runtime, data, classNames, templates, batch, (done, total, what) => report(done, total, what)));
        var report = new EvaluationReport(ModelLabel(checkpointPath), null, result)
            { ZeroShotDataset = $"{Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/'))} ({data.Layout})" };
        if (outDir != null) report.WriteTo(outDir);
        Console.WriteLine(asJson ? report.ToJson() : report.ToMarkdown());
        return 0;
    }

    /// <summary>Streams of unknown length report every batch; pass on about one report per 1,024 items for those.</summary>
    internal static Action<long, long, string> Throttled(Action<long, long, string> report, int batch) => (done, total, what) =>
    {
        if (total > 0 || done % 1024 < batch) report(done, total, what);
    };

    private static string ModelLabel(string checkpointPath)
    {
        try { return Path.GetFileName(Checkpoint.Resolve(checkpointPath)); }
        catch (TuwenException) { return Path.GetFileName(Path.GetFullPath(checkpointPath).TrimEnd('/')); }
    }
}
