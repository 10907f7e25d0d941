// Tuwen side of the onnx-inference bench: the same model run by TorchSharp (fp32, and bf16 products under Autocast,
// no_grad) and by ONNX Runtime (fp32: its x86 CPU provider has no bf16 path) on the graphs `tuwen export onnx` wrote,
// timed side by side — the engines alternate iteration by iteration,
// so load from other processes hits both alike. Inputs are prepared outside the timed region for both.
// Usage:
//   OnnxInference checkpoint MODEL_JSON DIR          random-weight checkpoint of a model config (fp32 recipe)
//   OnnxInference measure CKPT ONNX_DIR TOWER BATCHES SECONDS
//       TOWER image|text; BATCHES e.g. 1,8,64; SECONDS: time budget per batch size → one JSON line per batch size
using System.Diagnostics;
using System.Text.Json;
using Tuwen.Inference;
using Tuwen.Models;
using Tuwen.Training;
using static TorchSharp.torch;

var threads = int.TryParse(Environment.GetEnvironmentVariable("BENCH_THREADS"), out var t) ? t : Environment.ProcessorCount;
set_num_threads(threads);
if (args[0] == "checkpoint")
{
    var config = ModelConfig.Load(args[1]);
    manual_seed(0);
    using var fresh = new DualEncoder(config);
    var vocab = Enumerable.Range(0, config.Text.VocabSize).Select(i => i switch
    {
        0 => "[PAD]", 100 => "[UNK]", 101 => "[CLS]", 102 => "[SEP]", 103 => "[MASK]", _ => $"t{i}",
    }).ToList();
    Checkpoint.Save(args[2], config, new TrainConfig { Model = config.Name, Precision = "fp32" }, vocab, fresh.state_dict(), [], new TrainState());
    return;
}

using var loaded = LoadedModel.FromCheckpoint(args[1]);
using var onnx = new OnnxEmbeddingRuntime(args[2], threads);
var tower = args[3];
var batches = args[4].Split(',').Select(int.Parse).ToArray();
var budget = double.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture);
using var noGrad = no_grad();
var model = loaded.Model;
using var bf16Weights = new WeightCastCache();

foreach (var batch in batches)
{
    var generator = new Generator(7);
    Tensor input;
    Func<float[]> runOnnx;
    if (tower == "image")
    {
        var s = onnx.ImageSize;
        input = randn([batch, 3, s, s], generator: generator);
        var pixels = input.data<float>().ToArray();
        runOnnx = () => onnx.EmbedImages(pixels, batch);
    }
    else
    {
        var l = onnx.ContextLength;
        input = randint(104, model.Config.Text.VocabSize, [batch, l], dtype: ScalarType.Int64, generator: generator);
        for (var r = 0; r < batch; r++) input[r, (8 + r * 7 % (l - 8))..] = tensor(0L);   // captions of 8 … L tokens
        input[.., 0] = tensor(101L);
        var ids = input.data<long>().ToArray();
        runOnnx = () => onnx.EmbedTexts(ids, batch);
    }
    float[] RunTorch()
    {
        using var y = tower == "image" ? model.EncodeImage(input) : model.EncodeText(input);
        return y.data<float>().ToArray();
    }

    // The same model with its products in bf16 (AVX512-BF16 here), weights cast once as an embedding service does.
    float[] RunTorchBf16()
    {
        using var low = Autocast.Enable(ScalarType.BFloat16, bf16Weights);
        using var y = tower == "image" ? model.EncodeImage(input) : model.EncodeText(input);
        return y.data<float>().ToArray();
    }

    // Warm-up: first runs allocate and (ORT) plan; two for small batches, one where an iteration takes seconds.
    var warmup = batch >= 64 ? 1 : 2;
    float[] torchOut = [], onnxOut = [];
    float[] bf16Out = [];
    for (var i = 0; i < warmup; i++) { torchOut = RunTorch(); onnxOut = runOnnx(); bf16Out = RunTorchBf16(); }
    var maxAbs = torchOut.Zip(onnxOut, (a, b) => Math.Abs(a - b)).Max();
    var maxAbsBf16 = torchOut.Zip(bf16Out, (a, b) => Math.Abs(a - b)).Max();
    var featureScale = torchOut.Max(Math.Abs);

    double torchSeconds = 0, onnxSeconds = 0, bf16Seconds = 0;
    // At least two timed iterations, one where a single iteration of batch 64 costs a teraflop.
    var iterations = 0;
    var minimum = batch >= 64 ? 1 : 2;
    var total = Stopwatch.StartNew();
    while (iterations < minimum || total.Elapsed.TotalSeconds < budget && iterations < 200)
    {
        var clock = Stopwatch.StartNew();
        RunTorch();
        torchSeconds += clock.Elapsed.TotalSeconds;
        clock.Restart();
        runOnnx();
        onnxSeconds += clock.Elapsed.TotalSeconds;
        clock.Restart();
        RunTorchBf16();
        bf16Seconds += clock.Elapsed.TotalSeconds;
        iterations++;
    }
    input.Dispose();
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["tower"] = tower, ["batch"] = batch, ["iterations"] = iterations, ["threads"] = threads,
        ["torch_per_s"] = batch * iterations / torchSeconds, ["onnx_per_s"] = batch * iterations / onnxSeconds,
        ["ratio"] = torchSeconds / onnxSeconds, ["max_abs_diff"] = maxAbs, ["max_abs_feature"] = featureScale,
        ["torch_bf16_per_s"] = batch * iterations / bf16Seconds, ["ratio_bf16"] = bf16Seconds / onnxSeconds, ["max_abs_diff_bf16"] = maxAbsBf16,
    }));
}
