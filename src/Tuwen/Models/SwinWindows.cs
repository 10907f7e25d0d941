using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// The index arithmetic of Swin's window attention (Liu et al. 2021): cutting a token grid into
/// non-overlapping windows and back, the relative-position index into the bias table, and which token pairs
/// of a cyclically shifted grid may attend to each other. Pure functions of the sizes, so they are computed
/// once per block and kept out of checkpoints.
/// </summary>
public static class SwinWindows
{
    /// <summary>[B, H, W, C] → [B·nW, ws·ws, C], windows in row-major order, tokens row-major inside each.</summary>
    public static Tensor Partition(Tensor x, int window)
    {
        long b = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
        return x.view(b, h / window, window, w / window, window, c).permute(0, 1, 3, 2, 4, 5)
            .reshape(-1, window * window, c);
    }

    /// <summary>Inverse of <see cref="Partition"/>: [B·nW, ws·ws, C] → [B, H, W, C].</summary>
    public static Tensor Merge(Tensor windows, int window, long height, long width)
    {
        var c = windows.shape[2];
        var b = windows.shape[0] / (height / window * (width / window));
        return windows.view(b, height / window, width / window, window, window, c).permute(0, 1, 3, 2, 4, 5)
            .reshape(b, height, width, c);
    }

    /// <summary>
    /// int64 [N, N] with N = ws²: for query token i at (yᵢ, xᵢ) and key token j at (yⱼ, xⱼ) inside a window,
    /// the row of the (2ws−1)² bias table for their offset: (yᵢ−yⱼ+ws−1)·(2ws−1) + (xᵢ−xⱼ+ws−1).
    /// </summary>
    public static Tensor RelativePositionIndex(int window)
    {
        var n = window * window;
        var span = 2 * window - 1;
        var index = new long[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                int dy = i / window - j / window, dx = i % window - j % window;
                index[i * n + j] = (dy + window - 1) * span + dx + window - 1;
            }
        return tensor(index, [n, n]);
    }

    /// <summary>
    /// bool [nW, N, N]: true where query i may attend to key j in window w of a grid that was rolled by
    /// −<paramref name="shift"/> in both directions. The roll brings tokens from opposite image edges into the
    /// same window; they must not see each other, so each window's tokens are labelled by which of the three
    /// bands (rows [0, H−ws), [H−ws, H−shift), [H−shift, H), and likewise columns) they came from, and only
    /// equal labels may attend. shift 0 allows everything.
    /// </summary>
    public static Tensor ShiftedAttendMask(int height, int width, int window, int shift)
    {
        static int Band(int p, int size, int window, int shift) => p < size - window ? 0 : p < size - shift ? 1 : 2;
        int nh = height / window, nw = width / window, n = window * window;
        var allowed = new bool[nh * nw * n * n];
        for (var wy = 0; wy < nh; wy++)
            for (var wx = 0; wx < nw; wx++)
            {
                var labels = new int[n];
                for (var t = 0; t < n; t++)
                {
                    int y = wy * window + t / window, x = wx * window + t % window;
                    labels[t] = shift == 0 ? 0 : 3 * Band(y, height, window, shift) + Band(x, width, window, shift);
                }
                var offset = (wy * nw + wx) * n * n;
                for (var i = 0; i < n; i++)
                    for (var j = 0; j < n; j++)
                        allowed[offset + i * n + j] = labels[i] == labels[j];
            }
        return tensor(allowed, [nh * nw, n, n]);
    }
}
