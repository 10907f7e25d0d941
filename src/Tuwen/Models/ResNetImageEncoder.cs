using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// Image tower "resnet": Chinese-CLIP's / OpenAI-CLIP's ModifiedResNet — <see cref="ResNetTrunk"/> (stages from
/// vision.stage_depths, base vision.width) and <see cref="AttentionPool2d"/> (vision.heads) straight into the
/// joint space, so the tower has no separate proj. Parameters are named as in CLIP's visual tower (conv1, bn1,
/// …, layer1.0.downsample.0, attnpool.c_proj), so released RN50 weights map in by name.
/// </summary>
public sealed class ResNetImageEncoder : ImageTower
{
    private readonly ResNetTrunk trunk;
    private readonly AttentionPool2d attnpool;
    private readonly int side;

    public ResNetImageEncoder(VisionConfig c, int embedDim) : base(nameof(ResNetImageEncoder))
    {
        trunk = new ResNetTrunk(c.Width, c.StageDepths);
        side = trunk.FeatureSide(c.ImageSize);
        attnpool = new AttentionPool2d(side, (int)trunk.OutputChannels, c.Heads, embedDim);
        // Registered flat (not under "trunk.") so the names are CLIP's; the trunk object only runs them in order.
        foreach (var (name, module) in trunk.Parts) register_module(name, module);
        register_module("attnpool", attnpool);
    }

    /// <summary>[B, 1+H·W, C] in the attention pool's value space: the pooled token, then every cell.</summary>
    public override Tensor ForwardTokens(Tensor images)
    {
        using var scope = NewDisposeScope();
        return attnpool.Tokens(trunk.forward(images)).MoveToOuterDisposeScope();
    }

    public override (int Height, int Width) TokenGrid => (side, side);

    /// <summary>Every cell through v_proj and c_proj [B, H·W, E]: dense features in the joint space.</summary>
    public override Tensor PatchEmbeddings(Tensor images)
    {
        using var scope = NewDisposeScope();
        var tokens = ForwardTokens(images);
        return attnpool.Project(tokens.narrow(1, 1, tokens.shape[1] - 1)).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return attnpool.forward(trunk.forward(images)).MoveToOuterDisposeScope();
    }
}
