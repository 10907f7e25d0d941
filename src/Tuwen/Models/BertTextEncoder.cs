using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// BERT-style text tower (post-norm, as BERT/RoBERTa-wwm-ext that Chinese-CLIP uses), parameters named
/// like Hugging Face's BertModel (embeddings.*, encoder.layer.N.*) so released weights can be mapped in.
/// Pooling: the [CLS] hidden state (position 0), as Chinese-CLIP's encode_text.
/// </summary>
public sealed class BertTextEncoder : TextTower
{
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly int width;

    public BertTextEncoder(TextConfig c) : base(nameof(BertTextEncoder))
    {
        width = c.Width;
        embeddings = new BertEmbeddings(c);
        encoder = new BertEncoder(c);
        RegisterComponents();
    }

    public override int Width => width;

    public override Tensor ForwardTokens(Tensor tokenIds)
    {
        using var scope = NewDisposeScope();
        var keyMask = tokenIds.ne(0).view(tokenIds.shape[0], 1, 1, tokenIds.shape[1]);
        return encoder.forward(embeddings.forward(tokenIds), keyMask).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor tokenIds)
    {
        using var scope = NewDisposeScope();
        return ForwardTokens(tokenIds)[.., 0].MoveToOuterDisposeScope();
    }
}

public sealed class BertEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;

    public BertEmbeddings(TextConfig c) : base(nameof(BertEmbeddings))
    {
        word_embeddings = nn.Embedding(c.VocabSize, c.Width);
        position_embeddings = nn.Embedding(c.MaxPositions, c.Width);
        token_type_embeddings = nn.Embedding(c.TypeVocabSize, c.Width);
        LayerNorm = nn.LayerNorm(c.Width, eps: 1e-12);
        using (no_grad())
            foreach (var e in new[] { word_embeddings, position_embeddings, token_type_embeddings })
                nn.init.normal_(e.weight!, 0, 0.02);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var positions = Scalars.Range(ids.shape[1], ids.device);
        // Single-segment input: token type 0 everywhere, i.e. row 0 of the type table.
        var x = Scalars.Add(Scalars.Add(word_embeddings.forward(ids), position_embeddings.forward(positions)), token_type_embeddings.weight![0]);
        return LayerNorm.forward(x).MoveToOuterDisposeScope();
    }
}

public sealed class BertEncoder : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly ModuleList<BertLayer> layer = new();

    public BertEncoder(TextConfig c) : base(nameof(BertEncoder))
    {
        for (var i = 0; i < c.Layers; i++) layer.Add(new BertLayer(c));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? keyMask) => LayerChain.Run(layer, x, keyMask);
}

/// <summary>Self-attention (separate query/key/value as HF) + feed-forward, each followed by add &amp; norm.</summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly CrossEncoderAttention attention;
    private readonly AutocastLinear intermediate_dense;
    private readonly AutocastLinear output_dense;
    private readonly LayerNorm output_LayerNorm;

    public BertLayer(TextConfig c) : base(nameof(BertLayer))
    {
        // Self-attention is cross-attention with the stream as its own memory (same HF parameter names).
        attention = new CrossEncoderAttention(c.Width, c.Width, c.Heads);
        intermediate_dense = new AutocastLinear(c.Width, c.IntermediateSize);
        output_dense = new AutocastLinear(c.IntermediateSize, c.Width);
        output_LayerNorm = nn.LayerNorm(c.Width, eps: 1e-12);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        var a = attention.forward(x, x, keyMask);
        var h = nn.functional.gelu(intermediate_dense.forward(a));
        return output_LayerNorm.forward(Scalars.Add(a, output_dense.forward(h))).MoveToOuterDisposeScope();
    }
}
