using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// BriVL's text tower ("brivl"): the BERT encoder (<see cref="BertTextEncoder"/>) → L2 per token → a small
/// post-LN transformer with a key-padding mask → masked mean over the real tokens → 2-layer MLP into the joint
/// space (<see cref="OutputDim"/> = embed_dim, so the dual encoder adds no text_projection). Unlike BriVL's code,
/// which calls BERT without an attention mask so that its output depends on the padded length, BERT here
/// masks [PAD] like every other Tuwen tower: a caption gets the same embedding at any context length.
/// The BERT parameters keep BertTextEncoder's names (embeddings.*, encoder.*), so its weights map across.
/// </summary>
public sealed class BrivlTextEncoder : TextTower
{
    private readonly BertTextEncoder backbone;
    private readonly BrivlHead head;
    private readonly int width;
    private readonly int outputDim;

    public BrivlTextEncoder(TextConfig c, int embedDim) : base(nameof(BrivlTextEncoder))
    {
        width = c.Width;
        outputDim = embedDim;
        backbone = new BertTextEncoder(c);
        head = new BrivlHead(c.Width, c.HeadLayers, c.HeadHeads, c.HeadHidden, embedDim, "text");
        // Registered flat (embeddings, encoder, head) rather than under "backbone.".
        foreach (var (name, module) in backbone.named_children()) register_module(name, module);
        register_module("head", head);
    }

    public override int Width => width;

    public override int? OutputDim => outputDim;

    /// <summary>The head transformer's outputs [B, L, Width] (pad positions included; mask with ids != 0).</summary>
    public override Tensor ForwardTokens(Tensor tokenIds)
    {
        using var scope = NewDisposeScope();
        var valid = tokenIds.ne(0);
        return head.Tokens(nn.functional.normalize(backbone.ForwardTokens(tokenIds), dim: -1), valid).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor tokenIds)
    {
        using var scope = NewDisposeScope();
        var valid = tokenIds.ne(0);
        return head.forward(nn.functional.normalize(backbone.ForwardTokens(tokenIds), dim: -1), valid).MoveToOuterDisposeScope();
    }
}
