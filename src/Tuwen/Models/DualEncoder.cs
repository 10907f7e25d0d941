using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>Normalised features of a batch and the temperature they are compared at.</summary>
public sealed record DualFeatures(Tensor Image, Tensor Text, Tensor LogitScale) : IDisposable
{
    public void Dispose() { Image.Dispose(); Text.Dispose(); LogitScale.Dispose(); }
}

/// <summary>
/// Two towers and a shared joint space (CLIP / Chinese-CLIP layout): visual.* (with its own proj),
/// bert.* + text_projection, and a learnable log temperature logit_scale.
/// </summary>
public sealed class DualEncoder : nn.Module<Tensor, Tensor, DualFeatures>
{
    private readonly ImageTower visual;
    private readonly TextTower bert;
    private readonly Parameter? text_projection;
    private readonly Parameter logit_scale;

    public DualEncoder(ModelConfig config) : base(nameof(DualEncoder))
    {
        Config = config;
        visual = TowerRegistry.CreateImageTower(config.Vision, config.EmbedDim);
        bert = TowerRegistry.CreateTextTower(config.Text, config.EmbedDim);
        if (bert.OutputDim is { } own)
        {
            if (own != config.EmbedDim) throw new TuwenException($"text tower '{config.Text.Type}' outputs {own} features but embed_dim is {config.EmbedDim}");
        }
        else text_projection = nn.Parameter(randn(bert.Width, config.EmbedDim) * Math.Pow(bert.Width, -0.5));
        logit_scale = nn.Parameter(tensor((float)Math.Log(config.LogitScaleInit)));
        logitScaleMax = config.LogitScaleMax.ToScalar();
        RegisterComponents();
    }

    private readonly Scalar logitScaleMax;

    public ModelConfig Config { get; }

    /// <summary>Where the parameters live (after <c>.to(device)</c>): inputs and helper tensors go there too.</summary>
    public Device Device => logit_scale.device;
    public ImageTower Visual => visual;
    public TextTower Text => bert;

    /// <summary>Projected, unnormalised image features [B, E].</summary>
    public Tensor EncodeImage(Tensor images) => Float32(visual.forward(images));

    /// <summary>Projected, unnormalised text features [B, E].</summary>
    public Tensor EncodeText(Tensor tokenIds)
    {
        if (text_projection is null) return Float32(bert.forward(tokenIds));
        using var pooled = bert.forward(tokenIds);
        return Float32(Autocast.Linear(pooled, text_projection.t(), null));
    }

    /// <summary>Projected, unnormalised features of every text position [B, L, E] (pads included: mask them with
    /// tokenIds != 0), for token-wise objectives and cross encoders that want the joint space.</summary>
    public Tensor EncodeTextTokens(Tensor tokenIds)
    {
        if (text_projection is null) throw new TuwenException($"the '{Config.Text.Type}' text tower has no per-token outputs in the joint space");
        using var hidden = bert.ForwardTokens(tokenIds);
        return Float32(Autocast.Linear(hidden, text_projection.t(), null));
    }

    /// <summary>Projected, unnormalised features of the image's spatial tokens [B, H·W, E] (no class token).</summary>
    public Tensor EncodeImageTokens(Tensor images) => Float32(visual.PatchEmbeddings(images));

    private static Tensor Float32(Tensor y)
    {
        if (y.dtype == ScalarType.Float32) return y;
        using (y) return y.to(ScalarType.Float32);
    }

    /// <summary>exp(logit_scale), clamped at logit_scale_max (100) as CLIP does.</summary>
    public Tensor LogitScale() => logit_scale.exp().clamp_max(logitScaleMax);

    public override DualFeatures forward(Tensor images, Tensor tokenIds)
    {
        using var scope = NewDisposeScope();
        var img = nn.functional.normalize(EncodeImage(images), dim: -1);
        var txt = nn.functional.normalize(EncodeText(tokenIds), dim: -1);
        var scale = LogitScale();
        return new DualFeatures(img.MoveToOuterDisposeScope(), txt.MoveToOuterDisposeScope(), scale.MoveToOuterDisposeScope());
    }

    public long ParameterCount(string? prefix = null) =>
        named_parameters().Where(p => prefix == null || p.name.StartsWith(prefix, StringComparison.Ordinal)).Sum(p => p.parameter.numel());
}
