using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>nn.Linear whose product honours <see cref="Autocast"/>; parameters named weight/bias like torch's.</summary>
public sealed class AutocastLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public AutocastLinear(long inFeatures, long outFeatures, bool hasBias = true, double std = 0.02) : base(nameof(AutocastLinear))
    {
        weight = nn.Parameter(empty(outFeatures, inFeatures));
        bias = hasBias ? nn.Parameter(zeros(outFeatures)) : null;
        using (no_grad()) nn.init.normal_(weight, 0, std);
        RegisterComponents();
    }

    public Parameter Weight => weight;
    public Parameter? Bias => bias;

    public override Tensor forward(Tensor input) => Autocast.Linear(input, weight, bias);
}

/// <summary>Multi-head self-attention with a fused input projection (OpenAI-CLIP parameter names).</summary>
public sealed class SelfAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly Parameter in_proj_weight;
    private readonly Parameter in_proj_bias;
    private readonly AutocastLinear out_proj;
    private readonly int heads;

    public SelfAttention(int width, int heads, double inStd, double outStd) : base(nameof(SelfAttention))
    {
        this.heads = heads;
        in_proj_weight = nn.Parameter(empty(3 * width, width));
        in_proj_bias = nn.Parameter(zeros(3 * width));
        out_proj = new AutocastLinear(width, width, true, outStd);
        using (no_grad()) nn.init.normal_(in_proj_weight, 0, inStd);
        RegisterComponents();
    }

    /// <param name="x">[B, L, W]</param>
    /// <param name="keyMask">bool [B,1,1,L], true where a key may be attended to; null = all.</param>
    public override Tensor forward(Tensor x, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], l = x.shape[1], w = x.shape[2];
        var qkv = Autocast.Linear(x, in_proj_weight, in_proj_bias)
            .view(b, l, 3, heads, w / heads).permute(2, 0, 3, 1, 4);
        var y = Autocast.Attention(qkv[0], qkv[1], qkv[2], keyMask);
        return out_proj.forward(y.transpose(1, 2).reshape(b, l, w)).MoveToOuterDisposeScope();
    }
}
