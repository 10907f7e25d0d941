using SkiaSharp;

namespace Tuwen.Tests.Evaluation;

/// <summary>
/// The Flickr8K-CN validation split read straight from shared data for evaluation tests (the real loader
/// lives elsewhere): 1,000 image ids, their 5 native Chinese captions each, flattened caption by caption.
/// </summary>
internal sealed class Flickr8kCnVal
{
    public const int CaptionsPerImage = 5;

    private Flickr8kCnVal(string[] imageIds, string[] captions, int[] captionToImage)
    {
        ImageIds = imageIds;
        Captions = captions;
        CaptionToImage = captionToImage;
    }

    public string[] ImageIds { get; }
    public string[] Captions { get; }
    public int[] CaptionToImage { get; }

    private static readonly Lazy<Flickr8kCnVal> Shared = new(Read);

    public static Flickr8kCnVal Instance => Shared.Value;

    public static string ImagePath(string imageId) => SharedData.Path("flickr8k-cn", "images", "val", imageId + ".jpg");

    private static Flickr8kCnVal Read()
    {
        var ids = File.ReadAllLines(SharedData.Path("flickr8k-cn", "splits", "flickr8kval.txt"))
            .Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        var index = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        var byImage = ids.Select(_ => new SortedDictionary<int, string>()).ToArray();

        // "<image_file>#zhc#<n> <sentence>"
        foreach (var line in File.ReadLines(SharedData.Path("flickr8k-cn", "captions", "flickr8kzhc.caption.txt")))
        {
            int space = line.IndexOf(' ');
            if (space < 0) continue;
            var key = line[..space].Split('#');
            var id = Path.GetFileNameWithoutExtension(key[0]);
            if (index.TryGetValue(id, out int image)) byImage[image][int.Parse(key[2])] = line[(space + 1)..].Trim();
        }

        var captions = new List<string>();
        var captionToImage = new List<int>();
        for (int i = 0; i < ids.Length; i++)
        {
            foreach (var caption in byImage[i].Values)
            {
                captions.Add(caption);
                captionToImage.Add(i);
            }
        }
        return new Flickr8kCnVal(ids, captions.ToArray(), captionToImage.ToArray());
    }

    /// <summary>
    /// A deliberately trivial image "encoder": mean RGB of each cell of a 4×4 grid, centred, 48 values.
    /// </summary>
    public static float[] ColourGridFeatures(string imagePath)
    {
        using var codec = SKCodec.Create(imagePath) ?? throw new InvalidDataException($"cannot decode {imagePath}");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = SKBitmap.Decode(codec, info);
        var rgba = bitmap.GetPixelSpan();
        const int grid = 4;
        var sums = new double[grid * grid * 3];
        var counts = new int[grid * grid];
        for (int y = 0; y < info.Height; y++)
        {
            for (int x = 0; x < info.Width; x++)
            {
                int cell = (y * grid / info.Height) * grid + x * grid / info.Width;
                int pixel = y * bitmap.RowBytes + x * 4;
                for (int channel = 0; channel < 3; channel++) sums[cell * 3 + channel] += rgba[pixel + channel];
                counts[cell]++;
            }
        }
        return sums.Select((s, i) => (float)(s / counts[i / 3] / 255.0 - 0.5)).ToArray();
    }

    /// <summary>A deliberately trivial text "encoder": characters hashed into 48 counting buckets.</summary>
    public static float[] HashedCharacterFeatures(string text)
    {
        var features = new float[48];
        foreach (var rune in text.EnumerateRunes()) features[(int)((uint)rune.Value * 2654435761u % 48u)] += 1f;
        return features;
    }
}
