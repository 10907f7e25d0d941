using static TorchSharp.torch;

namespace Tuwen.Models;

/// <summary>
/// A constant tensor computed from a module's sizes (Swin's relative-position index and shift mask). It is
/// kept out of RegisterComponents so checkpoints do not carry it, which also means <c>module.to(device)</c>
/// does not move it: <see cref="On"/> gives it on the device of the tensor it is used with, copied once per device.
/// </summary>
public sealed class DerivedTensor
{
    private readonly Tensor value;
    private Tensor onDevice;

    public DerivedTensor(Tensor value) => this.value = onDevice = value;

    /// <summary>The value on <paramref name="like"/>'s device; do not dispose.</summary>
    public Tensor On(Tensor like)
    {
        if (onDevice.device_type != like.device_type || onDevice.device_index != like.device_index)
            onDevice = value.to(like.device).DetachFromDisposeScope();
        return onDevice;
    }
}
