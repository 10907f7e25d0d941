using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using Tuwen.Data;
using Tuwen.Evaluation;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Objectives;

/// <summary>
/// Wukong's reduced-token interaction (its default "ViT-B" / "ViT-L" models): the image's projected patch
/// tokens pass through a learned <see cref="TokenReduction"/> (h·w → K tokens) before FILIP's token-wise loss,
/// which then costs K instead of h·w image tokens per pair. The reduction layer is this objective's
/// <see cref="Module"/>: trained with the model, saved as objective.*, and used again at evaluation.
/// Options: tokens (K, default 12 as Wukong ViT-B/32), groups (of the grouped 1×1 convs, default 8).
/// </summary>
public sealed class ReducedTokenObjective : IObjective
{
    public const int DefaultTokens = 12;
    public const int DefaultGroups = 8;
    private static readonly string[] KnownOptions = ["tokens", "groups"];

    private readonly TokenReduction reduction;

    public ReducedTokenObjective(JsonObject options, DualEncoder model)
    {
        var read = new ObjectiveOptions("reduced-token", options, KnownOptions);
        var tokens = read.Int("tokens", DefaultTokens);
        var groups = read.Int("groups", DefaultGroups);
        reduction = new TokenReduction(model.Visual.TokenGrid, model.Config.EmbedDim, tokens, groups);
    }

    public string Name => "reduced-token";

    public nn.Module? Module => reduction;

    public TokenReduction Reduction => reduction;

    public ObjectiveOutput Forward(DualEncoder model, Batch batch)
    {
        using var scope = NewDisposeScope();
        var image = ImageTokens(model, reduction, batch.Images);
        var (text, textMask) = FilipObjective.TextTokens(model, batch.TokenIds);
        var output = FilipObjective.Compute(image, null, text, textMask, model.LogitScale());
        output.Loss.MoveToOuterDisposeScope();
        return output;
    }

    /// <summary>Normalised reduced image tokens [B, K, E]: Wukong normalises after the reduction.</summary>
    public static Tensor ImageTokens(DualEncoder model, TokenReduction reduction, Tensor images)
    {
        using var scope = NewDisposeScope();
        return nn.functional.normalize(reduction.forward(model.EncodeImageTokens(images)), dim: -1).MoveToOuterDisposeScope();
    }

    public IPairScorer? Scorer(DualEncoder model) => new TokenWiseScorer(reduction);

    public void Dispose() => reduction.Dispose();
}
