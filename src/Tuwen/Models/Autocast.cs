using TorchSharp;
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

    public static ScalarType? Current => current;

    public static IDisposable Enable(ScalarType? dtype)
    {
        var previous = current;
        current = dtype;
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
        using var w = weight.to(dt);
        using var b = bias?.to(dt);
        if (input.dtype == dt) return nn.functional.linear(input, w, b);
        using var x = input.to(dt);
        return nn.functional.linear(x, w, b);
    }

    /// <summary>
    /// Scaled dot-product attention, always in the inputs' own precision (float32): libtorch's CPU
    /// attention backward in bfloat16 measured slower than in float32 (392 vs 222 ms a step for the tiny
    /// model at batch 256), so only the linear layers take the bfloat16 path.
    /// keyMask is bool [B,1,1,L] (true = attend) or null.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? keyMask)
    {
        if (q.dtype == ScalarType.Float32) return nn.functional.scaled_dot_product_attention(q, k, v, keyMask);
        using var q32 = q.to(ScalarType.Float32);
        using var k32 = k.to(ScalarType.Float32);
        using var v32 = v.to(ScalarType.Float32);
        return nn.functional.scaled_dot_product_attention(q32, k32, v32, keyMask);
    }

    public static ScalarType? Parse(string precision) => precision switch
    {
        "fp32" => null,
        "bf16" => ScalarType.BFloat16,
        _ => throw new TuwenException($"unknown precision '{precision}' (use fp32 or bf16)"),
    };

    private sealed class Restore(ScalarType? previous) : IDisposable
    {
        public void Dispose() => current = previous;
    }
}
