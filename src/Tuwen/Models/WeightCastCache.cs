using System.Runtime.CompilerServices;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// Low-precision copies of a frozen model's parameters, made once and reused by every inference call under
/// <see cref="Autocast"/>. Casting a ViT-B/16's 86 M weights costs about as much memory traffic as a batch-1
/// forward pass itself, so an embedding service must not redo it per request (torch.autocast keeps a similar
/// cache, but only for one autocast region). Only <see cref="Parameter"/> objects are cached: views or stacks made
/// during a forward are new tensors each time, and the caller casts those afresh. The owner guarantees the parameters no longer change
/// (an inference runtime, one evaluation pass) and disposes the cache with the model.
/// </summary>
public sealed class WeightCastCache : IDisposable
{
    private readonly ConditionalWeakTable<Parameter, Tensor> copies = new();
    private readonly List<Tensor> owned = new();
    private readonly Lock gate = new();

    /// <summary>The parameter cast to <paramref name="dtype"/>, made at the first request.</summary>
    public Tensor Get(Parameter weight, ScalarType dtype)
    {
        lock (gate)
        {
            if (copies.TryGetValue(weight, out var hit) && hit.dtype == dtype) return hit;
            // Out of any dispose scope: the forward pass that first asks must not free what later calls reuse.
            var copy = weight.detach().to(dtype).DetachFromDisposeScope();
            owned.Add(copy);
            copies.AddOrUpdate(weight, copy);
            return copy;
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var t in owned) t.Dispose();
            owned.Clear();
            copies.Clear();
        }
    }
}
