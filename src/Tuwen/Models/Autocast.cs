using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// TorchSharp has no torch.autocast, so we make our own for the one thing it buys on CPU: matrix
/// products in bfloat16 (AMX/oneDNN run them 3–5× faster than fp32) while parameters, the residual
/// stream, norms, softmax-in-loss and optimizer state stay float32. Layers route their matmuls through
/// <see cref="Linear"/> and <see cref="Attention"/>; inside a <c>using (Autocast.Enable(ScalarType.BFloat16))</c>
/// scope they cast inputs and weights down and the result back up. Gradients flow through the casts.
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

    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias)
    {
        if (current is not { } dt || input.dtype == dt && weight.dtype == dt)
            return nn.functional.linear(input, weight, bias);
        using var x = input.to(dt);
        using var w = weight.to(dt);
        using var b = bias?.to(dt);
        using var y = nn.functional.linear(x, w, b);
        return y.to(input.dtype);
    }

    /// <summary>Scaled dot-product attention; keyMask is bool [B,1,1,L] (true = attend) or null.</summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? keyMask)
    {
        if (current is not { } dt)
            return nn.functional.scaled_dot_product_attention(q, k, v, keyMask);
        using var q2 = q.to(dt);
        using var k2 = k.to(dt);
        using var v2 = v.to(dt);
        using var y = nn.functional.scaled_dot_product_attention(q2, k2, v2, keyMask);
        return y.to(q.dtype);
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
