using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>A pre-norm transformer block: x + attn(ln_1 x), then x + mlp(ln_2 x) (CLIP's ResidualAttentionBlock).</summary>
public sealed class PreNormBlock : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly LayerNorm ln_1;
    private readonly SelfAttention attn;
    private readonly LayerNorm ln_2;
    private readonly Mlp mlp;

    public PreNormBlock(int width, int heads, int hidden, int depth, bool quickGelu = false) : base(nameof(PreNormBlock))
    {
        // CLIP's init: residual branches scaled down with depth so the stream starts near identity.
        double attnStd = Math.Pow(width, -0.5), projStd = attnStd * Math.Pow(2 * depth, -0.5), fcStd = Math.Pow(2 * width, -0.5);
        ln_1 = nn.LayerNorm(width);
        attn = new SelfAttention(width, heads, attnStd, projStd);
        ln_2 = nn.LayerNorm(width);
        mlp = new Mlp(width, hidden, fcStd, projStd, quickGelu);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        x = Scalars.Add(x, attn.forward(ln_1.forward(x), keyMask));
        x = Scalars.Add(x, mlp.forward(ln_2.forward(x)));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>Linear → GELU (or QuickGELU) → Linear (c_fc / c_proj as in CLIP).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly AutocastLinear c_fc;
    private readonly AutocastLinear c_proj;

    private readonly bool quickGelu;

    public Mlp(int width, int hidden, double fcStd, double projStd, bool quickGelu = false) : base(nameof(Mlp))
    {
        this.quickGelu = quickGelu;
        c_fc = new AutocastLinear(width, hidden, true, fcStd);
        c_proj = new AutocastLinear(hidden, width, true, projStd);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var h = c_fc.forward(x);
        using var g = quickGelu ? QuickGelu(h) : nn.functional.gelu(h);
        return c_proj.forward(g);
    }

    /// <summary>x·σ(1.702x): the sigmoid approximation of GELU that CLIP-family ViT weights were trained with.</summary>
    public static Tensor QuickGelu(Tensor x)
    {
        using var k = 1.702.ToScalar();
        using var kx = x.mul(k);
        using var gate = kx.sigmoid_();
        return x.mul(gate);
    }
}

/// <summary>Runs layers in sequence, freeing each intermediate activation as soon as the next exists
/// (each layer checkpointed when <see cref="ActivationCheckpoint"/> is enabled).</summary>
internal static class LayerChain
{
    public static Tensor Run<TLayer>(IEnumerable<TLayer> layers, Tensor x, Tensor? keyMask) where TLayer : nn.Module<Tensor, Tensor?, Tensor>
    {
        var h = x;
        foreach (var layer in layers)
        {
            var next = ActivationCheckpoint.Run(layer, layer.forward, h, keyMask);
            if (!ReferenceEquals(h, x)) h.Dispose();
            h = next;
        }
        return ReferenceEquals(h, x) ? x.alias() : h;
    }
}

/// <summary>Stack of pre-norm blocks, named transformer.resblocks.N like CLIP.</summary>
public sealed class PreNormTransformer : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly ModuleList<PreNormBlock> resblocks = new();

    public PreNormTransformer(int width, int layers, int heads, int hidden, bool quickGelu = false) : base(nameof(PreNormTransformer))
    {
        for (var i = 0; i < layers; i++) resblocks.Add(new PreNormBlock(width, heads, hidden, layers, quickGelu));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? keyMask) => LayerChain.Run(resblocks, x, keyMask);
}

/// <summary>
/// ViT image tower (CLIP layout): patch embedding (conv, no bias), class token, learned positions,
/// ln_pre, pre-norm blocks, ln_post on the class token, projection to the joint space.
/// </summary>
public sealed class VisionTransformer : ImageTower
{
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly Parameter class_embedding;
    private readonly Parameter positional_embedding;
    private readonly LayerNorm ln_pre;
    private readonly PreNormTransformer transformer;
    private readonly LayerNorm ln_post;
    private readonly Parameter proj;
    private readonly int width;
    private readonly int grid;

    public VisionTransformer(VisionConfig c, int embedDim) : base(nameof(VisionTransformer))
    {
        width = c.Width;
        grid = c.ImageSize / c.PatchSize;
        double scale = Math.Pow(width, -0.5);
        conv1 = c.Stem switch
        {
            "patch" => nn.Conv2d(3, width, c.PatchSize, stride: c.PatchSize, bias: false),
            "conv" => new ConvStem(c.PatchSize, width),
            _ => throw new TuwenException($"unknown vision.stem '{c.Stem}' (patch or conv)"),
        };
        class_embedding = nn.Parameter(randn(width) * scale);
        positional_embedding = nn.Parameter(randn(grid * grid + 1, width) * scale);
        ln_pre = nn.LayerNorm(width);
        transformer = new PreNormTransformer(width, c.Layers, c.Heads, (int)(width * c.MlpRatio), c.Activation == "quick_gelu");
        ln_post = nn.LayerNorm(width);
        proj = nn.Parameter(randn(width, embedDim) * scale);
        RegisterComponents();
    }

    /// <summary>All output tokens after ln_post, [B, 1+N, width] (class token first).</summary>
    public override Tensor ForwardTokens(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = Autocast.Current is not null && conv1 is Conv2d patch ? PatchProduct(images, patch.weight!)
            : conv1.forward(images).flatten(2).transpose(1, 2);            // [B, N, W]
        var cls = class_embedding.view(1, 1, width).expand(x.shape[0], 1, width);
        x = Scalars.Add(cat([cls, x], 1), positional_embedding);
        x = transformer.forward(ln_pre.forward(x), null);
        return ln_post.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The patch convolution as the product it is (stride = kernel): under autocast this runs in bfloat16 like
    /// every other product, where a float32 convolution (im2col + float32 GEMM) would not.
    /// </summary>
    private Tensor PatchProduct(Tensor images, Tensor weight)
    {
        long b = images.shape[0], p = weight.shape[2], c = weight.shape[1];
        using var patches = images.reshape(b, c, grid, p, grid, p).permute(0, 2, 4, 1, 3, 5).reshape(b, grid * grid, c * p * p);
        return Autocast.Linear(patches, weight.view(width, c * p * p), null);
    }

    public override (int Height, int Width) TokenGrid => (grid, grid);

    public override Tensor PatchEmbeddings(Tensor images)
    {
        using var scope = NewDisposeScope();
        var tokens = ForwardTokens(images);
        return Autocast.Linear(tokens[.., 1..], proj.t(), null).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var tokens = ForwardTokens(images);
        return Autocast.Linear(tokens[.., 0], proj.t(), null).MoveToOuterDisposeScope();
    }
}
