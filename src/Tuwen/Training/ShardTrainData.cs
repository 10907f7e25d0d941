using Tuwen.Data;

namespace Tuwen.Training;

/// <summary>Training batches from webdataset shards through the threaded <see cref="Loader"/>.</summary>
public sealed class ShardTrainData : ITrainData
{
    private readonly LoaderOptions template;

    /// <param name="group">The data-parallel job this process belongs to: it reads its partition of each epoch
    /// in batches of batch_size / world size. Null: one process, all of the data.</param>
    public ShardTrainData(string datasetDir, TrainConfig recipe, int imageSize, int contextLength, Func<string, long[]> encodeText,
        Distributed.IProcessGroup? group = null)
    {
        var shards = ShardReader.FindShards(datasetDir);
        var world = group?.WorldSize ?? 1;
        if (recipe.BatchSize % world != 0)
            throw new TuwenException($"batch_size {recipe.BatchSize} (the global batch) must divide evenly among the {world} processes");
        template = new LoaderOptions
        {
            ShardPaths = shards,
            BatchSize = recipe.BatchSize / world,
            Partition = world > 1 ? new DataPartition(group!.Rank, world, DataPartition.ParseSplit(recipe.DataSplit)) : null,
            Transform = ImageTransform.ForTraining(imageSize, recipe.Augment.CropScaleMin, recipe.Augment.CropScaleMax),
            EncodeText = encodeText,
            ContextLength = contextLength,
            Shuffle = true,
            ShuffleBuffer = recipe.ShuffleBuffer,
            Seed = recipe.Seed,
            DropLast = true,
            Workers = recipe.Workers,
        };
        // The loader reads the same stats.json; asking it keeps one notion of "samples per epoch".
        SamplesPerEpoch = new Loader(template).SamplesPerEpoch
            ?? throw new TuwenException($"cannot tell how many samples {datasetDir} holds (no stats.json); set steps in the recipe");
        if (SamplesPerEpoch < recipe.BatchSize)
            throw new TuwenException($"{datasetDir} holds {SamplesPerEpoch} samples, fewer than one batch of {recipe.BatchSize}");
    }

    public long SamplesPerEpoch { get; }
    public long CorruptImages { get; private set; }

    public IEnumerable<Batch> Epoch(int epoch, long skip)
    {
        var loader = new Loader(template with { Epoch = epoch, Skip = skip });
        try
        {
            foreach (var batch in loader) yield return batch;
        }
        finally
        {
            CorruptImages += loader.CorruptImages;
        }
    }
}
