using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Data;

/// <summary>
/// What the loader hands the model: images [B,3,H,W] float32 (normalised), token ids [B,L] int64
/// (padding = 0, so the attention mask is ids != 0 as in Chinese-CLIP), and per row the sample key and
/// which caption was used. The batch owns its tensors.
/// </summary>
public sealed class Batch : IDisposable
{
    public Batch(Tensor images, Tensor tokenIds, string[] keys, int[] captionIndex)
    {
        Images = images; TokenIds = tokenIds; Keys = keys; CaptionIndex = captionIndex;
    }

    public Tensor Images { get; }
    public Tensor TokenIds { get; }
    public string[] Keys { get; }
    public int[] CaptionIndex { get; }
    public int Size => Keys.Length;

    /// <summary>
    /// Samples of the epoch read up to and including this batch's last one (skipped corrupt images
    /// included): pass it as <see cref="LoaderOptions.Skip"/> to resume exactly after this batch.
    /// </summary>
    public long SamplesConsumed { get; init; }

    /// <summary>This batch with its tensors on <paramref name="device"/>: itself when they are there already (or
    /// no device is given), else a new batch, and this one is disposed.</summary>
    public Batch MovedTo(Device? device)
    {
        if (device is null || (Images.device_type == device.type && Images.device_index == (device.type == DeviceType.CPU ? -1 : device.index)
            && TokenIds.device_type == Images.device_type && TokenIds.device_index == Images.device_index))
            return this;
        var moved = new Batch(Images.to(device), TokenIds.to(device), Keys, CaptionIndex) { SamplesConsumed = SamplesConsumed };
        Dispose();
        return moved;
    }

    public void Dispose()
    {
        Images.Dispose();
        TokenIds.Dispose();
    }
}
