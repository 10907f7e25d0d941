using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Tests.Models;

public class SwinTransformerTests
{
    /// <summary>32 px, 4 px patches → 8×8 grid, window 4: stage 0 has 4 windows and a shifted block; stage 1 is a
    /// 4×4 grid = one window, so it must run unshifted.</summary>
    internal static readonly VisionConfig MicroSwin = new()
    {
        Type = "swin", ImageSize = 32, PatchSize = 4, Width = 16, StageDepths = [2, 2], StageHeads = [1, 2], WindowSize = 4,
    };

    [Fact]
    public void OutputShapesAndTokenGrid()
    {
        manual_seed(1);
        using var tower = new SwinTransformer(MicroSwin, 24);
        using var images = randn(2, 3, 32, 32);
        using var global = tower.forward(images);
        using var tokens = tower.ForwardTokens(images);
        using var patches = tower.PatchEmbeddings(images);
        Assert.Equal([2L, 24], global.shape);
        Assert.Equal([2L, 16, 32], tokens.shape);          // 8×8 → merged 4×4 = 16 tokens, width 16·2
        Assert.Equal([2L, 16, 24], patches.shape);
        Assert.Equal((4, 4), tower.TokenGrid);
        Assert.Equal(32, tower.FinalWidth);
        // Geometry: (window, shift). Stage 0 on 8×8: window 4, shift 0 then 2; stage 1 on 4×4 ≤ window: 4, no shift.
        Assert.Equal([(4, 0), (4, 2)], tower.Stages[0].Blocks.Select(b => b.Geometry));
        Assert.Equal([(4, 0), (4, 0)], tower.Stages[1].Blocks.Select(b => b.Geometry));
        // The head is linear, so head(mean of tokens) = mean of head(token): the global feature is the average pool.
        using var pooled = patches.mean([1]);
        Assert.True(pooled.allclose(global, 1e-5, 1e-5));
    }

    [Fact]
    public void ShippedConfigsBuildAndTinySwinClampsItsLastStages()
    {
        var tiny = ModelConfig.Load("tiny-swin");
        using var model = new DualEncoder(tiny);
        using var images = randn(2, 3, 64, 64);
        using var features = model.EncodeImage(images);
        Assert.Equal([2L, 128], features.shape);
        var swin = (SwinTransformer)model.Visual;
        Assert.Equal((2, 2), swin.TokenGrid);   // 64/4 = 16 → 8 → 4 → 2
        // 16×16 and 8×8 grids use 4×4 windows with shift 2; 4×4 is one window; 2×2 is clamped to a 2×2 window.
        Assert.Equal((4, 2), swin.Stages[1].Blocks[1].Geometry);
        Assert.Equal((4, 0), swin.Stages[2].Blocks[1].Geometry);
        Assert.Equal((2, 0), swin.Stages[3].Blocks[1].Geometry);
        Assert.Equal("swin", ModelConfig.Load("swin-t").Vision.Type);
    }

    [Fact]
    public void SwinTBackboneHasTheKnownParameterCount()
    {
        // Swin-T (timm swin_tiny_patch4_window7_224) has 28,288,354 parameters including its ImageNet head
        // 768×1000 + 1000 = 769,000, so the backbone has 27,519,354. By hand:
        //   patch embedding: conv 3·4·4·96 + 96 = 4,704; LayerNorm 2·96 = 192                     →      4,896
        //   a block of width C, h heads: norm1 2C + qkv 3C²+3C + proj C²+C + norm2 2C + mlp 4C²+4C + 4C²+C
        //     = 12C² + 13C, plus the bias table (2·7−1)² · h = 169h
        //   stage 0 (C 96, h 3)   2 × (110,592 + 1,248 + 507)        =    224,694
        //   stage 1 (C 192, h 6)  2 × (442,368 + 2,496 + 1,014)      =    891,756
        //   stage 2 (C 384, h 12) 6 × (1,769,472 + 4,992 + 2,028)    = 10,658,952
        //   stage 3 (C 768, h 24) 2 × (7,077,888 + 9,984 + 4,056)    = 14,183,856   (7×7 grid = one 7×7 window)
        //   merging at C: LayerNorm 2·4C + Linear 4C·2C (no bias) = 8C + 8C²:
        //     96 → 74,496; 192 → 296,448; 384 → 1,182,720
        //   final LayerNorm 2·768 = 1,536
        //   total 4,896 + 224,694 + 891,756 + 10,658,952 + 14,183,856 + 74,496 + 296,448 + 1,182,720 + 1,536 = 27,519,354
        var config = ModelConfig.Load("swin-t");
        using var tower = TowerRegistry.CreateImageTower(config.Vision, config.EmbedDim);
        var parameters = tower.named_parameters().ToList();
        Assert.Equal(27_519_354L, parameters.Where(p => !p.name.StartsWith("head.", StringComparison.Ordinal)).Sum(p => p.parameter.numel()));
        Assert.Equal(768L * 512 + 512, parameters.Where(p => p.name.StartsWith("head.", StringComparison.Ordinal)).Sum(p => p.parameter.numel()));
        // Index tables and shift masks are derived from the sizes, not state: nothing extra goes into checkpoints.
        Assert.Empty(tower.named_buffers());
        Assert.Equal((7, 7), tower.TokenGrid);
    }

    [Fact]
    public void RelativePositionIndexOfA2x2WindowByHand()
    {
        // Tokens 0:(0,0) 1:(0,1) 2:(1,0) 3:(1,1); index = (yi−yj+1)·3 + (xi−xj+1).
        // row 0: (0,0)−(0,0)→4, −(0,1)→(0,−1)→3, −(1,0)→(−1,0)→1, −(1,1)→0
        // row 1: (0,1)−…: (0,1)→5, (0,0)→4, (−1,1)→2, (−1,0)→1
        // row 2: (1,0)−…: (1,0)→7, (1,−1)→6, (0,0)→4, (0,−1)→3
        // row 3: (1,1)−…: (1,1)→8, (1,0)→7, (0,1)→5, (0,0)→4
        using var index = SwinWindows.RelativePositionIndex(2);
        Assert.Equal(new long[] { 4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4 }, index.data<long>().ToArray());
    }

    [Fact]
    public void ShiftedWindowMaskOnA4x4GridByHand()
    {
        // 4×4 grid rolled by −1, windows 2×2. Bands per axis: [0,2) → 0, [2,3) → 1, [3,4) → 2; label = 3·row band + col band.
        // window 0 (rows 0–1, cols 0–1): labels 0 0 0 0 → everyone attends everyone
        // window 1 (rows 0–1, cols 2–3): tokens (0,2) (0,3) (1,2) (1,3) → 1 2 1 2 → pairs {0,2}, {1,3}
        // window 2 (rows 2–3, cols 0–1): (2,0) (2,1) (3,0) (3,1) → 3 3 6 6 → pairs {0,1}, {2,3}
        // window 3 (rows 2–3, cols 2–3): 4 5 7 8 → each token only itself
        using var mask = SwinWindows.ShiftedAttendMask(4, 4, 2, 1);
        Assert.Equal([4L, 4, 4], mask.shape);
        bool[] all = Enumerable.Repeat(true, 16).ToArray();
        bool[] w1 = [true, false, true, false, false, true, false, true, true, false, true, false, false, true, false, true];
        bool[] w2 = [true, true, false, false, true, true, false, false, false, false, true, true, false, false, true, true];
        bool[] w3 = [true, false, false, false, false, true, false, false, false, false, true, false, false, false, false, true];
        var got = mask.data<bool>().ToArray();
        Assert.Equal(all, got[0..16]);
        Assert.Equal(w1, got[16..32]);
        Assert.Equal(w2, got[32..48]);
        Assert.Equal(w3, got[48..64]);
        using var unshifted = SwinWindows.ShiftedAttendMask(4, 4, 2, 0);
        Assert.True(unshifted.all().item<bool>());
    }

    [Fact]
    public void PartitionTakesRowMajorWindowsAndMergeInvertsIt()
    {
        using var grid = arange(16, ScalarType.Float32).view(1, 4, 4, 1);   // value = 4·row + col
        using var windows = SwinWindows.Partition(grid, 2);
        // Window 1 is the top-right 2×2: (0,2) (0,3) (1,2) (1,3) = 2 3 6 7; window 2 bottom-left = 8 9 12 13.
        Assert.Equal(new float[] { 2, 3, 6, 7 }, windows[1].flatten().data<float>().ToArray());
        Assert.Equal(new float[] { 8, 9, 12, 13 }, windows[2].flatten().data<float>().ToArray());
        using var back = SwinWindows.Merge(windows, 2, 4, 4);
        Assert.True(back.equal(grid).all().item<bool>());
    }

    /// <summary>How much output token <paramref name="watch"/> moves when input token <paramref name="poke"/> does.</summary>
    private static double Influence(SwinBlock block, int poke, int watch)
    {
        using var scope = NewDisposeScope();
        var x = randn(1, 64, 8, generator: new Generator(3));
        var y = x.clone();
        y[0, poke] += linspace(-1, 1, 8);   // not a constant: LayerNorm would erase a uniform shift
        using var _ = no_grad();
        return (block.forward(y)[0, watch] - block.forward(x)[0, watch]).abs().max().item<float>();
    }

    private static void AssertInfluence(SwinBlock block, int poke, int watch, bool connected)
    {
        var influence = Influence(block, poke, watch);
        Assert.True(connected ? influence > 1e-3 : influence < 1e-6, $"token {poke} → {watch}: influence {influence}, expected {(connected ? "> 1e-3" : "< 1e-6")}");
    }

    [Fact]
    public void ShiftedBlocksConnectNeighbouringWindowsButNotAcrossTheRollSeam()
    {
        manual_seed(2);
        // 8×8 grid, window 4, shift 2; token index = 8·row + col.
        using var plain = new SwinBlock(8, 2, 8, 8, 4, shifted: false, 4.0);
        using var shifted = new SwinBlock(8, 2, 8, 8, 4, shifted: true, 4.0);
        // Swin's 0.02 init makes attention almost uniform and its values tiny; larger weights make the
        // cross-token influence O(1), so "connected" and "not connected" are far apart.
        using (no_grad())
            foreach (var p in plain.parameters().Concat(shifted.parameters()).Where(p => p.dim() >= 2))
                nn.init.normal_(p, 0, 0.5);
        int t33 = 27, t34 = 28, t35 = 29, t00 = 0, t66 = 54, t77 = 63;
        // Unshifted: (3,3) is in window 0 (cols 0–3), (3,4) in window 1 → no influence; (3,5) shares window 1.
        AssertInfluence(plain, t34, t33, connected: false);
        AssertInfluence(plain, t34, t35, connected: true);
        // Shifted (rolled by −2): (3,3) → (1,1) and (3,4) → (1,2), both in rolled window 0, same band → connected.
        AssertInfluence(shifted, t34, t33, connected: true);
        // (0,0) → (6,6) and (7,7) → (5,5) share rolled window 3, but rows 6 and 5 are in different bands
        // (the roll wrapped (0,0) around the image edge) → masked; (6,6) → (4,4) is in (7,7)'s band → connected.
        AssertInfluence(shifted, t77, t00, connected: false);
        AssertInfluence(shifted, t77, t66, connected: true);
    }

    [Fact]
    public void GradientsReachEveryParameter()
    {
        manual_seed(4);
        using var tower = new SwinTransformer(MicroSwin, 24);
        using var images = randn(2, 3, 32, 32);
        using var loss = tower.forward(images).square().sum();
        loss.backward();
        foreach (var (name, p) in tower.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} has no gradient");
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{name} has an all-zero gradient");
        }
    }

    [Fact]
    public void Bf16AutocastStaysCloseToFloat32()
    {
        manual_seed(5);
        using var tower = new SwinTransformer(MicroSwin, 24);
        using var images = randn(2, 3, 32, 32);
        using var reference = tower.forward(images);
        Tensor low;
        using (Autocast.Enable(ScalarType.BFloat16)) low = tower.forward(images);
        using var low32 = low.to(ScalarType.Float32);
        low.Dispose();
        var error = (low32 - reference).abs().max().item<float>() / reference.abs().max().item<float>();
        Assert.True(error < 0.05, $"bf16 relative error {error}");
    }

    [Theory]
    [InlineData(new[] { 2, 2 }, new[] { 1 }, 16, 32, 4, "stage_heads has 1 entries")]
    [InlineData(new[] { 2, 2 }, new[] { 3, 2 }, 16, 32, 4, "not a multiple of its 3 heads")]
    [InlineData(new[] { 2 }, new[] { 1 }, 16, 48, 5, "does not split into 5×5 windows")]
    [InlineData(new[] { 2, 2, 2 }, new[] { 1, 1, 1 }, 16, 40, 5, "cannot be halved 2 times")]
    [InlineData(new int[0], new int[0], 16, 32, 4, "stage_depths must list")]
    public void BadConfigsAreClearErrors(int[] depths, int[] heads, int width, int imageSize, int window, string message)
    {
        var config = MicroSwin with { StageDepths = depths, StageHeads = heads, Width = width, ImageSize = imageSize, WindowSize = window };
        var e = Assert.Throws<TuwenException>(() => new SwinTransformer(config, 8));
        Assert.Contains(message, e.Message);
    }
}
