// Tuwen side of the train-throughput bench: the training step of `tuwen train` (dual encoder, CLIP loss,
// our AdamW, gradient clipping, autocast) on fixed synthetic batches, timed after warm-up.
// Usage: TrainThroughput MODEL_JSON VOCAB_SIZE BATCH STEPS PRECISION [WARMUP=3] → prints one JSON line
// (pairs/s and the process's peak resident set, VmHWM, for the performance suite's memory rows).
using System.Diagnostics;
using System.Text.Json;
using Tuwen.Bench;
using Tuwen.Data;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Training;
using static TorchSharp.torch;

var config = ModelConfig.Load(args[0]);
int vocab = int.Parse(args[1]), batchSize = int.Parse(args[2]), steps = int.Parse(args[3]);
var precision = args[4];
var warmup = args.Length > 5 ? int.Parse(args[5]) : 3;
config = config with { Text = config.Text with { VocabSize = vocab } };
MallocTuning.KeepFreedMemory();   // as Trainer.Run does
set_num_threads(2);
manual_seed(0);
using var model = new DualEncoder(config);
using var objective = new ClipObjective();
using var optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)), 0.9, 0.98, 1e-6, 0.1);
using var batch = SyntheticBatch.Create(config, batchSize);
var dtype = Autocast.Parse(precision);

void Step()
{
    using var scope = NewDisposeScope();
    using (Autocast.Enable(dtype))
    {
        var output = objective.Forward(model, batch);
        optimizer.ZeroGrad();
        output.Loss.backward();
    }
    nn.utils.clip_grad_norm_(optimizer.Parameters, 1.0);
    optimizer.Step(1e-3);
}

for (var i = 0; i < warmup; i++) Step();
var clock = Stopwatch.StartNew();
for (var i = 0; i < steps; i++) Step();
var pairsPerSecond = batchSize * steps / clock.Elapsed.TotalSeconds;
Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["engine"] = "tuwen (TorchSharp 0.107.0)", ["precision"] = precision, ["pairs_per_s"] = pairsPerSecond,
    ["batch"] = batchSize, ["peak_rss_mib"] = ProcessMemory.PeakResidentMiB() ?? double.NaN,
}));
