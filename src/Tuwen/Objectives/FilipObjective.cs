using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Objectives;

/// <summary>
/// FILIP token-wise contrastive learning (Wukong's "F" models, seed-methods §2.6): every projected image patch
/// token and every text position (pads masked) is L2-normalised; image i's score against text j is s^I[i,j]
/// (mean over patches of the best text token) in the image→text loss and s^T[i,j] (mean over real text tokens
/// of the best patch) in the text→image loss: L = ½(CE_rows(scale·s^I) + CE_columns(scale·s^T)).
/// Evaluation scores pairs the same way (<see cref="TokenWiseScorer"/>).
/// </summary>
public sealed class FilipObjective : IObjective
{
    public FilipObjective(JsonObject options)
    {
        _ = new ObjectiveOptions("filip", options, []);
    }

    public string Name => "filip";

    public ObjectiveOutput Forward(DualEncoder model, Batch batch)
    {
        using var scope = NewDisposeScope();
        var image = nn.functional.normalize(model.EncodeImageTokens(batch.Images), dim: -1);
        var (text, textMask) = TextTokens(model, batch.TokenIds);
        var output = Compute(image, null, text, textMask, model.LogitScale());
        output.Loss.MoveToOuterDisposeScope();
        return output;
    }

    /// <summary>Normalised features of every text position [B, L, E] and the mask of real tokens (id ≠ 0).
    /// [CLS] and [SEP] count as tokens, as in Wukong.</summary>
    public static (Tensor Tokens, Tensor Mask) TextTokens(DualEncoder model, Tensor tokenIds) =>
        (nn.functional.normalize(model.EncodeTextTokens(tokenIds), dim: -1), tokenIds.ne(Scalars.Zero));

    /// <summary>
    /// The FILIP loss of a batch of matching pairs (image i ↔ text i) from normalised tokens; shared with the
    /// reduced-token objective, public so it can be checked by hand.
    /// </summary>
    public static ObjectiveOutput Compute(Tensor imageTokens, Tensor? imageMask, Tensor textTokens, Tensor textMask, Tensor logitScale)
    {
        using var scope = NewDisposeScope();
        var scores = TokenWiseSimilarity.Compute(imageTokens, imageMask, textTokens, textMask);
        var logitsImage = logitScale * scores.ImageToText;   // row i: image i against every text
        var logitsText = logitScale * scores.TextToImage;    // column j: text j against every image
        var labels = Scalars.Range(imageTokens.shape[0], imageTokens.device);
        var loss = Scalars.Add(nn.functional.cross_entropy(logitsImage, labels), nn.functional.cross_entropy(logitsText.t(), labels)).div_(Scalars.Two);
        var metrics = new Dictionary<string, double>
        {
            ["acc_i2t"] = logitsImage.argmax(1).eq(labels).to(ScalarType.Float32).mean().item<float>(),
            ["acc_t2i"] = logitsText.argmax(0).eq(labels).to(ScalarType.Float32).mean().item<float>(),
            ["logit_scale"] = logitScale.item<float>(),
        };
        return new ObjectiveOutput(loss.MoveToOuterDisposeScope(), metrics);
    }

    public IPairScorer? Scorer(DualEncoder model) => new TokenWiseScorer(null);

    public void Dispose() { }
}
