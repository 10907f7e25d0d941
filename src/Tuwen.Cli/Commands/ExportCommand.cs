using System.CommandLine;
using Tuwen.Interop.Onnx;

namespace Tuwen.Cli.Commands;

/// <summary>`tuwen export onnx`: a checkpoint's image and text towers as ONNX graphs with a dynamic batch axis.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "checkpoint directory (or a run directory holding checkpoint/)", Required = true };
        var output = new Option<string>("--out") { Description = "output directory: image.onnx, text.onnx, vocab.txt, onnx.json", Required = true };
        var onnx = new Command("onnx", "Export the image (vit, resnet) and text (bert) towers for ONNX Runtime (opset 17, dynamic batch)") { checkpoint, output };
        onnx.SetAction((p, _) =>
        {
            CliApp.ConfigureTorch();
            var dir = p.GetValue(output)!;
            var m = OnnxExport.FromCheckpoint(CliApp.RequireDirectory(p.GetValue(checkpoint), "checkpoint"), dir);
            Console.WriteLine($"wrote {Path.Combine(dir, OnnxExport.ImageFile)} ({m.VisionType}, images [batch, 3, {m.ImageSize}, {m.ImageSize}]), " +
                $"{Path.Combine(dir, OnnxExport.TextFile)} ({m.TextType}, token ids [batch, {m.ContextLength}]) → features [batch, {m.EmbedDim}]; opset {m.Opset}");
            return 0;
        });
        return new Command("export", "Export a model for other runtimes") { onnx };
    }
}
