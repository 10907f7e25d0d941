using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Training;

/// <summary>
/// One AdamW update of one parameter in a single pass over memory. The same update written as tensor ops
/// (decay, two moment updates, sqrt, divide, add, addcdiv) streams every parameter-sized array about twenty
/// times; for a ViT-B/16 + BERT-base (150 M parameters) that is ~12 GB a step, a tenth of a bf16 training step
/// at small batch on two cores. Here each element of p, g, m, v is read once and p, m, v written once,
/// vectorised and split across cores. The arithmetic is the tensor version's, operation for operation.
/// </summary>
internal static class AdamWKernel
{
    /// <summary>Hyper-parameters of one step, in float32 as the tensor ops see them.</summary>
    public readonly record struct Coefficients(float DecayFactor, float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2,
        float SqrtBiasCorrection2, float Eps, float StepSize);

    /// <summary>True when the four tensors are dense float32 in CPU memory, as the kernel needs; anything else
    /// (a CUDA parameter above all: its storage is not host memory) takes the tensor-op path.</summary>
    public static bool Fits(Tensor p, Tensor g, Tensor m, Tensor v) =>
        new[] { p, g, m, v }.All(t => Supports(t.dtype, t.device_type, t.is_contiguous()))
        && g.numel() == p.numel() && m.numel() == p.numel() && v.numel() == p.numel();

    /// <summary>Whether the kernel can read and write one tensor of this kind through a raw pointer.</summary>
    public static bool Supports(ScalarType dtype, DeviceType device, bool contiguous) =>
        dtype == ScalarType.Float32 && device == DeviceType.CPU && contiguous;

    public static unsafe void Step(Tensor p, Tensor g, Tensor m, Tensor v, bool decay, Coefficients c)
    {
        var n = p.numel();
        float* pp = Pointer(p), gp = Pointer(g), mp = Pointer(m), vp = Pointer(v);
        // Small tensors in one go; large ones in 64K-element blocks over the thread pool (memory-bound work
        // gains from a second core's bandwidth, not from more blocks than cores).
        const long block = 1 << 16;
        if (n <= 4 * block) { Run(pp, gp, mp, vp, 0, n, decay, c); return; }
        var blocks = (n + block - 1) / block;
        Parallel.For(0L, blocks, b =>
        {
            var start = b * block;
            Run(pp, gp, mp, vp, start, Math.Min(n, start + block), decay, c);
        });
    }

    private static unsafe float* Pointer(Tensor t) => (float*)t.storage<float>().data_ptr() + t.storage_offset();

    private static unsafe void Run(float* p, float* g, float* m, float* v, long start, long end, bool decay, Coefficients c)
    {
        var i = start;
        // 256-bit vectors: the update is memory-bound, so wider registers buy nothing (and Zen 4 splits them).
        if (Vector256.IsHardwareAccelerated)
        {
            var decayFactor = Vector256.Create(c.DecayFactor);
            Vector256<float> b1 = Vector256.Create(c.Beta1), a1 = Vector256.Create(c.OneMinusBeta1), b2 = Vector256.Create(c.Beta2),
                a2 = Vector256.Create(c.OneMinusBeta2), sq = Vector256.Create(c.SqrtBiasCorrection2), eps = Vector256.Create(c.Eps),
                step = Vector256.Create(c.StepSize);
            for (; i + Vector256<float>.Count <= end; i += Vector256<float>.Count)
            {
                var pv = Vector256.Load(p + i);
                var gv = Vector256.Load(g + i);
                if (decay) pv *= decayFactor;
                var mv = Vector256.Load(m + i) * b1 + gv * a1;
                var vv = Vector256.Load(v + i) * b2 + gv * gv * a2;
                var denom = Vector256.Sqrt(vv) / sq + eps;
                pv += step * (mv / denom);
                mv.Store(m + i); vv.Store(v + i); pv.Store(p + i);
            }
        }
        for (; i < end; i++)
        {
            var pi = decay ? p[i] * c.DecayFactor : p[i];
            var mi = m[i] * c.Beta1 + g[i] * c.OneMinusBeta1;
            var vi = v[i] * c.Beta2 + g[i] * g[i] * c.OneMinusBeta2;
            p[i] = pi + c.StepSize * (mi / (MathF.Sqrt(vi) / c.SqrtBiasCorrection2 + c.Eps));
            m[i] = mi; v[i] = vi;
        }
    }
}
