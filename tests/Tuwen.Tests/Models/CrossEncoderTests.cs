using TorchSharp;
using Tuwen.Models;
using Tuwen.Objectives;
using Tuwen.Tests.Objectives;
using static TorchSharp.torch;

namespace Tuwen.Tests.Models;

public class CrossEncoderTests
{
    private static Tensor Mask(params bool[][] rows) =>
        tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, 1, 1, rows[0].Length]);

    [Fact]
    public void ShapesFollowTheStreamAndTheHeadReadsTwoClasses()
    {
        manual_seed(1);
        using var textImage = new CrossEncoder(8, 12, 8, 2, 16, 2, projectInput: false);
        using var imageText = new CrossEncoder(12, 8, 8, 2, 16, 2, projectInput: true);
        using var text = randn(3, 5, 8);
        using var image = randn(3, 7, 12);
        using var f = textImage.forward(text, null, image, null);
        Assert.Equal(new long[] { 3, 5, 8 }, f.shape);
        using var g = imageText.forward(image, null, text, null);
        Assert.Equal(new long[] { 3, 7, 8 }, g.shape);
        using var logits = textImage.Itm(f);
        Assert.Equal(new long[] { 3, 2 }, logits.shape);
        Assert.Equal(ScalarType.Float32, logits.dtype);
        Assert.Throws<TuwenException>(() => new CrossEncoder(12, 8, 8, 2, 16, 1, projectInput: false));
        Assert.Contains(imageText.named_parameters(), p => p.name.StartsWith("input_proj", StringComparison.Ordinal));
    }

    [Fact]
    public void CrossAttentionIgnoresMaskedMemoryTokens()
    {
        manual_seed(2);
        using var encoder = new CrossEncoder(8, 6, 8, 2, 16, 2, projectInput: false);
        encoder.eval();
        using var stream = randn(2, 4, 8);
        using var memory = randn(2, 5, 6);
        // Row 0 may see memory tokens 0–2, row 1 tokens 0–3.
        using var mask = Mask([true, true, true, false, false], [true, true, true, true, false]);
        using var before = encoder.forward(stream, null, memory, mask);

        using var changed = memory.clone();
        using (no_grad()) { changed[0, 3].add_(5); changed[0, 4].add_(-3); changed[1, 4].mul_(7); }
        using var after = encoder.forward(stream, null, changed, mask);
        Assert.True(before.allclose(after, 0, 1e-6), "a padded memory token changed the output");

        // A token that may be attended to does change it, so the check above can fail.
        using (no_grad()) changed[0, 2].add_(5);
        using var visible = encoder.forward(stream, null, changed, mask);
        Assert.True(visible[0].sub(before[0]).abs().max().item<float>() > 1e-3);
        Assert.True(visible[1].allclose(before[1], 0, 1e-6));
    }

    [Fact]
    public void SelfAttentionIgnoresPaddedStreamPositions()
    {
        manual_seed(3);
        using var encoder = new CrossEncoder(8, 6, 8, 2, 16, 1, projectInput: false);
        using var stream = randn(1, 4, 8);
        using var memory = randn(1, 3, 6);
        using var mask = Mask([true, true, false, false]);
        using var before = encoder.forward(stream, mask, memory, null);
        using var changed = stream.clone();
        using (no_grad()) changed[0, 3].add_(4);
        using var after = encoder.forward(changed, mask, memory, null);
        Assert.True(before[0, ..2].allclose(after[0, ..2], 0, 1e-6));
    }

    [Fact]
    public void HeadsAreSizedFromTheDualEncoderTowers()
    {
        using var model = new DualEncoder(ObjectiveTraining.MicroVit);
        using var heads = R2d2Heads.For(model, 3);
        Assert.Equal(32, R2d2Heads.ImageTokenWidth(model));
        Assert.Equal(32, heads.TextImage.Width);
        Assert.Equal(3, heads.TextImage.named_parameters().Select(p => p.name.Split('.')).Where(p => p[0] == "layer").Select(p => p[1]).Distinct().Count());
        using var ids = tensor(new long[] { 101, 872, 102, 0, 101, 1962, 3221, 102 }, [2, 4]);
        using var hidden = model.Text.ForwardTokens(ids);
        using var images = randn(2, 3, 32, 32);
        using var tokens = model.Visual.ForwardTokens(images);
        using var logits = heads.Itm(hidden, R2d2Heads.TextMask(ids), tokens);
        Assert.Equal(new long[] { 2, 2 }, logits.TextSide.shape);
        Assert.Equal(new long[] { 2, 2 }, logits.ImageSide.shape);
        using var p = R2d2Heads.MatchProbability(logits);
        Assert.True(p.ge(0).all().item<bool>() && p.le(1).all().item<bool>());
    }

    [Fact]
    public void MatchProbabilityAveragesBothSoftmaxes()
    {
        // Text side logits (0, ln 3) → p = 3/4; image side (ln 4, 0) → p = 1/5; mean = (0.75 + 0.2)/2 = 0.475.
        using var logits = new ItmLogits(tensor(new[] { 0f, MathF.Log(3) }, [1, 2]), tensor(new[] { MathF.Log(4), 0f }, [1, 2]));
        using var p = R2d2Heads.MatchProbability(logits);
        Assert.Equal(0.475f, p.item<float>(), 5);
    }
}
