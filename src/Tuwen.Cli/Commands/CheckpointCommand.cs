using System.CommandLine;
using Tuwen.Interop.ChineseClip;

namespace Tuwen.Cli.Commands;

/// <summary>`tuwen checkpoint import`: a Chinese-CLIP model (.pt or Hugging Face directory) → a Tuwen checkpoint directory.</summary>
public static class CheckpointCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "cnclip (a .pt saved by Chinese-CLIP) or hf (a Hugging Face ChineseCLIPModel directory)", Required = true };
        from.AcceptOnlyFromAmong("cnclip", "hf");
        var input = new Option<string>("--input") { Description = "the .pt file (cnclip) or the model directory (hf)", Required = true };
        var vocab = new Option<string?>("--vocab") { Description = "vocab.txt (required for cnclip; hf defaults to the directory's vocab.txt)" };
        var output = new Option<string>("--out") { Description = "Tuwen checkpoint directory to write", Required = true };
        var visionHeadWidth = new Option<int?>("--vision-head-width") { Description = "cnclip: vision head width (default 64, 80 for a 1280-wide ViT-H)" };
        var textHeadWidth = new Option<int?>("--text-head-width") { Description = "cnclip: text head width (default 64)" };
        var import = new Command("import", "Import a Chinese-CLIP checkpoint as a Tuwen checkpoint (config inferred from the weights)")
            { from, input, vocab, output, visionHeadWidth, textHeadWidth };
        import.SetAction((p, _) =>
        {
            var source = p.GetValue(from) == "hf" ? ChineseClipSource.HuggingFace : ChineseClipSource.ChineseClip;
            var path = p.GetValue(input)!;
            if (source == ChineseClipSource.HuggingFace) CliApp.RequireDirectory(path, "Hugging Face model directory");
            else CliApp.RequireFile(path, "Chinese-CLIP checkpoint");
            var options = new ChineseClipImportOptions { VisionHeadWidth = p.GetValue(visionHeadWidth), TextHeadWidth = p.GetValue(textHeadWidth) };
            var outDir = p.GetValue(output)!;
            var summary = ChineseClipCheckpointImport.Import(source, path, p.GetValue(vocab), outDir, options);
            Console.Out.WriteLine($"imported {summary.Name} ({summary.VisionType} image tower, embed dim {summary.EmbedDim}, {summary.Parameters:N0} parameters) → {outDir}");
            return 0;
        });
        return new Command("checkpoint", "Checkpoint conversion") { import };
    }
}
