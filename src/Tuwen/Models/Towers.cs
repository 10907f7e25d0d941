using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>An image tower maps normalised images [B,3,H,W] to projected features [B, embed_dim].</summary>
public abstract class ImageTower : nn.Module<Tensor, Tensor>
{
    protected ImageTower(string name) : base(name) { }

    /// <summary>Per-token features before projection (class/global token first), for token-wise objectives.</summary>
    public abstract Tensor ForwardTokens(Tensor images);

    /// <summary>
    /// Projected features of the spatial tokens only, [B, H·W, embed_dim] in row-major order over
    /// <see cref="TokenGrid"/> (no class token): what token-wise similarity (FILIP) and token reduction use.
    /// </summary>
    public virtual Tensor PatchEmbeddings(Tensor images) =>
        throw new TuwenException($"the {GetType().Name} image tower has no per-patch outputs (token-wise objectives need vit, swin or resnet)");

    /// <summary>Height and width of the token grid <see cref="PatchEmbeddings"/> returns.</summary>
    public virtual (int Height, int Width) TokenGrid =>
        throw new TuwenException($"the {GetType().Name} image tower has no token grid");
}

/// <summary>A text tower maps token ids [B,L] (padding 0) to a pooled hidden state [B, Width].</summary>
public abstract class TextTower : nn.Module<Tensor, Tensor>
{
    protected TextTower(string name) : base(name) { }

    public abstract int Width { get; }

    /// <summary>
    /// Towers that end in their own head into the joint space (BriVL's MLP) return its size here; the dual
    /// encoder then has no text_projection. Null: <c>forward</c> returns a [B, Width] hidden state to project.
    /// </summary>
    public virtual int? OutputDim => null;

    /// <summary>All hidden states [B, L, Width], for token-wise objectives.</summary>
    public abstract Tensor ForwardTokens(Tensor tokenIds);
}

/// <summary>Chooses towers by the config's "type" — one place, so new towers register instead of growing switches.</summary>
public static class TowerRegistry
{
    private static readonly Dictionary<string, Func<VisionConfig, int, ImageTower>> Image = new()
    {
        ["vit"] = (c, e) => new VisionTransformer(c, e),
        ["resnet"] = (c, e) => new ResNetImageEncoder(c, e),
        ["brivl"] = (c, e) => new BrivlImageEncoder(c, e),
        ["swin"] = (c, e) => new SwinTransformer(c, e),
    };

    /// <summary>Text factories get the joint-space size too, for towers that end in their own head (<see cref="TextTower.OutputDim"/>).</summary>
    private static readonly Dictionary<string, Func<TextConfig, int, TextTower>> Text = new()
    {
        ["bert"] = (c, _) => new BertTextEncoder(c),
        ["brivl"] = (c, e) => new BrivlTextEncoder(c, e),
    };

    public static void RegisterImageTower(string type, Func<VisionConfig, int, ImageTower> create) => Image[type] = create;
    public static void RegisterTextTower(string type, Func<TextConfig, int, TextTower> create) => Text[type] = create;

    public static ImageTower CreateImageTower(VisionConfig c, int embedDim) =>
        Image.TryGetValue(c.Type, out var f) ? f(c, embedDim)
        : throw new TuwenException($"unknown vision.type '{c.Type}' (known: {string.Join(", ", Image.Keys)})");

    public static TextTower CreateTextTower(TextConfig c, int embedDim) =>
        Text.TryGetValue(c.Type, out var f) ? f(c, embedDim)
        : throw new TuwenException($"unknown text.type '{c.Type}' (known: {string.Join(", ", Text.Keys)})");
}
