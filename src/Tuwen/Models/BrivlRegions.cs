using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// BriVL's fixed regions (the brivl-nmi variant, no detector): a grid×grid tiling of the image, column-major
/// (box i·S/g … (i+1)·S/g along x in the outer loop, as BriVL builds them), then the whole image — always all
/// valid. Each box is read off the CNN feature map by bilinear sampling at the centres of a 4×4 grid of
/// sub-cells (affine_grid + grid_sample) and averaged.
/// <para>
/// Sampling and averaging are both linear in the feature map and the boxes never change, so the whole pooling
/// is one fixed matrix A [R, h·w] with pooled[b] = A · F[b] (cells flattened): built once here by running
/// affine_grid/grid_sample on one-hot maps, then applied as a matmul instead of sampling B·R·16 points per
/// step. BriVL's 1×1 convolution after sampling commutes with the average, so the tower applies it (as a
/// linear layer) to the pooled features — exactly the same result.
/// </para>
/// <para>
/// One deliberate difference from BriVL's code: its θ = [[(x2'−x1')/(w−1), 0, (x1'+x2'−w+1)/(w−1)], …] is the
/// align_corners=True mapping, but it calls grid_sample with the default align_corners=False and zero padding,
/// so the sample positions are stretched by w/(w−1) towards the bottom-right and boxes at the right and bottom
/// border sample partly outside the map, which zero padding weights as 0 (on a 4×4 map the whole-image box
/// samples pixel positions 0.17, 1.5, 2.83, 4.17 per axis and keeps 9/16 of its mass). Here θ is the
/// align_corners=False form — θ = [[(x2'−x1')/w, 0, (x1'+x2')/w − 1], [0, (y2'−y1')/h, (y1'+y2')/h − 1]] with
/// x' = x·w/S — and padding is "border", so every sample lies at a sub-cell centre inside its own box and a
/// constant map pools to that constant.
/// </para>
/// </summary>
public sealed class BrivlRegions : IDisposable
{
    public const int Samples = 4;   // BriVL's GRID_SIZE: 4×4 sampling points per box

    private readonly Tensor pooling;

    public BrivlRegions(int imageSize, int featureSide, int grid)
    {
        if (grid < 1 || grid > featureSide)
            throw new TuwenException($"vision.region_grid must be in [1, {featureSide}] (the CNN feature map is {featureSide}×{featureSide} at {imageSize} px), got {grid}");
        Grid = grid;
        Boxes = GridBoxes(imageSize, grid);
        using var scope = NewDisposeScope();
        int n = Boxes.Length, cells = featureSide * featureSide;
        var theta = new float[n * 6];
        for (var r = 0; r < n; r++)
        {
            var (x1, y1, x2, y2) = Boxes[r];
            double s = featureSide / (double)imageSize;
            double fx1 = x1 * s, fy1 = y1 * s, fx2 = x2 * s, fy2 = y2 * s;
            theta[r * 6 + 0] = (float)((fx2 - fx1) / featureSide);
            theta[r * 6 + 2] = (float)((fx1 + fx2) / featureSide - 1);
            theta[r * 6 + 4] = (float)((fy2 - fy1) / featureSide);
            theta[r * 6 + 5] = (float)((fy1 + fy2) / featureSide - 1);
        }
        using var _ = no_grad();
        var sampling = nn.functional.affine_grid(tensor(theta, [n, 2, 3]), [n, cells, Samples, Samples], align_corners: false);
        var oneHot = eye(cells).view(1, cells, featureSide, featureSide).expand(n, cells, featureSide, featureSide);
        var sampled = nn.functional.grid_sample(oneHot, sampling, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false);
        pooling = sampled.mean([2, 3]).contiguous().DetachFromDisposeScope();   // [R, h·w]
    }

    public int Grid { get; }

    /// <summary>The boxes in input pixels (x1, y1, x2, y2): grid² tiles, then the whole image.</summary>
    public (double X1, double Y1, double X2, double Y2)[] Boxes { get; }

    public int Count => Boxes.Length;

    /// <summary>A [R, h·w]: row r holds the weight of each feature-map cell in region r's pooled feature.</summary>
    public Tensor Pooling => pooling;

    public static (double, double, double, double)[] GridBoxes(int imageSize, int grid)
    {
        var boxes = new List<(double, double, double, double)>();
        double step = imageSize / (double)grid;
        for (var i = 0; i < grid; i++)
            for (var j = 0; j < grid; j++)
                boxes.Add((i * step, j * step, (i + 1) * step, (j + 1) * step));
        boxes.Add((0, 0, imageSize, imageSize));
        return boxes.ToArray();
    }

    /// <summary>Region features [B, R, C] of a feature map [B, C, h, w].</summary>
    public Tensor Pool(Tensor map)
    {
        using var scope = NewDisposeScope();
        var cells = map.flatten(2).transpose(1, 2);                           // [B, h·w, C]
        var a = pooling.device == map.device && pooling.dtype == map.dtype ? pooling : pooling.to(map.dtype, map.device);
        return a.matmul(cells).MoveToOuterDisposeScope();
    }

    public void Dispose() => pooling.Dispose();
}
