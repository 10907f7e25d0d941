using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>Swin's patch embedding: a patch_size-strided convolution (with bias) and a LayerNorm over channels.</summary>
public sealed class SwinPatchEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d proj;
    private readonly LayerNorm norm;

    public SwinPatchEmbedding(int patchSize, int width) : base(nameof(SwinPatchEmbedding))
    {
        proj = nn.Conv2d(3, width, patchSize, stride: patchSize);
        norm = nn.LayerNorm(width);
        RegisterComponents();
    }

    /// <summary>[B,3,H,W] → [B, (H/p)·(W/p), width], row-major.</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return norm.forward(proj.forward(images).flatten(2).transpose(1, 2)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Halves the grid and doubles the width between stages: each 2×2 neighbourhood's four C-vectors are
/// concatenated (order (0,0), (1,0), (0,1), (1,1) as (row, column) offsets, as the reference does) →
/// LayerNorm(4C) → Linear(4C → 2C, no bias).
/// </summary>
public sealed class SwinPatchMerging : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm;
    private readonly AutocastLinear reduction;
    private readonly int height, width;

    public SwinPatchMerging(int dim, int height, int width) : base(nameof(SwinPatchMerging))
    {
        if (height % 2 != 0 || width % 2 != 0)
            throw new TuwenException($"swin: patch merging needs an even token grid, got {height}×{width} (choose image_size/patch_size divisible by 2^(stages−1))");
        this.height = height; this.width = width;
        norm = nn.LayerNorm(4 * dim);
        reduction = new AutocastLinear(4 * dim, 2 * dim, false, 0.02);
        RegisterComponents();
    }

    /// <summary>[B, H·W, C] → [B, (H/2)·(W/2), 2C], float32 (it becomes the next stage's residual stream).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[2];
        // [B, H/2, dy, W/2, dx, C] → [B, H/2, W/2, dx, dy, C]: flattening (dx, dy) gives the order above.
        var grouped = x.view(b, height / 2, 2, width / 2, 2, c).permute(0, 1, 3, 4, 2, 5).reshape(b, height / 2 * (width / 2), 4 * c);
        return reduction.forward(norm.forward(grouped)).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}

/// <summary>One Swin stage: its blocks (every second one shifted), then patch merging unless it is the last.</summary>
public sealed class SwinStage : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<SwinBlock> blocks = new();
    private readonly SwinPatchMerging? downsample;

    public SwinStage(int dim, int depth, int heads, int height, int width, int window, double mlpRatio, bool merge) : base(nameof(SwinStage))
    {
        for (var i = 0; i < depth; i++) blocks.Add(new SwinBlock(dim, heads, height, width, window, shifted: i % 2 == 1, mlpRatio));
        downsample = merge ? new SwinPatchMerging(dim, height, width) : null;
        RegisterComponents();
    }

    public IReadOnlyList<SwinBlock> Blocks => [.. blocks];

    public override Tensor forward(Tensor x)
    {
        var h = x;
        foreach (var block in blocks)
        {
            var next = ActivationCheckpoint.Run(block, (t, _) => block.forward(t), h, null);
            if (!ReferenceEquals(h, x)) h.Dispose();
            h = next;
        }
        if (downsample is null) return ReferenceEquals(h, x) ? x.alias() : h;
        var merged = downsample.forward(h);
        if (!ReferenceEquals(h, x)) h.Dispose();
        return merged;
    }
}

/// <summary>
/// Swin Transformer image tower (type "swin", the tower of Wukong's Swin models): patch embedding
/// (patch_size conv + LayerNorm) → stages of window-attention blocks at widths width·2^s (heads
/// stage_heads[s], depths stage_depths[s]) with patch merging between them → final LayerNorm → mean over
/// tokens → head Linear(final width → embed_dim). No absolute position embedding and no class token: the
/// relative position bias carries position. Stochastic depth is not implemented (training here is short).
/// </summary>
public sealed class SwinTransformer : ImageTower
{
    private readonly SwinPatchEmbedding patch_embed;
    private readonly ModuleList<SwinStage> layers = new();
    private readonly LayerNorm norm;
    private readonly AutocastLinear head;
    private readonly int grid;

    public SwinTransformer(VisionConfig c, int embedDim) : base(nameof(SwinTransformer))
    {
        void Check(bool ok, string what) { if (!ok) throw new TuwenException($"bad swin config: {what}"); }
        Check(c.StageDepths.Length > 0, "vision.stage_depths must list the blocks per stage, e.g. [2,2,6,2]");
        Check(c.StageHeads.Length == c.StageDepths.Length, $"vision.stage_heads has {c.StageHeads.Length} entries but stage_depths has {c.StageDepths.Length}");
        Check(c.StageDepths.All(d => d > 0), "vision.stage_depths must be positive");
        Check(c.PatchSize > 0 && c.ImageSize % c.PatchSize == 0, "vision.image_size must be a multiple of vision.patch_size");
        Check(c.WindowSize > 0 && c.Width > 0, "vision.window_size and vision.width must be positive");
        var side = c.ImageSize / c.PatchSize;
        Check(side % (1 << (c.StageDepths.Length - 1)) == 0,
            $"the {side}×{side} patch grid cannot be halved {c.StageDepths.Length - 1} times (image_size/patch_size must be divisible by 2^(stages−1))");
        patch_embed = new SwinPatchEmbedding(c.PatchSize, c.Width);
        var dim = c.Width;
        for (var s = 0; s < c.StageDepths.Length; s++)
        {
            Check(c.StageHeads[s] > 0 && dim % c.StageHeads[s] == 0, $"stage {s} width {dim} is not a multiple of its {c.StageHeads[s]} heads");
            var last = s == c.StageDepths.Length - 1;
            layers.Add(new SwinStage(dim, c.StageDepths[s], c.StageHeads[s], side, side, c.WindowSize, c.MlpRatio, merge: !last));
            if (!last) { side /= 2; dim *= 2; }
        }
        grid = side;
        FinalWidth = dim;
        norm = nn.LayerNorm(dim);
        head = new AutocastLinear(dim, embedDim, true, 0.02);
        RegisterComponents();
    }

    /// <summary>Width of the last stage (width · 2^(stages−1)).</summary>
    public int FinalWidth { get; }

    public IReadOnlyList<SwinStage> Stages => [.. layers];

    /// <summary>
    /// The final stage's tokens after the last LayerNorm, [B, h·w, FinalWidth], row-major over
    /// <see cref="TokenGrid"/>. Unlike the ViT, Swin has NO class token: the first token is the top-left
    /// patch, and the global feature is the mean of all tokens.
    /// </summary>
    public override Tensor ForwardTokens(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = patch_embed.forward(images);
        foreach (var stage in layers) x = stage.forward(x);
        return norm.forward(x).MoveToOuterDisposeScope();
    }

    public override (int Height, int Width) TokenGrid => (grid, grid);

    /// <summary>The head applied to every final token (Wukong's token-wise Swin), [B, h·w, embed_dim].</summary>
    public override Tensor PatchEmbeddings(Tensor images)
    {
        using var scope = NewDisposeScope();
        return head.forward(ForwardTokens(images)).MoveToOuterDisposeScope();
    }

    /// <summary>Global feature: mean of the final tokens, then the head, [B, embed_dim].</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return head.forward(ForwardTokens(images).mean([1])).MoveToOuterDisposeScope();
    }
}
