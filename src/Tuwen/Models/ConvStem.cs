using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// A convolutional patch embedding ("early convolutions help transformers see better", Xiao et al. 2021):
/// log2(patch) stride-2 3×3 convolutions with batch norm and ReLU, then a 1×1 convolution to the width. It
/// yields the same token grid as the plain patch embedding, at a small cost, and trains far better from
/// scratch on small data, where a single linear patch projection has to learn edges from few examples.
/// </summary>
public sealed class ConvStem : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public ConvStem(int patchSize, int width) : base(nameof(ConvStem))
    {
        var stages = (int)Math.Round(Math.Log2(patchSize));
        if (1 << stages != patchSize || stages < 1)
            throw new TuwenException($"vision.stem 'conv' needs a power-of-two patch_size, not {patchSize}");
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long channels = 3;
        for (var i = 0; i < stages; i++)
        {
            var next = Math.Min(width, 32L << i);
            modules.Add(($"conv{i}", nn.Conv2d(channels, next, 3, stride: 2, padding: 1, bias: false)));
            modules.Add(($"bn{i}", nn.BatchNorm2d(next)));
            modules.Add(($"relu{i}", nn.ReLU()));
            channels = next;
        }
        modules.Add(("proj", nn.Conv2d(channels, width, 1)));
        layers = nn.Sequential(modules);
        RegisterComponents();
    }

    public override Tensor forward(Tensor images) => layers.forward(images);
}
