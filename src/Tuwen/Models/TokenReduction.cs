using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// Wukong's token reduction layer (TokenLearner v1.1 style, seed-methods §2.6): K learned weightings of the
/// h·w image tokens, each a softmax over positions, pool grouped-linear values of the tokens into K tokens:
/// A = softmax_hw(Conv1x1_{C→K}(GConv1x1_{C→C}(LN(X)))), V = GConv1x1_{C→C}(X) (no LN), out = A·V [B, K, C].
/// It cuts the token-wise interaction from n1 = h·w to K image tokens (49 → 12 for ViT-B/32).
/// Convs are bias-free and kaiming-initialised (normal, fan-out, ReLU gain, as mmcv's kaiming_init).
/// </summary>
public sealed class TokenReduction : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm;
    private readonly Conv2d attention_mix;
    private readonly Conv2d attention_maps;
    private readonly Conv2d values;
    private readonly int height, width;

    public TokenReduction((int Height, int Width) grid, int channels, int tokens, int groups) : base(nameof(TokenReduction))
    {
        (height, width) = grid;
        if (tokens < 1) throw new TuwenException($"token reduction needs at least 1 output token, got {tokens}");
        if (tokens > height * width)
            throw new TuwenException($"token reduction to {tokens} tokens needs at least as many image tokens, but the image tower has a {height}×{width} grid ({height * width} tokens)");
        if (groups < 1 || channels % groups != 0)
            throw new TuwenException($"token reduction groups ({groups}) must divide embed_dim ({channels})");
        Tokens = tokens;
        Groups = groups;
        norm = nn.LayerNorm(channels, eps: 1e-5);
        attention_mix = nn.Conv2d(channels, channels, 1, groups: groups, bias: false);
        attention_maps = nn.Conv2d(channels, tokens, 1, bias: false);
        values = nn.Conv2d(channels, channels, 1, groups: groups, bias: false);
        using (no_grad())
        {
            foreach (var conv in new[] { attention_mix, attention_maps, values })
                nn.init.kaiming_normal_(conv.weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        }
        RegisterComponents();
    }

    public int Tokens { get; }
    public int Groups { get; }

    /// <summary>Softmax weights [B, K, h·w] of each output token over the input positions.</summary>
    public Tensor Weights(Tensor imageTokens)
    {
        using var scope = NewDisposeScope();
        var b = CheckShape(imageTokens);
        var logits = attention_maps.forward(attention_mix.forward(ToMap(norm.forward(imageTokens))));   // [B, K, h, w]
        return logits.reshape(b, Tokens, height * width).softmax(-1).MoveToOuterDisposeScope();
    }

    /// <summary>The per-position values [B, h·w, C] the weights pool (grouped linear map of the tokens, no LN).</summary>
    public Tensor Values(Tensor imageTokens)
    {
        using var scope = NewDisposeScope();
        var b = CheckShape(imageTokens);
        return values.forward(ToMap(imageTokens)).reshape(b, imageTokens.shape[2], height * width).transpose(1, 2).MoveToOuterDisposeScope();
    }

    /// <summary>Image tokens [B, h·w, C] (row-major over the grid) → [B, K, C].</summary>
    public override Tensor forward(Tensor imageTokens)
    {
        using var scope = NewDisposeScope();
        return Weights(imageTokens).matmul(Values(imageTokens)).MoveToOuterDisposeScope();
    }

    /// <summary>[B, h·w, C] → [B, C, h, w], the layout of the 1×1 convolutions.</summary>
    private Tensor ToMap(Tensor tokens) => tokens.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], height, width);

    private long CheckShape(Tensor imageTokens)
    {
        if (imageTokens.dim() != 3 || imageTokens.shape[1] != height * width)
            throw new ArgumentException($"token reduction expects [B, {height * width}, C] image tokens, got [{string.Join(",", imageTokens.shape)}]");
        return imageTokens.shape[0];
    }
}
