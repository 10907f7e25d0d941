using Tuwen.Data;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Objectives;

/// <summary>
/// CLIP's symmetric InfoNCE: logits = scale · image·textᵀ over the batch, the i-th image's positive is the
/// i-th text; loss = (CE over rows + CE over columns) / 2.
/// </summary>
public sealed class ClipObjective : IObjective
{
    public string Name => "clip";

    public ObjectiveOutput Forward(DualEncoder model, Batch batch)
    {
        using var features = model.forward(batch.Images, batch.TokenIds);
        return Compute(features.Image, features.Text, features.LogitScale);
    }

    /// <summary>The loss on given normalised features; public so it can be checked by hand and reused.</summary>
    public static ObjectiveOutput Compute(Tensor image, Tensor text, Tensor logitScale)
    {
        using var scope = NewDisposeScope();
        var logitsPerImage = logitScale * image.matmul(text.t());
        var labels = Scalars.Range(image.shape[0], image.device);
        var loss = Scalars.Add(nn.functional.cross_entropy(logitsPerImage, labels), nn.functional.cross_entropy(logitsPerImage.t(), labels)).div_(Scalars.Two);
        var metrics = new Dictionary<string, double>
        {
            ["acc_i2t"] = logitsPerImage.argmax(1).eq(labels).to(ScalarType.Float32).mean().item<float>(),
            ["acc_t2i"] = logitsPerImage.argmax(0).eq(labels).to(ScalarType.Float32).mean().item<float>(),
            ["logit_scale"] = logitScale.item<float>(),
        };
        return new ObjectiveOutput(loss.MoveToOuterDisposeScope(), metrics);
    }

    public void Dispose() { }
}
