using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// BERT-style multi-head attention followed by add &amp; norm, with queries from one sequence and keys/values from
/// another that may be wider or narrower (BLIP's "med" cross-attention, which R2D2's cross encoders use: key and
/// value project from the other modality's width). With the stream as its own memory it is self-attention.
/// BERT's own self-attention (BertLayer) is this module with memory = stream. The product runs through
/// <see cref="Autocast.Attention"/> (float32), the projections through Autocast.
/// </summary>
public sealed class CrossEncoderAttention : nn.Module<Tensor, Tensor, Tensor?, Tensor>
{
    private readonly AutocastLinear query;
    private readonly AutocastLinear key;
    private readonly AutocastLinear value;
    private readonly AutocastLinear output_dense;
    private readonly LayerNorm output_LayerNorm;
    private readonly int heads;

    public CrossEncoderAttention(int width, int memoryWidth, int heads) : base(nameof(CrossEncoderAttention))
    {
        if (width % heads != 0) throw new TuwenException($"cross-encoder width {width} is not divisible by {heads} heads");
        this.heads = heads;
        query = new AutocastLinear(width, width);
        key = new AutocastLinear(memoryWidth, width);
        value = new AutocastLinear(memoryWidth, width);
        output_dense = new AutocastLinear(width, width);
        output_LayerNorm = nn.LayerNorm(width, eps: 1e-12);
        RegisterComponents();
    }

    /// <param name="x">The stream [B, L, width]: queries, and the residual.</param>
    /// <param name="memory">Keys and values [B, M, memoryWidth] (x itself for self-attention).</param>
    /// <param name="memoryMask">bool [B,1,1,M], true where a memory token may be attended to; null = all.</param>
    public override Tensor forward(Tensor x, Tensor memory, Tensor? memoryMask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], l = x.shape[1], w = x.shape[2], m = memory.shape[1];
        Tensor q, k, v;
        if (ReferenceEquals(x, memory) && !Autocast.CachingWeights && query.Bias is { } qb && key.Bias is { } kb && value.Bias is { } vb)
        {
            // Self-attention: one product against the three weights stacked (the parameters stay separate, as
            // released BERT weights name them) instead of three smaller ones — in training, and in the graph-free
            // passes training makes (checkpointed blocks, gradient caching), so they compute what it computes.
            // Inference with a weight cache keeps the three products, whose weights the cache holds (a stack is
            // a new tensor every call).
            var qkv = Autocast.Linear(x, cat([query.Weight, key.Weight, value.Weight]), cat([qb, kb, vb]))
                .view(b, l, 3, heads, w / heads).permute(2, 0, 3, 1, 4);
            (q, k, v) = (qkv[0], qkv[1], qkv[2]);
        }
        else
        {
            q = query.forward(x).view(b, l, heads, w / heads).transpose(1, 2);
            k = key.forward(memory).view(b, m, heads, w / heads).transpose(1, 2);
            v = value.forward(memory).view(b, m, heads, w / heads).transpose(1, 2);
        }
        var y = Autocast.Attention(q, k, v, memoryMask).transpose(1, 2).reshape(b, l, w);
        return output_LayerNorm.forward(Scalars.Add(x, output_dense.forward(y))).MoveToOuterDisposeScope();
    }
}
