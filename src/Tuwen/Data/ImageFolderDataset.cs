using System.Globalization;

namespace Tuwen.Data;

/// <summary>One labelled image of an <see cref="ImageFolderDataset"/>.</summary>
public sealed record ImageFolderItem(string Path, int Label);

/// <summary>
/// A classification set on disk, in one of three layouts:
/// <list type="bullet">
/// <item>Chinese-CLIP / ELEVATER: <c>test/000/…, test/001/…</c> — numbered folders, the number is the class index
/// (the line of the class-name file). The dataset root or its <c>test</c> folder may be given.</item>
/// <item>Class-named folders (torchvision ImageFolder, e.g. <c>test/airplane/…</c>): the class index is the
/// folder's position in ordinal name order, as torchvision assigns it — or, when every folder name is itself
/// a line of the class-name file, that line.</item>
/// <item>A flat folder with an <c>index.tsv</c> holding <c>file</c> and <c>class_index</c> columns (the
/// imagenet-sample layout), images beside it or in <c>images/</c>.</item>
/// </list>
/// Items are listed in a fixed order (folders, then file names, ordinal), so runs are reproducible.
/// </summary>
public sealed class ImageFolderDataset
{
    public static readonly IReadOnlySet<string> ImageExtensions =
        new HashSet<string>([".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"], StringComparer.OrdinalIgnoreCase);

    private ImageFolderDataset(string root, string layout, IReadOnlyList<ImageFolderItem> items)
    {
        Root = root;
        Layout = layout;
        Items = items;
    }

    public string Root { get; }

    /// <summary>"numbered folders", "class-named folders (sorted)", "class-named folders (by name)" or "index.tsv".</summary>
    public string Layout { get; }

    public IReadOnlyList<ImageFolderItem> Items { get; }

    public static ImageFolderDataset Open(string directory, IReadOnlyList<string> classNames)
    {
        if (!Directory.Exists(directory)) throw new TuwenException($"image folder not found: {directory}");
        if (classNames.Count == 0) throw new TuwenException("no class names");
        var root = Path.GetFullPath(directory);
        var index = Path.Combine(root, "index.tsv");
        if (File.Exists(index)) return FromIndex(root, index, classNames.Count);

        var folders = ClassFolders(root);
        if (folders.Length == 0 && Directory.Exists(Path.Combine(root, "test")))
        {
            root = Path.Combine(root, "test");
            folders = ClassFolders(root);
        }
        if (folders.Length == 0)
            throw new TuwenException($"{directory}: no class folders with images (expected test/000/*.jpg, <class>/*.jpg, or index.tsv)");
        var names = folders.Select(Path.GetFileName).ToArray();

        string layout;
        int[] labels;
        var byName = classNames.Select((n, i) => (n, i)).DistinctBy(p => p.n).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        if (names.All(n => n!.All(char.IsAsciiDigit)))
        {
            layout = "numbered folders";
            labels = names.Select(n => int.Parse(n!, CultureInfo.InvariantCulture)).ToArray();
            int bad = Array.FindIndex(labels, l => l >= classNames.Count);
            if (bad >= 0) throw new TuwenException($"{folders[bad]}: class {labels[bad]} but the class-name file has only {classNames.Count} classes");
        }
        else if (names.All(n => byName.ContainsKey(n!)))
        {
            layout = "class-named folders (by name)";
            labels = names.Select(n => byName[n!]).ToArray();
        }
        else
        {
            layout = "class-named folders (sorted)";
            if (names.Length != classNames.Count)
                throw new TuwenException($"{root}: {names.Length} class folders but {classNames.Count} class names; with class-named folders "
                    + "the i-th folder in name order is class i, so both counts must match");
            labels = Enumerable.Range(0, names.Length).ToArray();
        }

        var items = new List<ImageFolderItem>();
        for (int f = 0; f < folders.Length; f++)
            items.AddRange(ImagesIn(folders[f]).Select(p => new ImageFolderItem(p, labels[f])));
        return new ImageFolderDataset(root, layout, items);
    }

    /// <summary>The first <paramref name="perClass"/> images of each class (in item order), for a quick run.</summary>
    public ImageFolderDataset Take(int perClass)
    {
        if (perClass < 1) throw new TuwenException($"images per class must be at least 1, not {perClass}");
        var kept = Items.GroupBy(i => i.Label).SelectMany(g => g.Take(perClass)).ToHashSet();
        return new ImageFolderDataset(Root, Layout, [.. Items.Where(kept.Contains)]);
    }

    /// <summary>The first <paramref name="count"/> images in item order.</summary>
    public ImageFolderDataset First(int count) => new(Root, Layout, [.. Items.Take(count)]);

    private static string[] ClassFolders(string root) =>
        [.. Directory.GetDirectories(root).Where(d => ImagesIn(d).Any()).Order(StringComparer.Ordinal)];

    private static IEnumerable<string> ImagesIn(string folder) =>
        Directory.EnumerateFiles(folder).Where(f => ImageExtensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal);

    private static ImageFolderDataset FromIndex(string root, string indexPath, int classCount)
    {
        var lines = File.ReadAllLines(indexPath).Where(l => l.Trim().Length > 0).ToArray();
        if (lines.Length == 0) throw new TuwenException($"{indexPath} is empty");
        var header = lines[0].Split('\t');
        int fileColumn = Array.IndexOf(header, "file"), labelColumn = Array.IndexOf(header, "class_index");
        if (fileColumn < 0 || labelColumn < 0) throw new TuwenException($"{indexPath}: the header needs 'file' and 'class_index' columns");
        var imageDir = Directory.Exists(Path.Combine(root, "images")) ? Path.Combine(root, "images") : root;
        var items = new List<ImageFolderItem>();
        for (int i = 1; i < lines.Length; i++)
        {
            var cells = lines[i].Split('\t');
            var where = $"{indexPath}:{i + 1}";
            if (cells.Length <= Math.Max(fileColumn, labelColumn)) throw new TuwenException($"{where}: too few columns");
            if (!int.TryParse(cells[labelColumn], NumberStyles.None, CultureInfo.InvariantCulture, out int label))
                throw new TuwenException($"{where}: class_index \"{cells[labelColumn]}\" is not a non-negative integer");
            if (label >= classCount) throw new TuwenException($"{where}: class {label} but the class-name file has only {classCount} classes");
            var path = Path.Combine(imageDir, cells[fileColumn]);
            if (!File.Exists(path)) throw new TuwenException($"{where}: image not found: {path}");
            items.Add(new ImageFolderItem(path, label));
        }
        return new ImageFolderDataset(root, "index.tsv", items);
    }
}
