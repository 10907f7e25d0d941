using System.CommandLine;
using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Training;

namespace Tuwen.Cli.Commands;

/// <summary>`tuwen eval retrieval|zeroshot`: a checkpoint against a dataset of shards.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "checkpoint or run directory", Required = true };
        var data = new Option<string?>("--data") { Description = "evaluation shards (dataset directory or .tar)" };
        var cnclip = new Option<string?>("--cnclip") { Description = "Chinese-CLIP dataset directory ({split}_imgs.tsv + {split}_texts.jsonl): writes its feature, prediction and score files too" };
        var split = new Option<string>("--split") { Description = "Chinese-CLIP split name (with --cnclip)", DefaultValueFactory = _ => "valid" };
        var imageFolder = new Option<string?>("--image-folder") { Description = "zero-shot over an image folder: test/000/*.jpg (class = number), class-named folders, or index.tsv" };
        var perClass = new Option<int?>("--per-class") { Description = "with --image-folder: only the first N images of each class" };
        var batch = new Option<int>("--batch") { Description = "images/texts per forward pass (Chinese-CLIP and image-folder paths)", DefaultValueFactory = _ => 64 };
        var runtime = new Option<string>("--runtime") { Description = "embedding runtime for the Chinese-CLIP and image-folder paths (torch, onnx)", DefaultValueFactory = _ => "torch" };
        var output = new Option<string?>("--out") { Description = "directory for eval.json and eval.md (default: print only)" };
        var json = new Option<bool>("--json") { Description = "print eval.json to stdout instead of the Markdown table" };
        var scoring = new Option<string>("--scoring")
        {
            Description = "auto: score pairs as the checkpoint's objective does (token-wise for filip, cross-encoder re-ranking for r2d2); cosine: global-feature cosine",
            DefaultValueFactory = _ => "auto",
        };
        scoring.AcceptOnlyFromAmong("auto", "cosine");
        var device = new Option<string>("--device") { Description = Models.DeviceOption.Help, DefaultValueFactory = _ => "cpu" };

        var retrieval = new Command("retrieval", "Text→image and image→text recall@1/5/10, mean recall, mean/median rank")
            { checkpoint, data, cnclip, split, output, json, scoring, batch, runtime, device };
        retrieval.SetAction((p, _) => p.GetValue(cnclip) is { } cnclipDir
            ? EvalChineseClipCommand.Retrieval(p.GetValue(checkpoint)!, OnlyOne(p.GetValue(data), "--data", "--cnclip", cnclipDir), p.GetValue(split)!,
                p.GetValue(output), p.GetValue(json), p.GetValue(runtime)!, p.GetValue(batch), Models.DeviceOption.Parse(p.GetValue(device)))
            : Evaluate(p.GetValue(checkpoint)!, RequireData(p.GetValue(data), "--cnclip"), p.GetValue(output), p.GetValue(json), null, p.GetValue(scoring) == "cosine",
                Models.DeviceOption.Parse(p.GetValue(device))));

        var templates = new Option<string>("--templates") { Description = "prompt templates: CLIP_benchmark JSON or one per line, with {c}", DefaultValueFactory = _ => "emoji-zh" };
        var classes = new Option<string?>("--classes") { Description = "class names file (default: the dataset's zero_shot_classes in stats.json)" };
        var labelKey = new Option<string>("--label-key") { Description = "metadata key holding each image's class name", DefaultValueFactory = _ => "group" };
        var zeroshot = new Command("zeroshot", "Zero-shot classification top-1/top-5 with a template ensemble")
            { checkpoint, data, imageFolder, perClass, output, json, scoring, templates, classes, labelKey, batch, runtime, device };
        zeroshot.SetAction((p, _) =>
        {
            if (p.GetValue(imageFolder) is { } folder)
                return EvalChineseClipCommand.ZeroShot(p.GetValue(checkpoint)!, OnlyOne(p.GetValue(data), "--data", "--image-folder", folder),
                    CliApp.RequireFile(p.GetValue(classes), "class names file (--classes)"), LoadTemplates(p.GetValue(templates)!),
                    p.GetValue(perClass), p.GetValue(output), p.GetValue(json), p.GetValue(runtime)!, p.GetValue(batch), Models.DeviceOption.Parse(p.GetValue(device)));
            var dataDir = RequireData(p.GetValue(data), "--image-folder");
            var classNames = p.GetValue(classes) is { } file
                ? ZeroShotPrompts.LoadClassNames(CliApp.RequireFile(file, "class names file"))
                : DatasetStats.Read(dataDir).Extra["zero_shot_classes"]?.AsArray().Select(n => n!.GetValue<string>()).ToList()
                  ?? throw new TuwenException($"{dataDir}/stats.json has no zero_shot_classes; pass --classes FILE");
            var task = new ZeroShotTask(Path.GetFileName(Path.GetFullPath(dataDir).TrimEnd('/')), classNames,
                LoadTemplates(p.GetValue(templates)!), p.GetValue(labelKey)!);
            return Evaluate(p.GetValue(checkpoint)!, dataDir, p.GetValue(output), p.GetValue(json), task, p.GetValue(scoring) == "cosine",
                Models.DeviceOption.Parse(p.GetValue(device)));
        });
        return new Command("eval", "Evaluate a checkpoint the way the field reports") { retrieval, zeroshot };
    }

    private static string RequireData(string? data, string alternative) =>
        data ?? throw new TuwenException($"give the evaluation data: --data SHARDS or {alternative} DIR");

    private static string OnlyOne(string? data, string name, string other, string value) =>
        data is null ? value : throw new TuwenException($"give either {name} or {other}, not both");

    /// <summary>A template file, or the name of one shipped in configs/zeroshot.</summary>
    public static IReadOnlyList<string> LoadTemplates(string nameOrPath) =>
        ZeroShotPrompts.LoadTemplates(File.Exists(nameOrPath) ? nameOrPath : Models.ConfigFiles.Find("zeroshot", nameOrPath));

    private static int Evaluate(string checkpointPath, string dataDir, string? outDir, bool asJson, ZeroShotTask? zeroShot, bool cosine,
        TorchSharp.torch.Device device)
    {
        CliApp.ConfigureTorch();
        using var loaded = LoadedModel.FromCheckpoint(checkpointPath, device: device);
        using var set = EvalSet.Load(dataDir, ImageTransform.ForEval(loaded.Model.Config.Vision.ImageSize));
        var evaluator = ModelEvaluator.For(loaded, objectiveScoring: !cosine);
        var report = evaluator.Evaluate(Path.GetFileName(Checkpoint.Resolve(checkpointPath)), Path.GetFileName(Path.GetFullPath(dataDir).TrimEnd('/')), set,
            zeroShot);
        if (zeroShot == null) report = report with { ZeroShot = null };
        if (outDir != null) report.WriteTo(outDir);
        Console.WriteLine(asJson ? report.ToJson() : report.ToMarkdown());
        if (set.CorruptImages > 0) Console.Error.WriteLine($"skipped {set.CorruptImages} corrupt images");
        return 0;
    }
}
