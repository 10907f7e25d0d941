using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// One post-LN BERT layer with cross-attention (R2D2's joint layers): self-attention over the stream → add &amp;
/// norm → cross-attention to the other modality's tokens → add &amp; norm → GELU feed-forward → add &amp; norm.
/// </summary>
public sealed class CrossEncoderLayer : nn.Module<Tensor, Tensor?, Tensor, Tensor?, Tensor>
{
    private readonly CrossEncoderAttention attention;
    private readonly CrossEncoderAttention crossattention;
    private readonly AutocastLinear intermediate_dense;
    private readonly AutocastLinear output_dense;
    private readonly LayerNorm output_LayerNorm;

    public CrossEncoderLayer(int width, int memoryWidth, int heads, int intermediate) : base(nameof(CrossEncoderLayer))
    {
        attention = new CrossEncoderAttention(width, width, heads);
        crossattention = new CrossEncoderAttention(width, memoryWidth, heads);
        intermediate_dense = new AutocastLinear(width, intermediate);
        output_dense = new AutocastLinear(intermediate, width);
        output_LayerNorm = nn.LayerNorm(width, eps: 1e-12);
        RegisterComponents();
    }

    /// <param name="x">Stream [B, L, width] (float32).</param>
    /// <param name="streamMask">bool [B,1,1,L] for self-attention, null = all.</param>
    /// <param name="memory">Other modality [B, M, memoryWidth].</param>
    /// <param name="memoryMask">bool [B,1,1,M], null = all.</param>
    public override Tensor forward(Tensor x, Tensor? streamMask, Tensor memory, Tensor? memoryMask)
    {
        using var scope = NewDisposeScope();
        var a = attention.forward(x, x, streamMask);
        var c = crossattention.forward(a, memory, memoryMask);
        var h = nn.functional.gelu(intermediate_dense.forward(c));
        return output_LayerNorm.forward(Scalars.Add(c, output_dense.forward(h))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A cross encoder: a stack of <see cref="CrossEncoderLayer"/>s over one modality's tokens attending to the
/// other's, with an image–text matching head Linear(width, 2) on the first output token (class 1 = match).
/// The text→image encoder takes the text tower's hidden states as they are; the image→text encoder first maps
/// the image tokens to the width (input_proj, R2D2's img_joint_proj).
/// </summary>
public sealed class CrossEncoder : nn.Module<Tensor, Tensor?, Tensor, Tensor?, Tensor>
{
    private readonly AutocastLinear? input_proj;
    private readonly ModuleList<CrossEncoderLayer> layer = new();
    private readonly AutocastLinear itm_head;

    /// <param name="streamWidth">Width of the stream's input tokens.</param>
    /// <param name="memoryWidth">Width of the other modality's tokens (keys and values project from it).</param>
    /// <param name="projectInput">Map the stream to <paramref name="width"/> first (always, even when the widths agree).</param>
    public CrossEncoder(int streamWidth, int memoryWidth, int width, int heads, int intermediate, int layers, bool projectInput)
        : base(nameof(CrossEncoder))
    {
        if (layers < 1) throw new TuwenException($"a cross encoder needs at least one layer (got {layers})");
        if (!projectInput && streamWidth != width)
            throw new TuwenException($"cross encoder stream width {streamWidth} differs from its width {width} and has no input projection");
        if (projectInput) input_proj = new AutocastLinear(streamWidth, width);
        for (var i = 0; i < layers; i++) layer.Add(new CrossEncoderLayer(width, memoryWidth, heads, intermediate));
        itm_head = new AutocastLinear(width, 2);
        Width = width;
        RegisterComponents();
    }

    public int Width { get; }

    /// <summary>Output features of every stream position [B, L, width], float32.</summary>
    public override Tensor forward(Tensor stream, Tensor? streamMask, Tensor memory, Tensor? memoryMask)
    {
        using var scope = NewDisposeScope();
        var x = input_proj?.forward(stream) ?? stream;
        // The residual stream and the norms stay float32 (a bf16 projection output would otherwise meet the
        // float32 LayerNorm weights).
        if (x.dtype != ScalarType.Float32) x = x.to(ScalarType.Float32);
        foreach (var l in layer) x = l.forward(x, streamMask, memory, memoryMask);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Matching logits [B, 2] (float32) from output features [B, L, width]: the head on the first token.</summary>
    public Tensor Itm(Tensor features)
    {
        using var scope = NewDisposeScope();
        var logits = itm_head.forward(features[.., 0]);
        return (logits.dtype == ScalarType.Float32 ? logits : logits.to(ScalarType.Float32)).MoveToOuterDisposeScope();
    }
}
