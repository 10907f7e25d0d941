namespace Tuwen.Tests.Interop;

/// <summary>
/// The Chinese-CLIP dataset built by bench/cnclip-interop/make_lmdb_fixture.sh: TSV/JSONL and the LMDB form that
/// Chinese-CLIP's own build_lmdb_dataset.py made from them (upstream 31863c7). The values below are what that
/// script's input held, written out by hand from the script.
/// </summary>
internal static class LmdbFixture
{
    public const string Split = "valid";

    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Interop", "Fixtures", "formats", "cnclip");

    public static readonly string LongText = string.Concat(Enumerable.Repeat("这是一段很长的描述，", 10));

    /// <summary>(image_id, text_id, text) in the order the build script writes pairs: JSONL order, then image_ids order.</summary>
    public static readonly (long ImageId, long TextId, string Text)[] Pairs =
    [
        (1001, 1, "一只小猫在草地上"),
        (1002, 2, "两张图里都有“红色”的汽车"),
        (70000, 2, "两张图里都有“红色”的汽车"),
        (70000, 3, "蓝色的天空"),
        (1001, 300, "小猫和汽车 cat & car"),
        (1002, 300, "小猫和汽车 cat & car"),
        (1004, 3000000000, LongText),
    ];

    /// <summary>Image ids in the TSV; 1005 is named by no text, text 4 names no image.</summary>
    public static readonly long[] ImageIds = [1001, 1002, 70000, 1004, 1005];

    /// <summary>The decoded image bytes from the TSV, by id (the LMDB must hold the same).</summary>
    public static Dictionary<long, byte[]> TsvImages() =>
        Tuwen.Interop.ChineseClip.ChineseClipDataset.ReadImages(Tuwen.Interop.ChineseClip.ChineseClipDataset.ImagesPath(Directory, Split))
            .ToDictionary(i => i.Id, i => i.Bytes);

    public static string CopyTo(string target)
    {
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories))
        {
            var dest = Path.Combine(target, Path.GetRelativePath(Directory, file));
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest);
        }
        return target;
    }
}
