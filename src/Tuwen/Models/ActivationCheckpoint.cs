using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// Activation (gradient) checkpointing for transformer blocks: memory for time. The block's forward runs
/// without a graph and keeps only its input; backward runs the block again with grad enabled and
/// backpropagates through that recomputation, as PyTorch's reentrant checkpoint does. Training memory then
/// holds one [B, L, W] tensor per block instead of all of its attention and MLP intermediates, at the cost of
/// a second forward pass. Switched on per thread by the trainer (recipe "grad_checkpointing"); it changes no
/// module, so parameter names and checkpoints are the same either way.
/// </summary>
public static class ActivationCheckpoint
{
    [ThreadStatic] private static bool enabled;

    public static bool Enabled => enabled;

    public static IDisposable Enable(bool on = true)
    {
        var previous = enabled;
        enabled = on;
        return new Restore(previous);
    }

    /// <summary>
    /// block(x, keyMask), checkpointed when enabled and a graph is being recorded (inference and no_grad
    /// evaluation run the block plainly). The result is a new tensor the caller owns.
    /// </summary>
    public static Tensor Run(nn.Module block, Func<Tensor, Tensor?, Tensor> forward, Tensor x, Tensor? keyMask)
    {
        if (!enabled || !is_grad_enabled()) return forward(x, keyMask);
        // Only parameters that train are inputs: frozen ones get no gradient, as without checkpointing.
        var parameters = block.parameters().Where(p => p.requires_grad).Cast<Tensor>().ToArray();
        if (!x.requires_grad && parameters.Length == 0) return forward(x, keyMask);
        var args = new object?[3 + parameters.Length];
        args[0] = new Recompute(forward, Autocast.Current, parameters);
        args[1] = x;
        args[2] = keyMask;
        parameters.CopyTo(args, 3);
        return CheckpointFunction.apply(args!);
    }

    /// <summary>What backward needs besides the saved tensors: the block and the autocast state of the
    /// first pass, so the recomputation takes the same precision path.</summary>
    private sealed record Recompute(Func<Tensor, Tensor?, Tensor> Forward, ScalarType? Autocast, Tensor[] Parameters);

    private sealed class CheckpointFunction : autograd.SingleTensorFunction<CheckpointFunction>
    {
        public override string Name => nameof(ActivationCheckpoint);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var recompute = (Recompute)vars[0];
            var x = (Tensor)vars[1];
            var keyMask = vars[2] as Tensor;
            ctx.save_data("recompute", recompute);
            ctx.save_data("x_requires_grad", x.requires_grad);
            // The mask is saved too: its owner disposes its handle when its forward returns.
            ctx.save_for_backward(keyMask is null ? [x] : [x, keyMask]);
            return recompute.Forward(x, keyMask);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            ReleaseHandedBack();
            var recompute = (Recompute)ctx.get_data("recompute");
            var xRequiresGrad = (bool)ctx.get_data("x_requires_grad");
            var saved = ctx.get_saved_variables();
            // Parameters are inputs only so that the node runs even when x needs no gradient; their gradients
            // go straight into .grad by the inner backward (as PyTorch's reentrant checkpoint does). Returning
            // them instead would make the engine copy each one while our handle still holds the original.
            var grads = new List<Tensor>(3 + recompute.Parameters.Length) { null!, null!, null! };
            grads.AddRange(Enumerable.Repeat<Tensor>(null!, recompute.Parameters.Length));
            using (var scope = NewDisposeScope())
            using (enable_grad())
            using (Autocast.Enable(recompute.Autocast))
            {
                using var x = saved[0].detach().requires_grad_(xRequiresGrad);
                var output = recompute.Forward(x, saved.Count > 1 ? saved[1] : null);
                autograd.backward([output], [gradOutput]);
                if (xRequiresGrad && x.grad is { } gx)
                {
                    grads[1] = gx.MoveToOuterDisposeScope().DetachFromDisposeScope();
                    HandedBack.Add(grads[1]);
                }
            }
            foreach (var t in saved) t?.Dispose();
            return grads;
        }
    }

    /// <summary>
    /// Input gradients returned to the engine: it takes its own reference when backward returns, so our
    /// handles are released at the next checkpointed backward (or when checkpointing is switched off)
    /// rather than living to the end of the training step.
    /// </summary>
    [ThreadStatic] private static List<Tensor>? handedBack;

    private static List<Tensor> HandedBack => handedBack ??= [];

    private static void ReleaseHandedBack()
    {
        foreach (var t in HandedBack) t.Dispose();
        HandedBack.Clear();
    }

    private sealed class Restore(bool previous) : IDisposable
    {
        public void Dispose()
        {
            enabled = previous;
            ReleaseHandedBack();
        }
    }
}
