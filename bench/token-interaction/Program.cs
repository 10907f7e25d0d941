// Cost of Wukong's token-wise interaction with all image tokens (FILIP) vs K reduced tokens (TokenReduction),
// at Wukong's joint space (D = 256, text context 32) for ViT-B/32's 7×7 grid and ViT-B/16's 14×14 grid.
// Three timings per row, fp32 on the CPU with one intra-op thread, median of the repeats after warm-up. The
// figure is the process's CPU time per run, not wall time: the machine is shared, and CPU time on one thread
// measures the work while wall time measures the neighbours too (wall medians are kept in the JSON).
//   similarity — both token-wise similarities of B×B pairs from ready tokens (no autograd; the reduced row
//                includes applying the reduction layer to the B images);
//   loss step  — from the towers' projected tokens: [reduction →] normalise → FILIP loss, forward + backward;
//   train step — a whole step (towers, loss, backward, AdamW) of a small ViT/BERT dual encoder with that grid.
// Usage: TokenInteraction BATCH REPEATS OUT_PREFIX → writes OUT_PREFIX.md and OUT_PREFIX.json, prints the table.
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Training;
using static TorchSharp.torch;

int batch = int.Parse(args[0]), repeats = int.Parse(args[1]);
var outPrefix = args[2];
const int Dim = 256, Context = 32, ReducedTokens = 12, Groups = 8;
set_num_threads(1);

var process = Process.GetCurrentProcess();
var wallMs = new Dictionary<string, double>();

// Median CPU milliseconds of one run (and its median wall time under `key`).
double MedianMs(string key, int runs, Action step)
{
    step();
    var cpu = new List<double>();
    var wall = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        process.Refresh();
        var start = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        step();
        wall.Add(clock.Elapsed.TotalMilliseconds);
        process.Refresh();
        cpu.Add((process.TotalProcessorTime - start).TotalMilliseconds);
    }
    cpu.Sort(); wall.Sort();
    wallMs[key] = wall[wall.Count / 2];
    return cpu[cpu.Count / 2];
}

var generator = new Generator(7);
// Captions of 6–32 real tokens ([CLS] … [SEP]) then padding, like Wukong's zero-padded context of 32.
using var lengths = randint(6, Context + 1, [batch], generator: generator);
using var positions = arange(Context).unsqueeze(0);
using var textMask = positions.lt(lengths.unsqueeze(1));
using var ids = randint(104, 21128, [batch, Context], generator: generator).mul(textMask);

var rows = new List<JsonObject>();
foreach (var (label, patch) in new[] { ("ViT-B/32 grid (224 px, patch 32)", 32), ("ViT-B/16 grid (224 px, patch 16)", 16) })
{
    var grid = 224 / patch;
    var config = new ModelConfig
    {
        Name = $"bench-p{patch}", EmbedDim = Dim,
        Vision = new VisionConfig { Type = "vit", ImageSize = 224, PatchSize = patch, Width = 128, Layers = 6, Heads = 4 },
        Text = new TextConfig { VocabSize = 21128, ContextLength = Context, Width = 128, Layers = 2, Heads = 4, IntermediateSize = 512, MaxPositions = 64 },
    };
    using var patchTokens = randn([batch, grid * grid, Dim], generator: generator);
    using var textTokens = randn([batch, Context, Dim], generator: generator);
    using var images = randn([batch, 3, 224, 224], generator: generator);
    double? fullSimilarity = null, fullLoss = null, fullStep = null;
    foreach (var reduced in new[] { false, true })
    {
        manual_seed(0);
        using var model = new DualEncoder(config);
        IObjective objective = reduced
            ? new ReducedTokenObjective(new JsonObject { ["tokens"] = ReducedTokens, ["groups"] = Groups }, model)
            : new FilipObjective(new JsonObject());
        var reduction = (objective as ReducedTokenObjective)?.Reduction;
        using var normalisedText = nn.functional.normalize(textTokens, dim: -1);
        Tensor Image(Tensor tokens) => nn.functional.normalize(reduction is null ? tokens : reduction.forward(tokens), dim: -1);

        var key = $"{patch}-{reduced}";
        var similarity = MedianMs(key + "-similarity", repeats, () =>
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            TokenWiseSimilarity.Compute(Image(patchTokens), null, normalisedText, textMask);
        });
        var loss = MedianMs(key + "-loss", repeats, () =>
        {
            using var scope = NewDisposeScope();
            var leaf = patchTokens.detach().requires_grad_();
            var text = textTokens.detach().requires_grad_();
            using var scale = tensor(50f);
            var output = FilipObjective.Compute(Image(leaf), null, nn.functional.normalize(text, dim: -1), textMask, scale);
            output.Loss.backward();
            reduction?.zero_grad();
        });
        using var optimizer = new AdamW(objective.TrainableParameters(model), 0.9, 0.98, 1e-6, 0.1);
        using var trainBatch = new Batch(images.alias(), ids.alias(), Enumerable.Range(0, batch).Select(i => i.ToString()).ToArray(), new int[batch]);
        var step = MedianMs(key + "-step", Math.Max(1, repeats / 2), () =>
        {
            using var scope = NewDisposeScope();
            var output = objective.Forward(model, trainBatch);
            optimizer.ZeroGrad();
            output.Loss.backward();
            optimizer.Step(1e-4);
        });
        objective.Dispose();

        var n1 = reduced ? ReducedTokens : grid * grid;
        fullSimilarity ??= similarity; fullLoss ??= loss; fullStep ??= step;
        rows.Add(new JsonObject
        {
            ["grid"] = label, ["image_tokens"] = n1, ["reduced"] = reduced,
            ["multiplies_per_pair"] = (long)n1 * Context * Dim,
            // Per image, not per pair: LN-free value conv and attention convs (C²/g each) plus the C→K map and A·V.
            ["reduction_multiplies_per_image"] = reduced ? (long)grid * grid * (2L * Dim * Dim / Groups + Dim * ReducedTokens) + (long)ReducedTokens * grid * grid * Dim : 0,
            ["similarity_ms"] = similarity, ["loss_step_ms"] = loss, ["train_step_ms"] = step,
            ["similarity_wall_ms"] = wallMs[key + "-similarity"], ["loss_step_wall_ms"] = wallMs[key + "-loss"], ["train_step_wall_ms"] = wallMs[key + "-step"],
            ["similarity_ratio"] = similarity / fullSimilarity, ["loss_step_ratio"] = loss / fullLoss, ["train_step_ratio"] = step / fullStep,
        });
        Console.Error.WriteLine($"{label} n1={n1}: similarity {similarity:F1} ms, loss step {loss:F1} ms, train step {step:F0} ms");
    }
}

var md = new List<string>
{
    $"Batch {batch} (so {batch}×{batch} pairs), D = {Dim}, text context {Context} (6–32 real tokens, the rest masked), fp32, one intra-op thread; CPU milliseconds per run, median of {repeats} runs ({Math.Max(1, repeats / 2)} for the train step) after one warm-up run. Ratios are to the full-token row of the same grid.",
    "",
    "| image grid | image tokens n1 | n1·n2·D multiplies per pair | similarity ms | ratio | loss fwd+bwd ms | ratio | train step ms | ratio |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
};
foreach (var r in rows)
{
    var tokens = r["reduced"]!.GetValue<bool>() ? $"{r["image_tokens"]} (reduced)" : $"{r["image_tokens"]} (all)";
    md.Add($"| {r["grid"]} | {tokens} | {r["multiplies_per_pair"]!.GetValue<long>():N0} | {r["similarity_ms"]!.GetValue<double>():F1} | {r["similarity_ratio"]!.GetValue<double>():F2} " +
           $"| {r["loss_step_ms"]!.GetValue<double>():F1} | {r["loss_step_ratio"]!.GetValue<double>():F2} | {r["train_step_ms"]!.GetValue<double>():F0} | {r["train_step_ratio"]!.GetValue<double>():F2} |");
}
File.WriteAllText(outPrefix + ".table.md", string.Join("\n", md) + "\n");
File.WriteAllText(outPrefix + ".rows.json", new JsonArray(rows.ToArray<JsonNode?>()).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
Console.WriteLine(string.Join("\n", md));
