using TorchSharp;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Objectives;

/// <summary>CLIP's loss value, its gradients with respect to the normalised features and the temperature,
/// and the in-batch accuracies; no autograd graph is attached to any of them.</summary>
public sealed record ClipLossGradients(Tensor Loss, Tensor ImageGrad, Tensor TextGrad, Tensor ScaleGrad, double AccImageToText, double AccTextToImage)
    : IDisposable
{
    public IReadOnlyDictionary<string, double> Metrics(Tensor logitScale) => new Dictionary<string, double>
    {
        ["acc_i2t"] = AccImageToText, ["acc_t2i"] = AccTextToImage, ["logit_scale"] = logitScale.item<float>(),
    };

    /// <summary>A tensor whose value is the loss and whose backward() sends the analytic gradients into
    /// <paramref name="image"/>, <paramref name="text"/> and <paramref name="logitScale"/>: the surrogate
    /// ⟨image, ∂L/∂image⟩ + ⟨text, ∂L/∂text⟩ + scale·∂L/∂scale has exactly those gradients, and subtracting
    /// its detached value leaves the loss value untouched.</summary>
    public Tensor Attach(Tensor image, Tensor text, Tensor logitScale)
    {
        using var scope = NewDisposeScope();
        var surrogate = Scalars.Add(Scalars.Add((image * ImageGrad).sum(), (text * TextGrad).sum()), (logitScale * ScaleGrad).sum());
        var loss = Scalars.Add(surrogate.sub(surrogate.detach()), Loss);
        return loss.MoveToOuterDisposeScope();
    }

    public void Dispose() { Loss.Dispose(); ImageGrad.Dispose(); TextGrad.Dispose(); ScaleGrad.Dispose(); }
}

/// <summary>
/// CLIP's symmetric InfoNCE computed a block of rows at a time, so memory is O(chunk · B) instead of O(B²):
/// the B×B logit matrix is never held. With logits L = s·I·Tᵀ, row softmax P and column softmax Q,
/// loss = (Σᵢ lse(Lᵢ,·) + Σⱼ lse(L·,ⱼ) − 2 Σᵢ Lᵢᵢ) / 2B and ∂loss/∂L = (P + Q − 2·Id) / 2B =: G, so
/// ∂/∂I = s·G·T, ∂/∂T = s·Gᵀ·I, ∂/∂s = Σ G ∘ (I·Tᵀ). A first pass over row blocks gathers the row
/// log-sum-exps and accumulates the column ones; a second recomputes each block of logits to form its
/// block of G. Costs two extra B×B×E matmuls over the plain loss (the recomputation), saves the B×B
/// matrices the plain loss keeps for backward.
/// </summary>
public static class ChunkedClipLoss
{
    public static ClipLossGradients Compute(Tensor image, Tensor text, Tensor logitScale, int chunk)
    {
        if (chunk < 1) throw new TuwenException($"the contrastive loss chunk size must be at least 1 (got {chunk})");
        if (image.dim() != 2 || !image.shape.SequenceEqual(text.shape))
            throw new TuwenException($"image and text features must both be [B, E] (got [{string.Join(", ", image.shape)}] and [{string.Join(", ", text.shape)}])");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var img = image.detach();
        var txt = text.detach();
        var n = img.shape[0];
        var s = logitScale.detach().to(img.dtype);
        var textT = txt.t();

        var rowLse = empty(n, img.dtype, img.device);
        using var negInf = double.NegativeInfinity.ToScalar();
        var colLse = full(n, negInf, img.dtype, img.device);
        var colMax = full(n, negInf, img.dtype, img.device);
        var colArg = zeros(n, ScalarType.Int64, img.device);
        var rowHits = zeros(1, ScalarType.Int64, img.device);
        for (long start = 0; start < n; start += chunk)
        {
            using var block = NewDisposeScope();
            var rows = Math.Min(chunk, n - start);
            var logits = img.narrow(0, start, rows).matmul(textT).mul_(s);
            rowLse.narrow(0, start, rows).copy_(logits.logsumexp(1));
            colLse.copy_(stack([colLse, logits.logsumexp(0)]).logsumexp(0));
            using var from = start.ToScalar();
            rowHits.add_(logits.argmax(1).sub_(from).eq(Scalars.Range(rows)).sum());
            // First maximum wins on ties, as argmax over the whole column does.
            var (blockMax, blockArg) = logits.max(0);
            var better = blockMax.gt(colMax);
            colArg.copy_(where(better, blockArg.add_(from), colArg));
            colMax.copy_(where(better, blockMax, colMax));
        }
        var positives = (img * txt).sum(1).mul_(s);
        using var twoN = (2.0 * n).ToScalar();
        var loss = rowLse.sum().add_(colLse.sum()).sub_(positives.sum().mul_(Scalars.Two)).div_(twoN);

        var imageGrad = empty_like(img);
        var textGrad = zeros_like(txt);
        var scaleGrad = zeros(1, img.dtype, img.device);
        var sFloat = s.item<float>();
        using var sValue = sFloat.ToScalar();
        using var oneOverN = (1.0 / n).ToScalar();
        var colLseRow = colLse.unsqueeze(0);
        for (long start = 0; start < n; start += chunk)
        {
            using var block = NewDisposeScope();
            var rows = Math.Min(chunk, n - start);
            var imgBlock = img.narrow(0, start, rows);
            var dots = imgBlock.matmul(textT);
            var logits = dots * s;
            var g = logits.sub(rowLse.narrow(0, start, rows).unsqueeze(1)).exp_().add_(logits.sub(colLseRow).exp_()).div_(twoN);
            g.narrow(1, start, rows).diagonal().sub_(oneOverN);
            scaleGrad.add_((g * dots).sum());
            imageGrad.narrow(0, start, rows).copy_(g.matmul(txt).mul_(sValue));
            textGrad.addmm_(g.t(), imgBlock, 1f, sFloat);
        }

        var accRow = rowHits.item<long>() / (double)n;
        var accCol = colArg.eq(Scalars.Range(n, img.device)).sum().item<long>() / (double)n;
        return new ClipLossGradients(loss.MoveToOuterDisposeScope(), imageGrad.MoveToOuterDisposeScope(), textGrad.MoveToOuterDisposeScope(),
            scaleGrad.reshape(logitScale.shape).to(logitScale.dtype).MoveToOuterDisposeScope(), accRow, accCol);
    }
}
