using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Tests.Models;

public class ResNetTests
{
    private static readonly VisionConfig Small = new() { Type = "resnet", ImageSize = 64, Width = 8, StageDepths = [1, 1, 1, 1], Heads = 2 };

    private static Dictionary<string, Tensor> Params(nn.Module m) => m.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);

    [Fact]
    public void Rn50VisualTowerHasClipsParameterCountAndNames()
    {
        var config = ModelConfig.Load("rn50");
        using var model = new DualEncoder(config);
        var tower = model.Visual;
        // CLIP RN50 visual, by hand (BN = weight + bias; running statistics are buffers):
        //   stem: conv 3→32 (864) + bn 64 + conv 32→32 (9,216) + bn 64 + conv 32→64 (18,432) + bn 128  = 28,768
        //   bottleneck(in, p) = in·p + 2p + 9p² + 2p + 4p² + 8p, plus in·4p + 8p for the first block of a stage
        //   layer1 (p=64):  first (in 64) 75,008 + 2·70,400 (in 256)                                  = 215,808
        //   layer2 (p=128): first (in 256) 32,768 + 256 + 147,456 + 256 + 65,536 + 1,024 + 131,072 + 1,024 = 379,392;
        //                   others (in 512) 65,536 + 256 + 147,456 + 256 + 65,536 + 1,024 = 280,064
        //                   379,392 + 3·280,064                                                        = 1,219,584
        //   layer3 (p=256): first 1,512,448 + 5·1,117,184                                            = 7,098,368
        //   layer4 (p=512): first 6,039,552 + 2·4,462,592                                            = 14,964,736
        //   attnpool: positions (7²+1)·2048 = 102,400; q,k,v 3·(2048² + 2048) = 12,589,056;
        //             c_proj 2048·1024 + 1024 = 2,098,176                                            = 14,789,632
        //   total 28,768 + 215,808 + 1,219,584 + 7,098,368 + 14,964,736 + 14,789,632                  = 38,316,896
        Assert.Equal(38_316_896L, tower.parameters().Sum(p => p.numel()));
        // Chinese-CLIP's model card: RN50 + RBT3 = 77 M parameters in all (anchors.md §1.2).
        Assert.Equal(77, Math.Round(model.ParameterCount() / 1e6));
        var names = Params(tower).Keys.ToHashSet();
        foreach (var n in new[] { "conv1.weight", "bn3.bias", "layer1.0.downsample.0.weight", "layer1.0.downsample.1.weight",
                                  "layer3.5.conv3.weight", "layer4.2.bn3.bias", "attnpool.positional_embedding", "attnpool.c_proj.weight" })
            Assert.Contains(n, names);
        Assert.DoesNotContain("layer3.6.conv1.weight", names);
        Assert.DoesNotContain("layer1.1.downsample.0.weight", names);
        Assert.All(names, n => Assert.False(n.StartsWith("trunk.", StringComparison.Ordinal), n));
    }

    [Fact]
    public void SmallResNetShapesAndTokensShareThePoolsProjection()
    {
        manual_seed(1);
        using var tower = new ResNetImageEncoder(Small, 16);
        tower.eval();
        using var images = randn(2, 3, 64, 64);
        using var pooled = tower.forward(images);
        using var tokens = tower.ForwardTokens(images);
        using var patches = tower.PatchEmbeddings(images);
        Assert.Equal(new long[] { 2, 16 }, pooled.shape);
        Assert.Equal(new long[] { 2, 1 + 4, 8 * 8 * 4 }, tokens.shape);   // 64 px / 32 = 2×2 cells, 256 channels
        Assert.Equal(new long[] { 2, 4, 16 }, patches.shape);
        Assert.Equal((2, 2), tower.TokenGrid);
        // Both outputs are c_proj of the token they come from: the pooled token and every cell's value.
        var p = Params(tower);
        using var w = p["attnpool.c_proj.weight"];
        using var b = p["attnpool.c_proj.bias"];
        using var fromTokens = nn.functional.linear(tokens[.., 0], w, b);
        using var cellsFromTokens = nn.functional.linear(tokens[.., 1..], w, b);
        Assert.True(fromTokens.allclose(pooled, 1e-5, 1e-5));
        Assert.True(cellsFromTokens.allclose(patches, 1e-5, 1e-5));
        Assert.False(pooled.allclose(patches[.., 0], 1e-3, 1e-3));
    }

    [Fact]
    public void StrideTwoBlocksHalveTheMapAndBadSizesAreRefused()
    {
        using var trunk = new ResNetTrunk(16, [2, 2]);
        Assert.Equal(8, trunk.Reduction);
        Assert.Equal(8, trunk.FeatureSide(64));
        using var x = randn(1, 3, 64, 64);
        using var y = trunk.forward(x);
        Assert.Equal(new long[] { 1, 128, 8, 8 }, y.shape);       // 16·2 planes · 4 = 128 channels
        Assert.Throws<TuwenException>(() => trunk.FeatureSide(60));
        Assert.Throws<TuwenException>(() => new ResNetTrunk(7, [1]));
        Assert.Throws<TuwenException>(() => new ResNetImageEncoder(Small with { Heads = 3 }, 16));
    }

    [Fact]
    public void AttentionPoolOnAHandCheckedMap()
    {
        using var pool = new AttentionPool2d(2, 2, 1, 2);
        using (no_grad())
            foreach (var (name, p) in pool.named_parameters())
            {
                if (name.EndsWith("weight", StringComparison.Ordinal)) p.copy_(eye(2));
                else p.zero_();   // biases and the positional embedding
            }
        // Cells (row-major) t1=(2,0), t2=(0,0), t3=(0,0), t4=(0,2); mean token m=(0.5,0.5) is the only query.
        using var map = tensor(new float[] { 2, 0, 0, 0, /* channel 1 */ 0, 0, 0, 2 }, [1, 2, 2, 2]);
        // Scores m·k/√2 for keys [m, t1..t4] = [0.353553, 0.707107, 0, 0, 0.707107];
        // exp = [1.424119, 2.028115, 1, 1, 2.028115], sum 7.480349;
        // output = (1.424119·(0.5,0.5) + 2.028115·(2,0) + 2.028115·(0,2)) / 7.480349 = (0.637442, 0.637442).
        using var y = pool.forward(map);
        Assert.Equal(new[] { 0.637442f, 0.637442f }, y.data<float>().ToArray().Select(v => MathF.Round(v, 6)));
        using var tokens = pool.Tokens(map);
        // With identity projections and zero positions each cell's value token is the cell itself.
        Assert.Equal(new float[] { 0.637442f, 0.637442f, 2, 0, 0, 0, 0, 0, 0, 2 }, tokens.data<float>().ToArray().Select(v => MathF.Round(v, 6)));
    }
}
