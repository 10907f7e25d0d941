using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Training;

/// <summary>
/// AdamW with decoupled weight decay (Loshchilov &amp; Hutter) over named parameters. Our own rather than
/// TorchSharp's so the moments are plain named tensors a checkpoint saves and a resume restores exactly.
/// Decay applies to matrices only: biases, norms, embeddings and the temperature are excluded (CLIP's rule).
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly List<(string Name, Parameter P, Tensor M, Tensor V, bool Decay)> slots = new();
    private readonly double beta1, beta2, eps, weightDecay;

    public AdamW(IEnumerable<(string Name, Parameter Parameter)> parameters, double beta1, double beta2, double eps, double weightDecay)
    {
        this.beta1 = beta1; this.beta2 = beta2; this.eps = eps; this.weightDecay = weightDecay;
        foreach (var (name, p) in parameters)
        {
            if (!p.requires_grad) continue;
            slots.Add((name, p, zeros_like(p), zeros_like(p), Decays(name, p)));
        }
    }

    public long StepCount { get; private set; }

    /// <summary>Update dense float32 CPU parameters in one pass (<see cref="AdamWKernel"/>); false runs the
    /// same arithmetic as tensor ops (other devices and layouts always do).</summary>
    public bool Fused { get; init; } = true;
    public IEnumerable<Parameter> Parameters => slots.Select(s => s.P);

    public static bool Decays(string name, Tensor p) => p.dim() >= 2 && !name.Contains("embedding", StringComparison.Ordinal);

    public void ZeroGrad()
    {
        foreach (var s in slots) s.P.grad?.zero_();
    }

    public void Step(double lr)
    {
        StepCount++;
        double bc1 = 1 - Math.Pow(beta1, StepCount), bc2 = 1 - Math.Pow(beta2, StepCount);
        using var _ = no_grad();
        // Explicit Scalars held by `using` (see Models.Scalars for why never implicit ones).
        using Scalar decayFactor = (1 - lr * weightDecay).ToScalar(), b1 = beta1.ToScalar(), oneMinusB1 = (1 - beta1).ToScalar(),
            b2 = beta2.ToScalar(), oneMinusB2 = (1 - beta2).ToScalar(), sqrtBc2 = Math.Sqrt(bc2).ToScalar(),
            epsilon = eps.ToScalar(), stepSize = (-lr / bc1).ToScalar();
        var coefficients = new AdamWKernel.Coefficients((float)(1 - lr * weightDecay), (float)beta1, (float)(1 - beta1), (float)beta2,
            (float)(1 - beta2), (float)Math.Sqrt(bc2), (float)eps, (float)(-lr / bc1));
        foreach (var (_, p, m, v, decay) in slots)
        {
            var g = p.grad;
            if (g is null) continue;
            if (Fused && AdamWKernel.Fits(p, g, m, v))
            {
                AdamWKernel.Step(p, g, m, v, decay && weightDecay > 0, coefficients);
                continue;
            }
            if (decay && weightDecay > 0) p.mul_(decayFactor);
            m.mul_(b1).add_(g, alpha: oneMinusB1);
            v.mul_(b2).addcmul_(g, g, value: oneMinusB2);
            using var denom = v.sqrt().div_(sqrtBc2).add_(epsilon);
            p.addcdiv_(m, denom, value: stepSize);
        }
    }

    /// <summary>
    /// Scales all gradients so their global L2 norm is at most <paramref name="maxNorm"/> (0 = no clipping);
    /// returns the norm before clipping. Ours instead of nn.utils.clip_grad_norm_, which makes implicit Scalars.
    /// </summary>
    public double ClipGradNorm(double maxNorm)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var grads = slots.Select(s => s.P.grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return 0;
        // Per-tensor norms read each gradient once (squaring first would write a gradient-sized temporary).
        var total = stack(grads.Select(g => g.norm())).square().sum().sqrt().item<float>();
        if (maxNorm > 0 && total > maxNorm)
        {
            using var factor = (maxNorm / (total + 1e-6)).ToScalar();
            foreach (var g in grads) g.mul_(factor);
        }
        return total;
    }

    public Dictionary<string, Tensor> State()
    {
        var d = new Dictionary<string, Tensor> { ["adamw.step"] = tensor(StepCount) };
        foreach (var s in slots)
        {
            d["adamw.exp_avg." + s.Name] = s.M;
            d["adamw.exp_avg_sq." + s.Name] = s.V;
        }
        return d;
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        if (!state.TryGetValue("adamw.step", out var step)) throw new TuwenException("checkpoint has no optimizer state (adamw.step)");
        StepCount = step.item<long>();
        using var _ = no_grad();
        foreach (var s in slots)
        {
            if (!state.TryGetValue("adamw.exp_avg." + s.Name, out var m) || !state.TryGetValue("adamw.exp_avg_sq." + s.Name, out var v))
                throw new TuwenException($"checkpoint optimizer state lacks parameter {s.Name}");
            s.M.copy_(m);
            s.V.copy_(v);
        }
    }

    public void Dispose()
    {
        foreach (var s in slots) { s.M.Dispose(); s.V.Dispose(); }
        slots.Clear();
    }
}

/// <summary>Linear warm-up from 0 to the peak, then cosine decay to the floor at the last step.</summary>
public sealed record LrSchedule(double Peak, double Floor, int WarmupSteps, int TotalSteps)
{
    public double At(long step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        var span = Math.Max(1, TotalSteps - WarmupSteps);
        var progress = Math.Min(1.0, (double)(step - WarmupSteps) / span);
        return Floor + 0.5 * (Peak - Floor) * (1 + Math.Cos(Math.PI * progress));
    }
}
