// The fixed synthetic batch of the training benches (train-throughput, grad-checkpoint, large-batch); the
// PyTorch peer (bench/train-throughput/peer.py) builds the same shape: N(0, 1) pixels, ids drawn above the
// special tokens, [CLS] first and the second half of every row padding.
using Tuwen.Data;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Bench;

internal static class SyntheticBatch
{
    /// <summary>A batch of <paramref name="size"/> pairs for <paramref name="config"/>; the caller disposes it.</summary>
    public static Batch Create(ModelConfig config, int size)
    {
        var generator = new Generator(1);
        var images = randn([size, 3, config.Vision.ImageSize, config.Vision.ImageSize], generator: generator);
        var ids = randint(104, config.Text.VocabSize, [size, config.Text.ContextLength], generator: generator);
        ids[.., 0] = tensor(101L);
        ids[.., (config.Text.ContextLength / 2)..] = tensor(0L);
        return new Batch(images, ids, Enumerable.Range(0, size).Select(i => i.ToString()).ToArray(), new int[size]);
    }
}
