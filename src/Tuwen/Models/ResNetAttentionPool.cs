using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// CLIP's AttentionPool2d: the feature map's cells become tokens, their mean is prepended, a learned
/// positional embedding is added to all of them, and one multi-head attention with the mean token as the only
/// query pools the map; c_proj maps the result to the output size. Parameter names follow CLIP
/// (positional_embedding, q_proj, k_proj, v_proj, c_proj).
/// </summary>
public sealed class AttentionPool2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter positional_embedding;
    private readonly AutocastLinear k_proj;
    private readonly AutocastLinear q_proj;
    private readonly AutocastLinear v_proj;
    private readonly AutocastLinear c_proj;
    private readonly int heads;
    private readonly int spatial;

    public AttentionPool2d(int spatialSide, int embedDim, int heads, int outputDim) : base(nameof(AttentionPool2d))
    {
        if (embedDim % heads != 0) throw new TuwenException($"the ResNet's output channels ({embedDim}) must be a multiple of vision.heads ({heads})");
        this.heads = heads;
        spatial = spatialSide * spatialSide;
        var std = Math.Pow(embedDim, -0.5);   // CLIP's init for all four projections: std = in_features^-0.5
        positional_embedding = nn.Parameter(randn(spatial + 1, embedDim) * std);
        k_proj = new AutocastLinear(embedDim, embedDim, true, std);
        q_proj = new AutocastLinear(embedDim, embedDim, true, std);
        v_proj = new AutocastLinear(embedDim, embedDim, true, std);
        c_proj = new AutocastLinear(embedDim, outputDim, true, std);
        RegisterComponents();
    }

    /// <summary>
    /// [B, 1+H·W, C] before c_proj: first the attention-pooled token, then every cell's value projection
    /// (v_proj of the cell plus its position). c_proj of the first is the pooled output; c_proj of the others
    /// gives dense per-cell features in the same space (the "value tokens" trick, since with one query the pooled
    /// output is just an attention-weighted mix of these values followed by c_proj).
    /// </summary>
    public Tensor Tokens(Tensor map)
    {
        using var scope = NewDisposeScope();
        long b = map.shape[0], c = map.shape[1];
        var cells = map.flatten(2).transpose(1, 2);                          // [B, HW, C]
        if (cells.shape[1] != spatial)
            throw new TuwenException($"attention pooling was built for {spatial} cells, the feature map has {cells.shape[1]} (image size differs from the config?)");
        var x = Scalars.Add(cat([cells.mean([1], keepdim: true), cells], 1), positional_embedding);   // [B, 1+HW, C]
        long d = c / heads, l = x.shape[1];
        var q = q_proj.forward(x.narrow(1, 0, 1)).view(b, 1, heads, d).transpose(1, 2);
        var k = k_proj.forward(x).view(b, l, heads, d).transpose(1, 2);
        var v = v_proj.forward(x);
        var pooled = Autocast.Attention(q, k, v.view(b, l, heads, d).transpose(1, 2), null).transpose(1, 2).reshape(b, 1, c);
        var values = v.narrow(1, 1, l - 1);
        if (values.dtype != pooled.dtype) values = values.to(pooled.dtype);
        return cat([pooled, values], 1).MoveToOuterDisposeScope();
    }

    /// <summary>c_proj: tokens from <see cref="Tokens"/> into the output space.</summary>
    public Tensor Project(Tensor tokens) => c_proj.forward(tokens);

    public override Tensor forward(Tensor map)
    {
        using var scope = NewDisposeScope();
        var tokens = Tokens(map);
        return Project(tokens.select(1, 0)).MoveToOuterDisposeScope();
    }
}
