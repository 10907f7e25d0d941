namespace Tuwen.Interop.ChineseClip;

/// <summary>
/// Where Chinese-CLIP keeps its LMDB form of a split and how its two databases are opened. The build script
/// (cn_clip/preprocess/build_lmdb_dataset.py) writes <c>{data_dir}/lmdb/{split}/imgs</c> (key: image id as
/// text, value: the image's base64 text; plus <c>num_images</c>) and <c>…/pairs</c> (key: running index as text,
/// value: pickled <c>(image_id, text_id, text)</c>; plus <c>num_samples</c>), each an LMDB environment directory.
/// </summary>
public static class ChineseClipLmdbStore
{
    public const string ImagesName = "imgs";
    public const string PairsName = "pairs";
    public const string ImageCountKey = "num_images";
    public const string PairCountKey = "num_samples";

    /// <summary>The folder holding imgs/ and pairs/ for a split, as written under <paramref name="directory"/>.</summary>
    public static string SplitPath(string directory, string split) => Path.Combine(directory, "lmdb", split);

    /// <summary>
    /// Finds the split folder for reading: <c>DIR/lmdb/SPLIT</c> (the build script's default), <c>DIR/SPLIT</c>
    /// (its --lmdb_dir) or DIR itself when it already holds imgs/ and pairs/.
    /// </summary>
    public static string FindSplit(string directory, string split)
    {
        string[] candidates = [SplitPath(directory, split), Path.Combine(directory, split), directory];
        foreach (var candidate in candidates)
            if (Directory.Exists(Path.Combine(candidate, ImagesName)) && Directory.Exists(Path.Combine(candidate, PairsName)))
                return candidate;
        throw new TuwenException($"no Chinese-CLIP LMDB split \"{split}\" found: expected imgs/ and pairs/ in one of {string.Join(", ", candidates)}");
    }
}
