// One configuration of the large-batch bench per process, so the resident-set peak (VmHWM) is that
// configuration's alone: a training step (forward, backward, AdamW) of a dual encoder on one fixed synthetic
// batch, the contrastive loss computed
//   plain   — the full B×B logit matrix, one autograd graph over the whole batch;
//   chunked — ChunkedClipLoss in blocks of MICRO rows, one graph over the whole batch;
//   cached  — GradientCache: micro-batches of MICRO embedded without graphs, full-batch chunked loss,
//             each micro-batch re-embedded with its graph (the full-batch gradient);
//   accum   — plain accumulation over micro-batches of MICRO (each contrasts within itself: a different,
//             weaker loss, shown for its cost only);
//   loss-plain / loss-chunked — the loss and its backward alone on random normalised features [BATCH, 128]
//             (no model), to show the loss's own memory: B² for plain, chunk·B for chunked.
// Usage: LargeBatch MODEL_JSON VOCAB BATCH MODE MICRO STEPS PRECISION → prints one JSON line.
using System.Diagnostics;
using System.Text.Json;
using TorchSharp;
using Tuwen.Bench;
using Tuwen.Data;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Training;
using static TorchSharp.torch;

var config = ModelConfig.Load(args[0]);
int vocab = int.Parse(args[1]), batchSize = int.Parse(args[2]);
var mode = args[3];
int micro = int.Parse(args[4]), steps = int.Parse(args[5]);
var precision = args[6];
if (mode is not ("plain" or "chunked" or "cached" or "accum" or "loss-plain" or "loss-chunked")) throw new ArgumentException($"unknown mode {mode}");
config = config with { Text = config.Text with { VocabSize = vocab } };
set_num_threads(Environment.ProcessorCount);
manual_seed(0);
using var model = new DualEncoder(config);
using var objective = new ClipObjective(mode == "chunked" ? micro : 0);
var cache = mode == "cached" ? new GradientCache(micro, 0) : null;
using var optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)), 0.9, 0.98, 1e-6, 0.1);
var lossOnly = mode.StartsWith("loss-", StringComparison.Ordinal);
var inputs = lossOnly ? 1 : batchSize; // the loss-only modes keep no image batch, so their peak is the loss's
using var batch = SyntheticBatch.Create(config, inputs);
var images = batch.Images;
var ids = batch.TokenIds;
var dtype = Autocast.Parse(precision);
model.train();

// The loss alone: features as leaves, so backward stops at them.
var lossGenerator = new Generator(2);
using var lossImage = nn.functional.normalize(randn([batchSize, 128], generator: lossGenerator), dim: -1).requires_grad_(true);
using var lossText = nn.functional.normalize(randn([batchSize, 128], generator: lossGenerator), dim: -1).requires_grad_(true);
using var lossScale = tensor(14.3f).requires_grad_(true);

double LossStep()
{
    using var scope = NewDisposeScope();
    using var loss = mode == "loss-plain" ? ClipObjective.Compute(lossImage, lossText, lossScale).Loss
        : ChunkedClipLoss.Compute(lossImage, lossText, lossScale, micro).Attach(lossImage, lossText, lossScale);
    loss.backward();
    foreach (var t in new[] { lossImage, lossText, lossScale }) t.grad?.zero_();
    return loss.item<float>();
}

double Step()
{
    if (lossOnly) return LossStep();
    using var scope = NewDisposeScope();
    optimizer.ZeroGrad();
    double loss;
    using (Autocast.Enable(dtype))
    {
        if (cache is not null) loss = cache.ForwardBackward(model, batch).Loss.item<float>();
        else if (mode == "accum")
        {
            var parts = (batchSize + micro - 1) / micro;
            using var share = (1.0 / parts).ToScalar();
            loss = 0;
            for (var k = 0; k < parts; k++)
            {
                using var inner = NewDisposeScope();
                var n = Math.Min(micro, batchSize - k * micro);
                using var part = new Batch(images.narrow(0, k * micro, n), ids.narrow(0, k * micro, n), new string[n], new int[n]);
                var output = objective.Forward(model, part);
                output.Loss.mul(share).backward();
                loss += output.Loss.item<float>() / parts;
            }
        }
        else
        {
            var output = objective.Forward(model, batch);
            output.Loss.backward();
            loss = output.Loss.item<float>();
        }
    }
    optimizer.ClipGradNorm(1.0);
    optimizer.Step(1e-4);
    return loss;
}

// What the steps add on top of the model, optimizer and batch already resident.
var beforeMb = ProcessMemory.ResidentMiB() ?? 0;
var firstLoss = Step();
var clock = Stopwatch.StartNew();
for (var i = 0; i < steps; i++) Step();
var seconds = clock.Elapsed.TotalSeconds;
var peakMb = ProcessMemory.PeakResidentMiB() ?? 0;
Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["mode"] = mode, ["batch"] = batchSize, ["micro"] = micro, ["precision"] = precision, ["steps"] = steps,
    ["pairs_per_s"] = batchSize * steps / seconds, ["peak_rss_mb"] = Math.Round(peakMb, 1), ["step_peak_mb"] = Math.Round(peakMb - beforeMb, 1),
    ["first_loss"] = firstLoss,
}));
