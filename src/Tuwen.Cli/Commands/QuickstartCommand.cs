using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Tuwen.Corpus;
using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Training;

namespace Tuwen.Cli.Commands;

/// <summary>
/// `tuwen quickstart`: the whole loop on the embedded default data — build emoji-zh, train the tiny model,
/// evaluate it untrained and trained on the held-out drawing style (retrieval both ways, zero-shot into the
/// Chinese emoji groups), and write report.md, eval.json, plots and the checkpoint.
/// </summary>
public static class QuickstartCommand
{
    /// <summary>Queries for the picture grid, used when the validation captions contain them.</summary>
    private static readonly string[] GridQueries = ["红心", "猫脸", "披萨", "火箭", "笑哭了", "下雨", "足球", "国旗: 中国"];

    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "run directory (default $TUWEN_HOME/runs/quickstart-TIME)" };
        var set = new Option<string[]>("--set") { Description = "override recipe keys, e.g. --set steps=100" };
        var serve = new Option<bool>("--serve") { Description = "after training, index the validation images and serve search on http://127.0.0.1:8080" };
        var command = new Command("quickstart", "Build emoji-zh, train the tiny model, evaluate, report") { output, set, serve };
        command.SetAction((p, cancel) =>
        {
            var code = Run(p.GetValue(output), p.GetValue(set) ?? [], cancel);
            return code == 0 && p.GetValue(serve) ? ServeCommand.AfterQuickstart(LastServeLine!, cancel) : code;
        });
        return command;
    }

    /// <summary>The `tuwen index build … && tuwen serve …` line the last run printed (for --serve).</summary>
    public static string? LastServeLine { get; private set; }

    public static int Run(string? outDir, IReadOnlyList<string> overrides, CancellationToken cancel)
    {
        CliApp.ConfigureTorch();
        var clock = Stopwatch.StartNew();
        var runDir = Path.GetFullPath(outDir ?? Path.Combine(TuwenPaths.Home, "runs", $"quickstart-{DateTime.Now:yyyyMMdd-HHmmss}"));
        Directory.CreateDirectory(runDir);
        var recipe = TrainConfig.Load("quickstart").With(overrides);

        Console.Error.WriteLine("building emoji-zh …");
        var corpus = EmojiCorpusBuilder.Build(new EmojiZhCorpusOptions(), EmojiCorpusBuilder.DefaultDirectory, cancel: cancel);
        foreach (var line in corpus.ReportLines) Console.WriteLine(line);
        Console.WriteLine(corpus.Reused ? $"(reused {Path.GetDirectoryName(corpus.TrainDir)})" : $"(wrote {Path.GetDirectoryName(corpus.TrainDir)})");
        var corpusSeconds = clock.Elapsed.TotalSeconds;

        var imageSize = Models.ModelConfig.Load(recipe.Model).Vision.ImageSize;
        using var validation = EvalSet.Load(corpus.ValidationDir, ImageTransform.ForEval(imageSize));
        var zeroShot = new ZeroShotTask("emoji-zh groups", corpus.ZeroShotClasses, EvalCommand.LoadTemplates("emoji-zh"), "group");

        EvaluationReport? untrained = null;
        var options = new TrainingJobOptions { TrainData = corpus.TrainDir, RunDir = runDir, Recipe = recipe };
        var trainStart = clock.Elapsed.TotalSeconds;
        var (result, loaded) = TrainCommand.TrainWithProgress(options, cancel, before =>
        {
            // Same seed, same initial weights: the baseline the trained model is compared against.
            var evaluator = ModelEvaluator.For(before);
            untrained = evaluator.Evaluate("untrained", "emoji-zh val (facebook)", validation, zeroShot);
            before.Model.train();
            trainStart = clock.Elapsed.TotalSeconds;
        });
        var trainSeconds = clock.Elapsed.TotalSeconds - trainStart;
        using (loaded)
        {
            var evaluator = ModelEvaluator.For(loaded);
            using var features = evaluator.Encode(validation);
            var trained = evaluator.Evaluate("trained", "emoji-zh val (facebook)", validation, zeroShot, features);
            trained.WriteTo(runDir);
            untrained!.WriteTo(Path.Combine(runDir, "untrained"));
            var lossPng = Reports.WriteLossPlot(runDir);
            var gridPng = WriteGrid(runDir, corpus.ValidationDir, validation, features);
            var table = EvaluationReport.ComparisonMarkdown([untrained, trained]);
            var t2i = trained.Retrieval!.TextToImage.RecallAt10;
            var t2i0 = untrained.Retrieval!.TextToImage.RecallAt10;
            var summary = new StringBuilder()
                .AppendLine($"corpus: {corpusSeconds:F0} s, training: {result.State.Step} steps, {result.State.PairsSeen} pairs in {trainSeconds:F0} s " +
                            $"({result.PairsPerSecond:F0} pairs/s, {recipe.Precision}, waiting for data {100 * result.DataWaitFraction:F1} % of step time), " +
                            $"total {clock.Elapsed.TotalSeconds:F0} s")
                .AppendLine($"text→image R@10: trained {t2i:F2} % vs untrained {t2i0:F2} % ({(t2i0 > 0 ? t2i / t2i0 : double.PositiveInfinity):F1}×)")
                .AppendLine($"zero-shot into {zeroShot.ClassNames.Count} emoji groups, mean per-class top-1: trained {trained.ZeroShot!.MeanPerClassAccuracy:F2} % " +
                            $"vs untrained {untrained.ZeroShot!.MeanPerClassAccuracy:F2} % (plain top-1 rewards always answering the largest group, 人体)")
                .ToString();
            File.WriteAllText(Path.Combine(runDir, "report.md"), ReportMarkdown(corpus, recipe, table, summary, trained, validation));
            Console.WriteLine();
            Console.WriteLine(table);
            Console.Write(summary);
            Console.WriteLine();
            Console.WriteLine($"report:     {Path.Combine(runDir, "report.md")}");
            Console.WriteLine($"eval:       {Path.Combine(runDir, EvaluationReport.JsonFileName)}");
            if (lossPng != null) Console.WriteLine($"loss curve: {lossPng}");
            Console.WriteLine($"grid:       {gridPng}");
            Console.WriteLine($"checkpoint: {result.CheckpointDir}");
            LastServeLine = ServeCommand.QuickstartLine(result.CheckpointDir, corpus.ValidationDir, runDir);
            Console.WriteLine($"search:     {LastServeLine}");
            if (validation.CorruptImages > 0) Console.WriteLine($"skipped {validation.CorruptImages} corrupt validation images");
        }
        return result.Cancelled ? 130 : 0;
    }

    private static string WriteGrid(string runDir, string datasetDir, EvalSet set, ModelEvaluator.Features features)
    {
        var captions = set.Captions.ToList();
        var wanted = GridQueries.Select(q => captions.IndexOf(q)).Where(i => i >= 0).Take(6).ToList();
        if (wanted.Count < 4) wanted = Enumerable.Range(0, 6).Select(i => i * captions.Count / 6).ToList();
        var top = RetrievalMetrics.TopKImages(features.Texts, features.Images, wanted, 5);
        // The grid shows the original drawings, so read just those images back from the shards.
        var keys = top.SelectMany(t => t).Select(i => set.Keys[i]).ToHashSet();
        var bytes = ShardReader.Read(ShardReader.FindShards(datasetDir)).Where(s => keys.Contains(s.Key)).ToDictionary(s => s.Key, s => s.Image);
        var rows = RetrievalGrid.BuildRows(wanted.Select(i => captions[i]).ToList(), top,
            wanted.Select(i => set.CaptionImage[i]).ToList(), i => bytes[set.Keys[i]]);
        var png = Path.Combine(runDir, "retrieval-grid.png");
        RetrievalGrid.Render(rows, png);
        return png;
    }

    private static string ReportMarkdown(EmojiCorpusResult corpus, TrainConfig recipe, string table, string summary, EvaluationReport trained, EvalSet validation)
    {
        var md = new StringBuilder();
        md.AppendLine("# Tuwen quickstart").AppendLine();
        md.AppendLine("Model `" + recipe.Model + "` trained with `" + recipe.Objective + "` on emoji-zh (google + twitter drawings), " +
                      "evaluated on the facebook drawings it never saw.").AppendLine();
        md.AppendLine(table);
        md.AppendLine("```").Append(summary).AppendLine("```").AppendLine();
        md.AppendLine("## Corpus").AppendLine();
        foreach (var line in corpus.ReportLines) md.AppendLine("- " + line);
        md.AppendLine().AppendLine($"Validation: {validation.Count} images, {validation.Captions.Count} captions.").AppendLine();
        md.AppendLine(trained.ToMarkdown());
        md.AppendLine("![loss](loss.png)").AppendLine().AppendLine("![top-5 images for Chinese queries](retrieval-grid.png)");
        md.AppendLine().AppendLine("## Recipe").AppendLine().AppendLine("```json").AppendLine(recipe.ToJson()).AppendLine("```");
        return md.ToString();
    }
}
