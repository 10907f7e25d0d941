using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// CLIP's "modified" ResNet bottleneck (expansion 4). Every convolution keeps stride 1; a stride-2 block
/// downsamples by average pooling before conv3 and in the shortcut, which anti-aliases the subsampling that a
/// strided convolution would do by dropping pixels.
/// </summary>
public sealed class Bottleneck : nn.Module<Tensor, Tensor>
{
    public const int Expansion = 4;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly nn.Module<Tensor, Tensor>? avgpool;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly Sequential? downsample;

    public Bottleneck(long inplanes, long planes, int stride) : base(nameof(Bottleneck))
    {
        conv1 = nn.Conv2d(inplanes, planes, 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = nn.Conv2d(planes, planes, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        avgpool = stride > 1 ? nn.AvgPool2d(stride) : null;
        conv3 = nn.Conv2d(planes, planes * Expansion, 1, bias: false);
        bn3 = nn.BatchNorm2d(planes * Expansion);
        if (stride > 1 || inplanes != planes * Expansion)
            // Named "-1", "0", "1" as in CLIP, so checkpoints map by name (the pool has no parameters).
            downsample = nn.Sequential(
                ("-1", nn.AvgPool2d(stride)),
                ("0", nn.Conv2d(inplanes, planes * Expansion, 1, bias: false)),
                ("1", nn.BatchNorm2d(planes * Expansion)));
        // CLIP's init: the last BN of each residual branch starts at zero, so every block starts as the identity
        // (plus its shortcut projection) and deep stacks train from scratch without a warm-up of their own.
        using (no_grad()) bn3.weight!.zero_();
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.relu(bn1.forward(conv1.forward(x)));
        h = nn.functional.relu(bn2.forward(conv2.forward(h)));
        if (avgpool != null) h = avgpool.forward(h);
        h = bn3.forward(conv3.forward(h));
        var identity = downsample != null ? downsample.forward(x) : x;
        return nn.functional.relu(Scalars.Add(h, identity)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// CLIP's ResNet trunk: a 3-convolution stem (3×3 convolutions with BN and ReLU, the first strided, then a
/// 2×2 average pool) and stages of <see cref="Bottleneck"/>s, stage i with width·2^i planes and stride 2 from
/// the second stage on. Output: a feature map [B, <see cref="OutputChannels"/>, H/<see cref="Reduction"/>,
/// W/<see cref="Reduction"/>]. Used by the "resnet" tower (with attention pooling) and by BriVL's tower
/// (with region pooling).
/// </summary>
public sealed class ResNetTrunk : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly AvgPool2d avgpool;
    private readonly List<Sequential> stages = [];

    public ResNetTrunk(int width, IReadOnlyList<int> stageDepths) : base(nameof(ResNetTrunk))
    {
        if (width < 2 || width % 2 != 0) throw new TuwenException($"vision.width of a ResNet must be an even number ≥ 2, got {width}");
        if (stageDepths.Count == 0 || stageDepths.Any(d => d < 1))
            throw new TuwenException($"vision.stage_depths of a ResNet must list at least one stage, each ≥ 1 block (got [{string.Join(",", stageDepths)}])");
        conv1 = nn.Conv2d(3, width / 2, 3, stride: 2, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(width / 2);
        conv2 = nn.Conv2d(width / 2, width / 2, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(width / 2);
        conv3 = nn.Conv2d(width / 2, width, 3, padding: 1, bias: false);
        bn3 = nn.BatchNorm2d(width);
        avgpool = nn.AvgPool2d(2);
        RegisterComponents();

        long inplanes = width;
        for (var i = 0; i < stageDepths.Count; i++)
        {
            long planes = (long)width << i;
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            for (var b = 0; b < stageDepths[i]; b++)
            {
                blocks.Add(new Bottleneck(inplanes, planes, b == 0 && i > 0 ? 2 : 1));
                inplanes = planes * Bottleneck.Expansion;
            }
            var stage = nn.Sequential(blocks);
            stages.Add(stage);
            register_module($"layer{i + 1}", stage);   // layer1 … layerN, as CLIP names them
        }
        OutputChannels = inplanes;
        Reduction = 2 << stageDepths.Count;
    }

    /// <summary>Channels of the output feature map (width · 2^(stages−1) · 4; 2048 for RN50).</summary>
    public long OutputChannels { get; }

    /// <summary>Input pixels per feature-map cell along each side: 2 (stem conv) · 2 (stem pool) · 2 per later stage.</summary>
    public int Reduction { get; }

    /// <summary>The side of the feature map for a square input, or a clear error when the input does not divide.</summary>
    public int FeatureSide(int imageSize)
    {
        if (imageSize % Reduction != 0)
            throw new TuwenException($"vision.image_size {imageSize} must be a multiple of {Reduction} for a ResNet with {stages.Count} stages");
        return imageSize / Reduction;
    }

    /// <summary>Modules by the names CLIP gives them (conv1 … bn3, layer1 …), for towers that expose them flat.</summary>
    public IEnumerable<(string Name, nn.Module Module)> Parts =>
        new (string, nn.Module)[] { ("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("conv3", conv3), ("bn3", bn3), ("avgpool", avgpool) }
            .Concat(stages.Select((s, i) => ($"layer{i + 1}", (nn.Module)s)));

    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(bn1.forward(conv1.forward(images)));
        x = nn.functional.relu(bn2.forward(conv2.forward(x)));
        x = nn.functional.relu(bn3.forward(conv3.forward(x)));
        x = avgpool.forward(x);
        foreach (var stage in stages) x = stage.forward(x);
        return x.MoveToOuterDisposeScope();
    }
}
