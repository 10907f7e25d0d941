using System.Text.Json.Nodes;
using Tuwen.Data;

namespace Tuwen.Tests.Cli;

/// <summary>What command-level training tests share: a model small enough for seconds of training, and shards
/// of real Chinese image–text pairs (Flickr8K-CN from ../shared/data).</summary>
public static class TrainFixtures
{
    /// <summary>Writes micro.json (ViT 32 px / BERT, one layer each) into <paramref name="directory"/>; returns its path.</summary>
    public static string MicroModel(string directory)
    {
        var path = Path.Combine(directory, "micro.json");
        Directory.CreateDirectory(directory);
        File.WriteAllText(path, """
        { "name": "micro", "embed_dim": 32,
          "vision": { "type": "vit", "image_size": 32, "patch_size": 16, "width": 64, "layers": 1, "heads": 2 },
          "text": { "type": "bert", "vocab_size": 21128, "context_length": 32, "width": 64, "layers": 1, "heads": 2,
                    "intermediate_size": 128, "max_positions": 64 } }
        """);
        return path;
    }

    /// <summary>The first <paramref name="images"/> Flickr8K-CN validation images with their captions, 16 per
    /// shard, into <paramref name="directory"/>; optionally one undecodable image after them.</summary>
    public static string WriteFlickrShards(string directory, int images, bool plantCorrupt = false)
    {
        var flickr = Evaluation.Flickr8kCnVal.Instance;
        using var writer = new ShardWriter(directory, "flickr", samplesPerShard: 16);
        for (var i = 0; i < images; i++)
        {
            var id = flickr.ImageIds[i];
            var captions = flickr.Captions.Where((_, c) => flickr.CaptionToImage[c] == i).ToList();
            writer.Write(Sample.Create(id.Replace('.', '_'), File.ReadAllBytes(Evaluation.Flickr8kCnVal.ImagePath(id)), "jpg", captions,
                new JsonObject { ["source"] = "flickr8k-cn" }));
        }
        if (plantCorrupt)
            writer.Write(Sample.Create("corrupt", [0xFF, 0xD8, 1, 2, 3], "jpg", ["坏的图片"]));
        return directory;
    }
}
