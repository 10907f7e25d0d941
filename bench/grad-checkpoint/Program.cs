// One configuration of the grad-checkpoint bench, in its own process so its peak resident set is its own:
// the training step of `tuwen train` (dual encoder, CLIP loss, AdamW, clipping, autocast) on a fixed
// synthetic batch, with or without activation checkpointing of the transformer blocks.
// Usage: GradCheckpoint MODEL_JSON BATCH STEPS PRECISION on|off → prints one JSON line.
using System.Diagnostics;
using System.Text.Json;
using Tuwen.Bench;
using Tuwen.Data;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Training;
using static TorchSharp.torch;

var config = ModelConfig.Load(args[0]);
int batchSize = int.Parse(args[1]), steps = int.Parse(args[2]);
var precision = args[3];
var checkpointing = args[4] == "on";
set_num_threads(Environment.ProcessorCount);
manual_seed(0);
using var model = new DualEncoder(config);
using var objective = new ClipObjective();
using var optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)), 0.9, 0.98, 1e-6, 0.1);
using var batch = SyntheticBatch.Create(config, batchSize);
var dtype = Autocast.Parse(precision);
var setupMiB = (long)(ProcessMemory.ResidentMiB() ?? 0);

void Step()
{
    using var scope = NewDisposeScope();
    using (ActivationCheckpoint.Enable(checkpointing))
    using (Autocast.Enable(dtype))
    {
        var output = objective.Forward(model, batch);
        optimizer.ZeroGrad();
        output.Loss.backward();
    }
    nn.utils.clip_grad_norm_(optimizer.Parameters, 1.0);
    optimizer.Step(1e-4);
}

// The first step also allocates the optimizer state, so it is warm-up, not timed.
Step();
var clock = Stopwatch.StartNew();
for (var i = 0; i < steps; i++) Step();
var stepSeconds = clock.Elapsed.TotalSeconds / steps;
Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["batch"] = batchSize, ["precision"] = precision, ["checkpointing"] = checkpointing,
    ["step_s"] = stepSeconds, ["pairs_per_s"] = batchSize / stepSeconds,
    ["peak_rss_mib"] = (long)(ProcessMemory.PeakResidentMiB() ?? 0), ["setup_rss_mib"] = setupMiB,
}));
