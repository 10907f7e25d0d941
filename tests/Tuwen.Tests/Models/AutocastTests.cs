using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Tests.Models;

/// <summary>The bfloat16 paths checked against float64 references computed from the definitions.</summary>
public class AutocastTests
{
    /// <summary>softmax(q·kᵀ/√d + mask)·v in float64, written out with loops.</summary>
    private static double[,,,] Reference(double[,,,] q, double[,,,] k, double[,,,] v, bool[,]? allowed)
    {
        int b = q.GetLength(0), h = q.GetLength(1), l = q.GetLength(2), d = q.GetLength(3);
        var y = new double[b, h, l, d];
        for (var i = 0; i < b; i++)
        for (var j = 0; j < h; j++)
        for (var r = 0; r < l; r++)
        {
            var s = new double[l];
            var max = double.NegativeInfinity;
            for (var c = 0; c < l; c++)
            {
                if (allowed is not null && !allowed[i, c]) { s[c] = double.NegativeInfinity; continue; }
                for (var e = 0; e < d; e++) s[c] += q[i, j, r, e] * k[i, j, c, e];
                s[c] /= Math.Sqrt(d);
                max = Math.Max(max, s[c]);
            }
            var z = s.Sum(x => Math.Exp(x - max));
            for (var c = 0; c < l; c++)
            {
                var p = Math.Exp(s[c] - max) / z;
                for (var e = 0; e < d; e++) y[i, j, r, e] += p * v[i, j, c, e];
            }
        }
        return y;
    }

    private static double[,,,] ToArray(Tensor t)
    {
        var s = t.shape;
        var flat = t.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var a = new double[s[0], s[1], s[2], s[3]];
        Buffer.BlockCopy(flat, 0, a, 0, flat.Length * sizeof(double));
        return a;
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void BFloat16AttentionMatchesTheDefinition(bool withGrad, bool withMask)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(3);
        var q = randn([2, 3, 5, 8], generator: g).to(ScalarType.BFloat16);
        var k = randn([2, 3, 5, 8], generator: g).to(ScalarType.BFloat16);
        var v = randn([2, 3, 5, 8], generator: g).to(ScalarType.BFloat16);
        bool[,] allowed = { { true, true, true, false, false }, { true, true, true, true, true } };
        var mask = withMask ? tensor(new[] { true, true, true, false, false, true, true, true, true, true }).view(2, 1, 1, 5) : null;
        Tensor y;
        using (withGrad ? enable_grad() : no_grad()) y = Autocast.Attention(q, k, v, mask);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        var expected = Reference(ToArray(q), ToArray(k), ToArray(v), withMask ? allowed : null);
        var actual = ToArray(y);
        var worst = 0.0;
        for (var i = 0; i < 2; i++) for (var j = 0; j < 3; j++) for (var r = 0; r < 5; r++) for (var e = 0; e < 8; e++)
            worst = Math.Max(worst, Math.Abs(expected[i, j, r, e] - actual[i, j, r, e]));
        // Inputs are exact bf16 values; the output is rounded to bf16 (8 bits of mantissa) and |y| < 3.
        Assert.InRange(worst, 0, 0.03);
    }

    [Fact]
    public void BFloat16AttentionGradientsFollowTheFloat32Ones()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(5);
        var q32 = randn([2, 2, 6, 8], generator: g).requires_grad_();
        var k32 = randn([2, 2, 6, 8], generator: g).requires_grad_();
        var v32 = randn([2, 2, 6, 8], generator: g).requires_grad_();
        var mask = tensor(new[] { true, true, true, true, false, false, true, true, true, true, true, true }).view(2, 1, 1, 6);
        var weights = randn([2, 2, 6, 8], generator: g);
        Autocast.Attention(q32, k32, v32, mask).mul(weights).sum().backward();
        var q16 = q32.detach().to(ScalarType.BFloat16).requires_grad_();
        var k16 = k32.detach().to(ScalarType.BFloat16).requires_grad_();
        var v16 = v32.detach().to(ScalarType.BFloat16).requires_grad_();
        Autocast.Attention(q16, k16, v16, mask).to(ScalarType.Float32).mul(weights).sum().backward();
        foreach (var (a, b) in new[] { (q32, q16), (k32, k16), (v32, v16) })
        {
            var diff = (a.grad!.to(ScalarType.Float32) - b.grad!.to(ScalarType.Float32)).abs().max().item<float>();
            var scale = a.grad!.abs().max().item<float>();
            Assert.InRange(diff / scale, 0, 0.05);
        }
        // Masked keys get no gradient at all.
        Assert.Equal(0f, k16.grad![0, .., 4..].abs().sum().to(ScalarType.Float32).item<float>());
    }

    [Fact]
    public void PatchProductUnderAutocastMatchesTheFloat32Convolution()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var config = new VisionConfig { ImageSize = 32, PatchSize = 8, Width = 64, Layers = 1, Heads = 2 };
        using var tower = new VisionTransformer(config, 16);
        var images = randn([3, 3, 32, 32], generator: new Generator(2));
        using var _ = no_grad();
        var full = tower.ForwardTokens(images);
        Tensor low;
        using (Autocast.Enable(ScalarType.BFloat16)) low = tower.ForwardTokens(images);
        // Everything after the stem also runs its products in bf16, so compare at bf16 resolution: the
        // layer-normed tokens are O(1) and bf16 keeps ~3 significant digits.
        var diff = (full - low.to(ScalarType.Float32)).abs();
        Assert.InRange(diff.mean().item<float>(), 0, 0.02);
        Assert.InRange(diff.max().item<float>(), 0, 0.25);
    }

    [Fact]
    public void CachedWeightCastsGiveTheSameFeaturesAndAreMadeOnce()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var model = new DualEncoder(Tuwen.Tests.Training.ResumeTests.Micro);
        model.eval();
        var images = randn([2, 3, 16, 16], generator: new Generator(1));
        var ids = tensor(new long[] { 101, 105, 106, 102, 0, 0, 0, 0, 101, 110, 102, 0, 0, 0, 0, 0 }, [2, 8]);
        using var _ = no_grad();
        Tensor freshImage, freshText;
        using (Autocast.Enable(ScalarType.BFloat16)) { freshImage = model.EncodeImage(images); freshText = model.EncodeText(ids); }
        using var weights = new WeightCastCache();
        for (var round = 0; round < 2; round++)
        {
            using (Autocast.Enable(ScalarType.BFloat16, weights))
            {
                Assert.True(model.EncodeImage(images).equal(freshImage).all().item<bool>());
                Assert.True(model.EncodeText(ids).equal(freshText).all().item<bool>());
            }
        }
        var first = weights.Get(model.named_parameters().First(p => p.name.EndsWith("c_fc.weight", StringComparison.Ordinal)).parameter, ScalarType.BFloat16);
        var again = weights.Get(model.named_parameters().First(p => p.name.EndsWith("c_fc.weight", StringComparison.Ordinal)).parameter, ScalarType.BFloat16);
        Assert.Same(first, again);
        Assert.Equal(ScalarType.BFloat16, first.dtype);
    }

    [Fact]
    public void BertSelfAttentionProjectsTheSameWithOneProductAsWithThree()
    {
        using var scope = NewDisposeScope();
        manual_seed(9);
        using var layer = new CrossEncoderAttention(32, 32, 4);
        var x = randn([2, 6, 32], generator: new Generator(8));
        var mask = tensor(new[] { true, true, true, true, false, false, true, true, true, true, true, true }).view(2, 1, 1, 6);
        var fused = layer.forward(x, x, mask);                  // training: one stacked product
        Tensor separate;
        using (var weights = new WeightCastCache())
        using (no_grad())
        using (Autocast.Enable(null, weights))
        {
            Assert.True(Autocast.CachingWeights);
            separate = layer.forward(x, x, mask);               // inference with a weight cache: three products
        }
        Assert.False(Autocast.CachingWeights);
        Assert.InRange((fused - separate).abs().max().item<float>(), 0, 1e-5f);
        fused.sum().backward();
        Assert.All(layer.named_parameters().Where(p => p.name.StartsWith("query", StringComparison.Ordinal) || p.name.StartsWith("value", StringComparison.Ordinal)),
            p => Assert.True(p.parameter.grad!.abs().sum().item<float>() > 0, $"{p.name} got no gradient"));
    }
}
