using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Tests.Models;

public class BrivlTowerTests
{
    [Fact]
    public void GridBoxesAreSixBySixColumnMajorThenTheWholeImage()
    {
        var boxes = BrivlRegions.GridBoxes(384, 6);
        Assert.Equal(37, boxes.Length);
        Assert.Equal((0d, 0d, 64d, 64d), boxes[0]);
        Assert.Equal((0d, 64d, 64d, 128d), boxes[1]);       // inner loop walks down (y)
        Assert.Equal((64d, 0d, 128d, 64d), boxes[6]);       // outer loop walks right (x)
        Assert.Equal((320d, 320d, 384d, 384d), boxes[35]);
        Assert.Equal((0d, 0d, 384d, 384d), boxes[36]);
        using var regions = new BrivlRegions(384, 12, 6);
        Assert.Equal(37, regions.Count);
        Assert.Equal(new long[] { 37, 144 }, regions.Pooling.shape);
    }

    [Fact]
    public void RegionWeightsAreTheBilinearSamplesOfEachBox()
    {
        // 64 px image, 4×4 map, 2×2 grid: box 0 spans cells [0,2) on both axes. Its 4 samples per axis sit at
        // sub-cell centres 0.25, 0.75, 1.25, 1.75, i.e. pixel-index positions −0.25 (clamped to 0), 0.25, 0.75,
        // 1.25 → per-axis weights: cell0 (1 + 0.75 + 0.25)/4 = 0.5, cell1 (0.25 + 0.75 + 0.75)/4 = 0.4375,
        // cell2 0.25/4 = 0.0625, cell3 0. The 2-D weight of cell (y, x) is w[y]·w[x].
        using var regions = new BrivlRegions(64, 4, 2);
        var a = regions.Pooling.data<float>().ToArray();
        float At(int r, int y, int x) => a[r * 16 + y * 4 + x];
        Assert.Equal(0.25f, At(0, 0, 0), 6);
        Assert.Equal(0.5f * 0.4375f, At(0, 0, 1), 6);
        Assert.Equal(0.4375f * 0.4375f, At(0, 1, 1), 6);
        Assert.Equal(0.0625f * 0.0625f, At(0, 2, 2), 6);
        Assert.Equal(0f, At(0, 0, 3), 6);
        // Box 1 is (x 0–32, y 32–64): the y weights mirror.
        Assert.Equal(0.25f, At(1, 3, 0), 6);
        Assert.Equal(0f, At(1, 0, 0), 6);
        // The whole-image box samples exactly the 16 cell centres: uniform 1/16.
        for (var c = 0; c < 16; c++) Assert.Equal(1 / 16f, a[4 * 16 + c], 6);
    }

    [Fact]
    public void PoolingAConstantMapGivesTheConstant()
    {
        using var regions = new BrivlRegions(384, 12, 6);
        using var map = full(2, 3, 12, 12, 2.5f);
        using var pooled = regions.Pool(map);
        Assert.Equal(new long[] { 2, 37, 3 }, pooled.shape);
        Assert.True(pooled.sub(2.5).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void MaskedMeanIgnoresPaddedSlots()
    {
        // Row 0: slots (1,2), (3,4) valid, (100,100) padded → ((1+3)/2, (2+4)/2) = (2, 3). Row 1: nothing valid → 0.
        using var x = tensor(new float[] { 1, 2, 3, 4, 100, 100, /* row 1 */ 5, 5, 6, 6, 7, 7 }, [2, 3, 2]);
        using var valid = tensor(new[] { true, true, false, false, false, false }, [2, 3]);
        using var mean = BrivlHead.MaskedMean(x, valid);
        Assert.Equal(new float[] { 2, 3, 0, 0 }, mean.data<float>().ToArray());
    }

    [Fact]
    public void HeadOutputDoesNotSeePaddedSlots()
    {
        manual_seed(2);
        using var head = new BrivlHead(8, 2, 2, 16, 4, "text");
        using var x = randn(1, 3, 8);
        using var valid = tensor(new[] { true, true, false }, [1, 3]);
        using var masked = head.forward(x, valid);
        using var trimmed = head.forward(x[.., ..2], null);
        Assert.True(masked.allclose(trimmed, 1e-5, 1e-5));
        using var other = x.clone();
        using (no_grad()) other[0, 2].fill_(50);
        using var masked2 = head.forward(other, valid);
        Assert.True(masked2.allclose(masked, 1e-5, 1e-5));
        using var unmasked = head.forward(other, null);
        Assert.False(unmasked.allclose(masked, 1e-3, 1e-3));   // the padded slot matters when not masked
    }

    [Fact]
    public void TinyBrivlTowersHaveTheirShapesAndNoTextProjection()
    {
        var config = ModelConfig.Load("tiny-brivl");
        manual_seed(3);
        using var model = new DualEncoder(config);
        model.eval();
        var visual = Assert.IsType<BrivlImageEncoder>(model.Visual);
        Assert.Equal(17, visual.Regions);                        // 4×4 grid on the 8×8 map + whole image
        using var images = randn(2, 3, 64, 64);
        using var ids = tensor(new long[] { 101, 2000, 3000, 102, 0, 0, /* */ 101, 4000, 102, 0, 0, 0 }, [2, 6]);
        using var img = model.EncodeImage(images);
        using var tokens = model.Visual.ForwardTokens(images);
        using var txt = model.EncodeText(ids);
        Assert.Equal(new long[] { 2, 128 }, img.shape);
        Assert.Equal(new long[] { 2, 18, 128 }, tokens.shape);
        Assert.Equal(new long[] { 2, 128 }, txt.shape);
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        Assert.DoesNotContain("text_projection", names);
        Assert.Contains("visual.trunk.layer2.1.conv3.weight", names);
        Assert.Contains("visual.region_conv.weight", names);
        Assert.Contains("visual.head.layers.1.self_attn.in_proj_weight", names);
        Assert.Contains("bert.embeddings.word_embeddings.weight", names);
        Assert.Contains("bert.head.fc2.weight", names);
        // Padding the same captions further changes nothing (BERT and the head both mask [PAD]).
        using var longer = cat([ids, zeros(2, 4, ScalarType.Int64)], 1);
        using var txtLonger = model.EncodeText(longer);
        Assert.True(txtLonger.allclose(txt, 1e-5, 1e-5));
    }

    [Fact]
    public void TowersGiveFloat32FeaturesUnderBf16Autocast()
    {
        manual_seed(4);
        using var model = new DualEncoder(ModelConfig.Load("tiny-brivl") with
        {
            Vision = new VisionConfig { Type = "resnet", ImageSize = 64, Width = 8, StageDepths = [1, 1, 1], Heads = 4 },
        });
        using var brivl = new DualEncoder(ModelConfig.Load("tiny-brivl"));
        using var images = randn(2, 3, 64, 64);
        using var ids = tensor(new long[] { 101, 2000, 102, 0, /* */ 101, 3000, 4000, 102 }, [2, 4]);
        using var scope = NewDisposeScope();
        using (Autocast.Enable(ScalarType.BFloat16))
        {
            var fp32 = new[] { model.EncodeImage(images), model.EncodeImageTokens(images), brivl.EncodeImage(images), brivl.EncodeText(ids) };
            Assert.All(fp32, t => Assert.Equal(ScalarType.Float32, t.dtype));
            Assert.All(fp32, t => Assert.True(t.isfinite().all().item<bool>()));
            using var f = brivl.forward(images, ids);
            f.Image.mul(f.Text).sum().backward();
        }
        Assert.NotNull(brivl.named_parameters().Single(p => p.name == "visual.trunk.conv1.weight").parameter.grad);
    }

    [Fact]
    public void BadBrivlSizesAreUserErrors()
    {
        var good = ModelConfig.Load("tiny-brivl").Vision;
        Assert.Throws<TuwenException>(() => new BrivlImageEncoder(good with { RegionGrid = 9 }, 16));     // 8×8 map
        Assert.Throws<TuwenException>(() => new BrivlImageEncoder(good with { StageDepths = [1, 1, 1, 1, 1] }, 16));  // 64 px / 64 = 1 cell
        Assert.Throws<TuwenException>(() => new BrivlImageEncoder(good with { HeadHidden = 0 }, 16));
        Assert.Throws<TuwenException>(() => new BrivlImageEncoder(good with { HeadHeads = 3 }, 16));
        var brivl = ModelConfig.Load("brivl");
        Assert.Equal(2048, brivl.EmbedDim);
        Assert.Equal(6, brivl.Vision.RegionGrid);
    }
}
