using System.Text.Json.Nodes;
using TorchSharp;
using Tuwen.Data;
using Tuwen.Models;
using Tuwen.Objectives;
using static TorchSharp.torch;

namespace Tuwen.Tests.Objectives;

/// <summary>R2D2's teacher side: masking and feature-guided distillation, the EMA teacher, its queues and their resume.</summary>
public class R2d2DistillationTests
{
    private static R2d2Objective Create(DualEncoder model, string options = "{}") =>
        (R2d2Objective)ObjectiveRegistry.Create("r2d2", JsonNode.Parse(options)!.AsObject(), model);

    private static Batch SyntheticBatch(int seed, int b = 4)
    {
        var g = new Generator((ulong)seed);
        var ids = new long[b * 12];
        for (var i = 0; i < b; i++)
        {
            var length = 3 + i % 5;
            ids[i * 12] = 101;
            for (var j = 1; j <= length; j++) ids[i * 12 + j] = 670 + (seed * 31 + i * 7 + j) % 5000;
            ids[i * 12 + length + 1] = 102;
        }
        return new Batch(randn([b, 3, 32, 32], generator: g), tensor(ids, [b, 12]),
            Enumerable.Range(0, b).Select(i => $"s{seed}-{i}").ToArray(), new int[b]);
    }

    [Fact]
    public void MaskingHitsOnlyRealTokensAtTheRatioAndRepeatsWithTheSeed()
    {
        // Row 0: [CLS], 20 real tokens, [SEP], 2 pads → round(0.15·20) = 3 masked.
        // Row 1: [CLS], 3 real tokens ([UNK] 100 is not one), [SEP], pads → max(1, round(0.45)) = 1 masked.
        var rows = new List<long> { 101 };
        rows.AddRange(Enumerable.Range(2000, 20).Select(i => (long)i));
        rows.AddRange([102, 0, 0]);
        rows.AddRange(new long[] { 101, 3000, 100, 3001, 3002, 102 }.Concat(Enumerable.Repeat(0L, 18)));
        using var ids = tensor(rows.ToArray(), [2, 24]);
        Tensor MaskWith(ulong seed)
        {
            using var g = new Generator(seed);
            return R2d2Objective.MaskTokens(ids, 0.15, g);
        }
        using var masked = MaskWith(7);
        using var changed = masked.ne(ids);
        Assert.Equal(3, changed[0].sum().item<long>());
        Assert.Equal(1, changed[1].sum().item<long>());
        Assert.True(masked.masked_select(changed).eq(R2d2Objective.MaskId).all().item<bool>());
        var ids1 = ids.data<long>().ToArray();
        var changedAt = changed.data<bool>().ToArray();
        for (var i = 0; i < ids1.Length; i++)
            if (changedAt[i]) Assert.DoesNotContain(ids1[i], new long[] { 0, 100, 101, 102 });
        using var again = MaskWith(7);
        Assert.True(again.equal(masked).all().item<bool>());
        using var other = MaskWith(8);
        Assert.False(other.equal(masked).all().item<bool>());
        using var none = R2d2Objective.MaskTokens(ids, 0, null);
        Assert.True(none.equal(ids).all().item<bool>());
    }

    [Fact]
    public void FeatureDistillationIsMeanSquaredErrorOverValidPositions()
    {
        // Position 0: ((1−1)² + (2−0)²)/2 = 2; position 1: ((3−3)² + (4−0)²)/2 = 8; position 2 is padding.
        // Loss = (2 + 8)/2 = 5.
        using var student = tensor(new float[] { 1, 2, 3, 4, 9, 9 }, [1, 3, 2]);
        using var teacher = tensor(new float[] { 1, 0, 3, 0, 0, 0 }, [1, 3, 2]);
        using var valid = tensor(new[] { true, true, false }, [1, 3]);
        using var loss = R2d2Objective.FeatureDistillation(student, teacher, valid);
        Assert.Equal(5f, loss.item<float>(), 5);
    }

    [Fact]
    public void FeatureDistillationVanishesForAnIdenticalTeacherOnUnmaskedText()
    {
        manual_seed(11);
        using var model = new DualEncoder(ObjectiveTraining.MicroVit);
        using var objective = Create(model);
        objective.Prepare(model);
        using var batch = SyntheticBatch(1);
        using var mask = R2d2Heads.TextMask(batch.TokenIds);
        using var unmasked = R2d2Objective.MaskTokens(batch.TokenIds, 0, null);
        using var student = objective.Heads.TextImageFeatures(model.Text.ForwardTokens(unmasked), mask, model.Visual.ForwardTokens(batch.Images));
        using var teacher = objective.TeacherHeads!.TextImageFeatures(objective.Teacher!.Text.ForwardTokens(batch.TokenIds), mask,
            objective.Teacher.Visual.ForwardTokens(batch.Images));
        using var valid = batch.TokenIds.ne(0);
        using var same = R2d2Objective.FeatureDistillation(student, teacher, valid);
        Assert.Equal(0f, same.item<float>());
        // With masked text the student's features move away from the teacher's.
        using var g = new Generator(3);
        using var masked = R2d2Objective.MaskTokens(batch.TokenIds, 0.5, g);
        using var studentMasked = objective.Heads.TextImageFeatures(model.Text.ForwardTokens(masked), mask, model.Visual.ForwardTokens(batch.Images));
        using var apart = R2d2Objective.FeatureDistillation(studentMasked, teacher, valid);
        Assert.True(apart.item<float>() > 1e-4);
    }

    [Fact]
    public void ForwardTrainsBothCrossEncodersAndEnqueuesOnlyAfterTheStep()
    {
        manual_seed(12);
        using var model = new DualEncoder(ObjectiveTraining.MicroVit);
        using var objective = Create(model, """{"queue_size": 8}""");
        model.train();
        objective.Prepare(model);
        using var batch = SyntheticBatch(2);
        var output = objective.Forward(model, batch);
        using (output.Loss)
        {
            Assert.True(float.IsFinite(output.Loss.item<float>()));
            foreach (var k in new[] { "gcpr", "itm", "fgd", "acc_i2t", "acc_t2i", "itm_acc", "logit_scale" }) Assert.True(output.Metrics.ContainsKey(k), k);
            Assert.True(output.Metrics["fgd"] > 0);
            Assert.Equal(0, objective.TextQueue!.Count);
            output.Loss.backward();
        }
        foreach (var (name, p) in objective.Heads.named_parameters())
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"no gradient reaches {name}");
        Assert.All(objective.Teacher!.parameters(), p => Assert.Null(p.grad));
        objective.AfterStep(model);
        Assert.Equal(4, objective.TextQueue.Count);
        Assert.Equal(4, objective.ImageQueue!.Count);
    }

    [Fact]
    public void ForwardRunsUnderBf16Autocast()
    {
        manual_seed(14);
        using var model = new DualEncoder(ObjectiveTraining.MicroVit);
        using var objective = Create(model, """{"queue_size": 8, "hard_negatives": "sample"}""");
        objective.Prepare(model);
        using var batch = SyntheticBatch(5);
        using (Autocast.Enable(ScalarType.BFloat16))
        {
            var output = objective.Forward(model, batch);
            using (output.Loss)
            {
                Assert.Equal(ScalarType.Float32, output.Loss.dtype);
                Assert.True(float.IsFinite(output.Loss.item<float>()));
                output.Loss.backward();
            }
        }
        objective.AfterStep(model);
        using var features = objective.TextQueue!.Valid;
        Assert.Equal(ScalarType.Float32, features.dtype);
    }

    [Fact]
    public void TeacherAfterAStepIsTheMovingAverage()
    {
        using var model = new DualEncoder(ObjectiveTraining.MicroVit);
        using var objective = Create(model, """{"momentum": 0.9}""");
        var logitScale = model.named_parameters().Single(p => p.name == "logit_scale").parameter;
        var headWeight = objective.Heads.named_parameters().First().parameter;
        using (no_grad()) { logitScale.fill_(2.0); headWeight.fill_(1.0); }
        objective.Prepare(model);
        using (no_grad()) { logitScale.fill_(4.0); headWeight.fill_(3.0); }   // what an optimizer step would do
        objective.AfterStep(model);
        // 0.9·2 + 0.1·4 = 2.2; 0.9·1 + 0.1·3 = 1.2
        Assert.Equal(2.2f, objective.Teacher!.named_parameters().Single(p => p.name == "logit_scale").parameter.item<float>(), 5);
        var teacherHead = objective.TeacherHeads!.named_parameters().First().parameter;
        Assert.True(teacherHead.sub(1.2).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void ResumeRestoresTeacherAndQueuesBitForBit()
    {
        manual_seed(13);
        using var model = new DualEncoder(ObjectiveTraining.MicroVit);
        using var objective = Create(model, """{"queue_size": 6, "queue_decay": 0.99}""");
        objective.Prepare(model);
        for (var s = 0; s < 2; s++)
        {
            using var batch = SyntheticBatch(s + 3);
            using (objective.Forward(model, batch).Loss) { }
            using (no_grad()) foreach (var p in model.parameters()) p.add_(0.01);
            objective.AfterStep(model);
        }
        Assert.Equal(6, objective.TextQueue!.Count);   // 8 keys through a ring of 6
        var saved = objective.State.ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        Assert.Contains("teacher.heads.text_image.itm_head.weight", saved.Keys);
        Assert.Contains("queue.text.features", saved.Keys);

        manual_seed(99);
        using var model2 = new DualEncoder(ObjectiveTraining.MicroVit);
        using var resumed = Create(model2, """{"queue_size": 6, "queue_decay": 0.99}""");
        resumed.Prepare(model2);
        var fresh = resumed.State;
        Assert.False(fresh["teacher.model.logit_scale"].equal(saved["teacher.model.logit_scale"]).all().item<bool>()
            && fresh["teacher.heads.text_image.itm_head.weight"].equal(saved["teacher.heads.text_image.itm_head.weight"]).all().item<bool>());
        resumed.LoadState(saved);
        var restored = resumed.State;
        Assert.Equal(saved.Keys.Order(), restored.Keys.Order());
        foreach (var (key, value) in saved)
            Assert.True(value.equal(restored[key]).all().item<bool>(), $"{key} differs after resume");
    }

    [Fact]
    public void OptionsAreParsedStrictly()
    {
        using var model = new DualEncoder(ObjectiveTraining.MicroVit);
        var e = Assert.Throws<TuwenException>(() => Create(model, """{"queue_length": 8}"""));
        Assert.Contains("queue_size", e.Message);
        Assert.Contains("hard_negatives", e.Message);
        Assert.Throws<TuwenException>(() => Create(model, """{"hard_negatives": "hardest-ish"}"""));
        Assert.Throws<TuwenException>(() => Create(model, """{"momentum": 1.5}"""));
        Assert.Throws<TuwenException>(() => Create(model, """{"cross_layers": "two"}"""));
        using var sampled = Create(model, """{"hard_negatives": "sample", "rerank_k": 4, "cross_layers": 1}""");
        Assert.Equal(HardNegativeMode.Sample, sampled.Options.HardNegatives);
        Assert.Equal("re-ranked top-4", sampled.Scorer(model).Name);
        // Options built in code (an int where a double is meant) read like options from JSON text.
        var built = R2d2Options.Parse(new JsonObject { ["alpha"] = 1, ["momentum"] = 0.5, ["queue_size"] = 64 });
        Assert.Equal((1.0, 0.5, 64), (built.Alpha, built.Momentum, built.QueueSize));
        Assert.Throws<TuwenException>(() => R2d2Options.Parse(new JsonObject { ["queue_size"] = 6.5 }));
    }
}
