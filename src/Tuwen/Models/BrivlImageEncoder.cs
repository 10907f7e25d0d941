using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// BriVL's image tower ("brivl"; brivl-nmi's grid variant): CNN trunk → features of region_grid² fixed boxes
/// plus the whole image (<see cref="BrivlRegions"/>, then BriVL's 1×1 convolution as <c>region_conv</c>) →
/// L2 per region → <see cref="BrivlHead"/> (post-LN transformer, masked mean, 2-layer MLP) → [B, embed_dim].
/// The dual encoder normalises the output. BriVL's CNN is an EfficientNet-B5; here it is the shared
/// <see cref="ResNetTrunk"/>, whose output channels are also the head's width (2048 in both).
/// </summary>
public sealed class BrivlImageEncoder : ImageTower
{
    private readonly ResNetTrunk trunk;
    private readonly AutocastLinear region_conv;
    private readonly BrivlHead head;
    private readonly BrivlRegions regions;   // a fixed matrix, not a parameter or a buffer: rebuilt from the config

    public BrivlImageEncoder(VisionConfig c, int embedDim) : base(nameof(BrivlImageEncoder))
    {
        trunk = new ResNetTrunk(c.Width, c.StageDepths);
        var side = trunk.FeatureSide(c.ImageSize);
        if (side < 2) throw new TuwenException($"the brivl tower's CNN feature map is {side}×{side} at {c.ImageSize} px; use fewer stages or larger images (at least 2×2, 4×4 recommended)");
        regions = new BrivlRegions(c.ImageSize, side, c.RegionGrid);
        var channels = (int)trunk.OutputChannels;
        region_conv = new AutocastLinear(channels, channels, true, Math.Pow(channels, -0.5));
        head = new BrivlHead(channels, c.HeadLayers, c.HeadHeads, c.HeadHidden, embedDim, "vision");
        RegisterComponents();
    }

    /// <summary>Number of region slots (grid² + whole image), all valid.</summary>
    public int Regions => regions.Count;

    /// <summary>L2-normalised region features [B, R, C], the head's input.</summary>
    public Tensor RegionFeatures(Tensor images)
    {
        using var scope = NewDisposeScope();
        var pooled = region_conv.forward(regions.Pool(trunk.forward(images)));
        if (pooled.dtype != ScalarType.Float32) pooled = pooled.to(ScalarType.Float32);
        return nn.functional.normalize(pooled, dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>[B, 1+R, C]: the masked mean of the head transformer's region outputs, then the regions.</summary>
    public override Tensor ForwardTokens(Tensor images)
    {
        using var scope = NewDisposeScope();
        var tokens = head.Tokens(RegionFeatures(images), null);
        return cat([BrivlHead.MaskedMean(tokens, null).unsqueeze(1), tokens], 1).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return head.forward(RegionFeatures(images), null).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) regions.Dispose();
        base.Dispose(disposing);
    }
}
