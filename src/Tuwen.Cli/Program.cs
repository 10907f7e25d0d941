using Tuwen.Models;
using static TorchSharp.torch;
var cfg = ModelConfig.Load(args.Length > 0 ? args[0] : "tiny");
set_num_threads(2);
using var m = new DualEncoder(cfg);
Console.WriteLine($"{cfg.Name}: {m.ParameterCount():N0} params, visual {m.ParameterCount("visual."):N0}, bert {m.ParameterCount("bert."):N0}");
foreach (var (n, p) in m.named_parameters().Take(8)) Console.WriteLine($"{n} {string.Join("x", p.shape)}");
int B = int.Parse(args.Length > 1 ? args[1] : "256");
var opt = optim.AdamW(m.parameters(), 1e-3);
var imgs = randn(B, 3, cfg.Vision.ImageSize, cfg.Vision.ImageSize);
var ids = randint(1, 2000, new long[]{B, cfg.Text.ContextLength});
foreach (var prec in new[] { "fp32", "bf16" })
{
    using var ac = Autocast.Enable(Autocast.Parse(prec));
    for (int it = 0; it < 4; it++)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var f = m.forward(imgs, ids);
        var logits = f.Image.matmul(f.Text.t()) * f.LogitScale;
        var labels = arange(B);
        var loss = (nn.functional.cross_entropy(logits, labels) + nn.functional.cross_entropy(logits.t(), labels)) / 2;
        opt.zero_grad(); loss.backward(); opt.step();
        Console.WriteLine($"{prec} step {it}: loss {loss.item<float>():F4} {B / sw.Elapsed.TotalSeconds:F0} pairs/s");
    }
}
