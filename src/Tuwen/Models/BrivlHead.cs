using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// torch.nn.TransformerEncoderLayer as BriVL uses it (PyTorch defaults): post-LN, ReLU feed-forward, LN eps
/// 1e-5, parameter names self_attn.in_proj_weight / out_proj, linear1, linear2, norm1, norm2. No dropout (none
/// of Tuwen's towers use it; BriVL's 0.1 only matters for its long runs).
/// </summary>
public sealed class PostNormEncoderLayer : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly SelfAttention self_attn;
    private readonly AutocastLinear linear1;
    private readonly AutocastLinear linear2;
    private readonly LayerNorm norm1;
    private readonly LayerNorm norm2;

    public PostNormEncoderLayer(int width, int heads, int feedForward) : base(nameof(PostNormEncoderLayer))
    {
        var std = Math.Pow(width, -0.5);
        self_attn = new SelfAttention(width, heads, std, std);
        linear1 = new AutocastLinear(width, feedForward, true, std);
        linear2 = new AutocastLinear(feedForward, width, true, Math.Pow(feedForward, -0.5));
        norm1 = nn.LayerNorm(width, eps: 1e-5);
        norm2 = nn.LayerNorm(width, eps: 1e-5);
        RegisterComponents();
    }

    /// <param name="keyMask">bool [B,1,1,L], true where a slot may be attended to; null = all.</param>
    public override Tensor forward(Tensor x, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        x = norm1.forward(Scalars.Add(x, self_attn.forward(x, keyMask)));
        x = norm2.forward(Scalars.Add(x, linear2.forward(nn.functional.relu(linear1.forward(x)))));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The head BriVL puts on both backbones: a small post-LN transformer over the (L2-normalised) region or token
/// features with a key-padding mask, a masked mean over the valid slots, and a 2-layer MLP (fc1 → ReLU → fc2)
/// into the joint space. The transformer's feed-forward and the MLP share one hidden size (2048 in BriVL).
/// </summary>
public sealed class BrivlHead : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly ModuleList<PostNormEncoderLayer> layers = new();
    private readonly AutocastLinear fc1;
    private readonly AutocastLinear fc2;

    public BrivlHead(int width, int layerCount, int heads, int hidden, int outputDim, string side) : base(nameof(BrivlHead))
    {
        if (layerCount < 1) throw new TuwenException($"{side}.head_layers must be at least 1 for a brivl tower, got {layerCount}");
        if (heads < 1 || width % heads != 0) throw new TuwenException($"{side}.head_heads ({heads}) must divide the head's width {width}");
        if (hidden < 1) throw new TuwenException($"{side}.head_hidden must be positive for a brivl tower, got {hidden}");
        for (var i = 0; i < layerCount; i++) layers.Add(new PostNormEncoderLayer(width, heads, hidden));
        fc1 = new AutocastLinear(width, hidden, true, Math.Pow(width, -0.5));
        fc2 = new AutocastLinear(hidden, outputDim, true, Math.Pow(hidden, -0.5));
        RegisterComponents();
    }

    /// <summary>The transformer's outputs [B, L, width]; <paramref name="valid"/> is bool [B, L] (null = all valid).</summary>
    public Tensor Tokens(Tensor x, Tensor? valid)
    {
        using var scope = NewDisposeScope();
        var keyMask = valid?.view(valid.shape[0], 1, 1, valid.shape[1]);
        return LayerChain.Run(layers, x, keyMask).MoveToOuterDisposeScope();
    }

    /// <summary>Σ_l m_l x_l / Σ_l m_l over dim 1 (BriVL's pooling); a row with no valid slot gives zeros.</summary>
    public static Tensor MaskedMean(Tensor x, Tensor? valid)
    {
        if (valid is null) return x.mean([1]);
        using var scope = NewDisposeScope();
        var m = valid.to(x.dtype).unsqueeze(-1);                               // [B, L, 1]
        var total = x.mul(m).sum(1);
        return total.div(m.sum(1).clamp_min(Scalars.One)).MoveToOuterDisposeScope();
    }

    /// <summary>MLP of the masked mean: [B, L, width] → [B, output].</summary>
    public Tensor Output(Tensor tokens, Tensor? valid)
    {
        using var scope = NewDisposeScope();
        var pooled = MaskedMean(tokens, valid);
        return fc2.forward(nn.functional.relu(fc1.forward(pooled))).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x, Tensor? valid)
    {
        using var scope = NewDisposeScope();
        return Output(Tokens(x, valid), valid).MoveToOuterDisposeScope();
    }
}
