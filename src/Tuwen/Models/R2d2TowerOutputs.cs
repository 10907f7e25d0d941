using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>A tower's projected global features [B, E] (float32, unnormalised) and its tokens [B, L, width].</summary>
public sealed record GlobalAndTokens(Tensor Global, Tensor Tokens) : IDisposable
{
    public void Dispose() { Global.Dispose(); Tokens.Dispose(); }
}

/// <summary>
/// R2D2 needs both the global features (pre-ranking) and the tokens (cross encoders) of every image and text.
/// Where a tower's global feature is a linear projection of its first token (CLIP's ViT: proj of the class
/// token; a BERT tower: text_projection of [CLS]) one pass gives both; this is checked once on a random input
/// against the model's own Encode* methods, and towers that pool otherwise (BriVL's heads, attention pools)
/// run twice. The projection is looked up by name on the module passed in, so one check serves the student and
/// its EMA teacher (same architecture).
/// </summary>
public sealed class R2d2TowerOutputs
{
    private const string ImageProjection = "proj";
    private const string TextProjection = "text_projection";
    private readonly bool imageOnePass;
    private readonly bool textOnePass;

    public R2d2TowerOutputs(DualEncoder model)
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            using var g = new Generator(17);
            var size = model.Config.Vision.ImageSize;
            using var cpuImages = randn([2, 3, size, size], generator: g);   // CPU generator: the same probe on every device
            using var images = cpuImages.to(model.Device);
            // Only ids every BERT vocab has ([CLS] [UNK] [MASK] [SEP]): runs build their vocab from their captions,
            // so it may hold no more than a few thousand tokens.
            using var ids = tensor(new long[] { 101, 100, 103, 102, 101, 103, 102, 0 }, [2, 4], device: model.Device);
            imageOnePass = Find(model.Visual, ImageProjection) is not null && Agrees(model.EncodeImage(images), () => Image(model, images, onePass: true));
            textOnePass = Find(model, TextProjection) is not null && Agrees(model.EncodeText(ids), () => Text(model, ids, onePass: true));
        }
        finally { if (wasTraining) model.train(); }
    }

    public bool ImageInOnePass => imageOnePass;
    public bool TextInOnePass => textOnePass;

    public GlobalAndTokens Image(DualEncoder model, Tensor images) => Image(model, images, imageOnePass);

    public GlobalAndTokens Text(DualEncoder model, Tensor tokenIds) => Text(model, tokenIds, textOnePass);

    private static GlobalAndTokens Image(DualEncoder model, Tensor images, bool onePass)
    {
        using var scope = NewDisposeScope();
        var tokens = model.Visual.ForwardTokens(images);
        var proj = onePass ? Find(model.Visual, ImageProjection) : null;
        var global = proj is null ? model.EncodeImage(images) : Project(tokens, proj);
        return new GlobalAndTokens(global.MoveToOuterDisposeScope(), tokens.MoveToOuterDisposeScope());
    }

    private static GlobalAndTokens Text(DualEncoder model, Tensor ids, bool onePass)
    {
        using var scope = NewDisposeScope();
        var tokens = model.Text.ForwardTokens(ids);
        var proj = onePass ? Find(model, TextProjection) : null;
        var global = proj is null ? model.EncodeText(ids) : Project(tokens, proj);
        return new GlobalAndTokens(global.MoveToOuterDisposeScope(), tokens.MoveToOuterDisposeScope());
    }

    /// <summary>tokens[:, 0] · P as DualEncoder computes it (Autocast.Linear with Pᵀ, then float32).</summary>
    private static Tensor Project(Tensor tokens, Parameter projection)
    {
        using var first = tokens[.., 0];
        using var pt = projection.t();
        var y = Autocast.Linear(first, pt, null);
        if (y.dtype == ScalarType.Float32) return y;
        using (y) return y.to(ScalarType.Float32);
    }

    private static Parameter? Find(nn.Module module, string name) =>
        module.named_parameters(recurse: false).Where(p => p.name == name).Select(p => p.parameter).FirstOrDefault();

    private static bool Agrees(Tensor reference, Func<GlobalAndTokens> onePass)
    {
        using (reference)
        {
            try
            {
                using var candidate = onePass();
                return candidate.Global.shape.SequenceEqual(reference.shape) && candidate.Global.allclose(reference, 1e-5, 1e-6);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or TuwenException or ExternalException)
            {
                return false;
            }
        }
    }
}
