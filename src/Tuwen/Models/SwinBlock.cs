using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// Multi-head self-attention inside windows of ws×ws tokens with a learned bias per relative offset
/// ((2ws−1)² × heads table, indexed by <see cref="SwinWindows.RelativePositionIndex"/>). Scores, bias, mask
/// and softmax run in float32, as everywhere in Tuwen (see <see cref="Autocast.Attention"/>).
/// </summary>
public sealed class WindowAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly Parameter relative_position_bias_table;
    private readonly AutocastLinear qkv;
    private readonly AutocastLinear proj;
    private readonly int heads;
    private readonly int tokens;
    private readonly Scalar scale;
    // Held in a plain object so RegisterComponents does not make it a buffer (it is derived from the sizes).
    private readonly DerivedTensor positionIndex;

    public WindowAttention(int dim, int window, int heads) : base(nameof(WindowAttention))
    {
        this.heads = heads;
        tokens = window * window;
        scale = Math.Pow(dim / heads, -0.5).ToScalar();
        relative_position_bias_table = nn.Parameter(zeros((2 * window - 1) * (2 * window - 1), heads));
        using (no_grad()) nn.init.trunc_normal_(relative_position_bias_table, 0, 0.02, -0.04, 0.04);
        qkv = new AutocastLinear(dim, 3 * dim, true, 0.02);
        proj = new AutocastLinear(dim, dim, true, 0.02);
        positionIndex = new DerivedTensor(SwinWindows.RelativePositionIndex(window).view(-1));
        RegisterComponents();
    }

    /// <param name="x">[B·nW, N, C] tokens of each window.</param>
    /// <param name="mask">float [nW, N, N] added to the scores (0 or −100), or null.</param>
    public override Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        long bw = x.shape[0], n = x.shape[1], c = x.shape[2];
        var qkv3 = qkv.forward(x).to(ScalarType.Float32).view(bw, n, 3, heads, c / heads).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (qkv3[0], qkv3[1], qkv3[2]);
        var scores = q.mul(scale).matmul(k.transpose(-2, -1));                          // [B·nW, h, N, N]
        var bias = relative_position_bias_table.index_select(0, positionIndex.On(relative_position_bias_table)).view(tokens, tokens, heads).permute(2, 0, 1);
        scores = Scalars.Add(scores, bias.unsqueeze(0));
        if (mask is not null)
        {
            var nW = mask.shape[0];
            scores = Scalars.Add(scores.view(bw / nW, nW, heads, n, n), mask.unsqueeze(1).unsqueeze(0)).view(bw, heads, n, n);
        }
        var y = scores.softmax(-1).matmul(v).transpose(1, 2).reshape(bw, n, c);
        return proj.forward(y).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A Swin block: x + W-MSA(norm1 x), then x + MLP(norm2 x), where the windows are shifted by ws/2 (cyclic
/// roll, with a mask so wrapped-around tokens do not attend across the seam) when <c>shift</c> &gt; 0. A grid no
/// larger than the window is one window with no shift, as the reference implementation does.
/// </summary>
public sealed class SwinBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly WindowAttention attn;
    private readonly LayerNorm norm2;
    private readonly Mlp mlp;
    private readonly int height, width, window, shift;
    private readonly DerivedTensor? shiftMask;

    public SwinBlock(int dim, int heads, int height, int width, int window, bool shifted, double mlpRatio) : base(nameof(SwinBlock))
    {
        if (Math.Min(height, width) <= window) { window = Math.Min(height, width); shifted = false; }
        if (height % window != 0 || width % window != 0)
            throw new TuwenException($"swin: a {height}×{width} token grid does not split into {window}×{window} windows (vision.window_size must divide every stage's grid)");
        this.height = height; this.width = width; this.window = window;
        shift = shifted ? window / 2 : 0;
        norm1 = nn.LayerNorm(dim);
        attn = new WindowAttention(dim, window, heads);
        norm2 = nn.LayerNorm(dim);
        mlp = new Mlp(dim, (int)(dim * mlpRatio), 0.02, 0.02);
        if (shift > 0)
        {
            using var allowed = SwinWindows.ShiftedAttendMask(height, width, window, shift);
            using var blocked = (-100.0).ToScalar();
            shiftMask = new DerivedTensor(zeros(allowed.shape).masked_fill_(allowed.logical_not(), blocked));
        }
        RegisterComponents();
    }

    /// <summary>Effective window side and shift after clamping to the grid (for tests and reports).</summary>
    public (int Window, int Shift) Geometry => (window, shift);

    /// <param name="x">[B, H·W, C] tokens in row-major order.</param>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[2];
        var h = norm1.forward(x).view(b, height, width, c);
        if (shift > 0) h = h.roll([-shift, -shift], [1, 2]);
        var windows = attn.forward(SwinWindows.Partition(h, window), shiftMask?.On(x));
        h = SwinWindows.Merge(windows, window, height, width);
        if (shift > 0) h = h.roll([shift, shift], [1, 2]);
        x = Scalars.Add(x, h.reshape(b, height * width, c));
        x = Scalars.Add(x, mlp.forward(norm2.forward(x)));
        return x.MoveToOuterDisposeScope();
    }
}
