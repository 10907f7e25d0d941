using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// TorchSharp has no torch.autocast, so we make our own for the one thing it buys on CPU: matrix
/// products in bfloat16 (AMX/oneDNN run them 3–5× faster than fp32) while parameters, the residual
/// stream, norms, softmax-in-loss and optimizer state stay float32. Layers route their matmuls through
/// <see cref="Linear"/>; inside a <c>using (Autocast.Enable(ScalarType.BFloat16))</c> scope it casts
/// inputs and weights down, and results rejoin float32 at the residual adds and at the towers' outputs.
/// Gradients flow through the casts.
/// </summary>
public static class Autocast
{
    [ThreadStatic] private static ScalarType? current;
    [ThreadStatic] private static WeightCastCache? cache;

    public static ScalarType? Current => current;

    /// <summary>Inference with a <see cref="WeightCastCache"/>: parameters are read through the cache.</summary>
    public static bool CachingWeights => cache is not null && !is_grad_enabled();

    /// <param name="weights">Where inference keeps its low-precision copies of the parameters between calls
    /// (see <see cref="WeightCastCache"/>); null casts them afresh at every use, as training must.</param>
    public static IDisposable Enable(ScalarType? dtype, WeightCastCache? weights = null)
    {
        var previous = (current, cache);
        current = dtype;
        cache = weights;
        return new Restore(previous);
    }

    /// <summary>
    /// x·Wᵀ + b. Under autocast the result stays in the low precision: the next linear layer (after GELU)
    /// takes it without another cast, and a residual add promotes it back to float32 by type promotion —
    /// 10 % faster a step than casting every output back.
    /// </summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias)
    {
        if (current is not { } dt || input.dtype == dt && weight.dtype == dt)
            return nn.functional.linear(input, weight, bias);
        if (CachingWeights && weight is Parameter pw && bias is null or Parameter)
        {
            var w = cache!.Get(pw, dt);
            var b = bias is Parameter pb ? cache.Get(pb, dt) : null;
            if (input.dtype == dt) return nn.functional.linear(input, w, b);
            using var x = input.to(dt);
            return nn.functional.linear(x, w, b);
        }
        using var wFresh = weight.to(dt);
        using var bFresh = bias?.to(dt);
        if (input.dtype == dt) return nn.functional.linear(input, wFresh, bFresh);
        using var xFresh = input.to(dt);
        return nn.functional.linear(xFresh, wFresh, bFresh);
    }

    /// <summary>
    /// Scaled dot-product attention. float32 inputs take libtorch's fused (flash) kernel. bfloat16 inputs — the
    /// q/k/v projections' outputs under autocast — stay in bfloat16 for the two batched products, with the
    /// softmax in float32 (as torch.autocast does), spelled out: libtorch's fused CPU kernel has a slow bfloat16
    /// backward (measured on the tiny model at batch 256: a 2.2× slower backward pass), and the float32 round
    /// trip costs 13 % more CPU a step than this path. The same path runs with and without gradients, so a
    /// checkpointed block (forward without a graph, recomputed with one) and inference see the numbers
    /// training saw. keyMask is bool [B,1,1,L] (true = attend) or null.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? keyMask)
    {
        if (q.dtype == ScalarType.Float32) return nn.functional.scaled_dot_product_attention(q, k, v, keyMask);
        using var scale = (1.0 / Math.Sqrt(q.shape[^1])).ToScalar();
        using var qs = q.mul(scale);
        using var kt = k.transpose(-2, -1);
        using var scores = qs.matmul(kt);
        using var notAllowed = keyMask?.logical_not();
        using var masked = notAllowed is null ? scores.alias() : scores.masked_fill(notAllowed, double.NegativeInfinity);
        using var p = masked.softmax(-1, ScalarType.Float32);
        using var pLow = p.to(q.dtype);
        return pLow.matmul(v);
    }

    public static ScalarType? Parse(string precision) => precision switch
    {
        "fp32" => null,
        "bf16" => ScalarType.BFloat16,
        _ => throw new TuwenException($"unknown precision '{precision}' (use fp32 or bf16)"),
    };

    private sealed class Restore((ScalarType? Dtype, WeightCastCache? Cache) previous) : IDisposable
    {
        public void Dispose() => (current, cache) = previous;
    }
}
