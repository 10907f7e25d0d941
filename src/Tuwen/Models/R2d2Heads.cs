using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>Matching logits of image–text pairs from both cross encoders, each [P, 2] float32 (class 1 = match).</summary>
public sealed record ItmLogits(Tensor TextSide, Tensor ImageSide) : IDisposable
{
    public void Dispose() { TextSide.Dispose(); ImageSide.Dispose(); }
}

/// <summary>
/// R2D2's ranking module, everything the dual encoder lacks: the text→image cross encoder (text hidden states
/// attend to image tokens; it also yields the features that feature-guided distillation regresses) and the
/// image→text cross encoder (projected image tokens attend to text tokens), each with its matching head.
/// Width, heads and feed-forward size follow the text tower, as R2D2's joint layers follow its BERT.
/// </summary>
public sealed class R2d2Heads : nn.Module
{
    private readonly CrossEncoder text_image;
    private readonly CrossEncoder image_text;

    /// <param name="textWidth">Width of the text tower's hidden states (and of the cross encoders).</param>
    /// <param name="imageWidth">Width of the image tower's tokens (<see cref="ImageTower.ForwardTokens"/>).</param>
    public R2d2Heads(int textWidth, int imageWidth, int heads, int intermediate, int layers) : base(nameof(R2d2Heads))
    {
        text_image = new CrossEncoder(textWidth, imageWidth, textWidth, heads, intermediate, layers, projectInput: false);
        image_text = new CrossEncoder(imageWidth, textWidth, textWidth, heads, intermediate, layers, projectInput: true);
        RegisterComponents();
    }

    /// <summary>Heads sized for a dual encoder: the text tower's width, heads and feed-forward size, and the width
    /// of the image tower's tokens, read off one forward of a blank image (towers do not all declare it).</summary>
    public static R2d2Heads For(DualEncoder model, int layers)
    {
        var text = model.Config.Text;
        return new R2d2Heads(model.Text.Width, ImageTokenWidth(model), text.Heads, text.IntermediateSize, layers);
    }

    public static int ImageTokenWidth(DualEncoder model)
    {
        var visual = model.Visual;
        var wasTraining = visual.training;
        visual.eval();   // a blank image must not move batch-norm statistics
        try
        {
            using var _ = no_grad();
            var size = model.Config.Vision.ImageSize;
            using var blank = zeros(1, 3, size, size, device: model.Device);
            using var tokens = visual.ForwardTokens(blank);
            return (int)tokens.shape[^1];
        }
        finally { if (wasTraining) visual.train(); }
    }

    public CrossEncoder TextImage => text_image;
    public CrossEncoder ImageText => image_text;

    /// <summary>Key-padding mask [B,1,1,L] from token ids (0 = padding).</summary>
    public static Tensor TextMask(Tensor tokenIds) => tokenIds.ne(0).view(tokenIds.shape[0], 1, 1, tokenIds.shape[1]);

    /// <summary>Output features of the text→image encoder [P, L, width] for pairs given row by row.</summary>
    /// <param name="textHidden">[P, L, textWidth] text tower hidden states.</param>
    /// <param name="textMask">[P,1,1,L] bool (<see cref="TextMask"/>).</param>
    /// <param name="imageTokens">[P, N, imageWidth] image tower tokens.</param>
    public Tensor TextImageFeatures(Tensor textHidden, Tensor textMask, Tensor imageTokens) =>
        text_image.forward(textHidden, textMask, imageTokens, null);

    /// <summary>Both encoders' matching logits for pairs given row by row.</summary>
    public ItmLogits Itm(Tensor textHidden, Tensor textMask, Tensor imageTokens)
    {
        using var scope = NewDisposeScope();
        var textSide = text_image.Itm(TextImageFeatures(textHidden, textMask, imageTokens));
        var imageSide = image_text.Itm(image_text.forward(imageTokens, null, textHidden, textMask));
        return new ItmLogits(textSide.MoveToOuterDisposeScope(), imageSide.MoveToOuterDisposeScope());
    }

    /// <summary>R2D2's matching score ½[p_match(text side) + p_match(image side)] ∈ [0, 1], one per pair [P].</summary>
    public static Tensor MatchProbability(ItmLogits logits)
    {
        using var scope = NewDisposeScope();
        var t = logits.TextSide.softmax(1)[.., 1];
        var i = logits.ImageSide.softmax(1)[.., 1];
        return Scalars.Add(t, i).div_(Scalars.Two).MoveToOuterDisposeScope();
    }
}
