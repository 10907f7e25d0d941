using System.Text;

namespace Tuwen.Data;

/// <summary>
/// Writes a file under "name.tmp" and renames it into place only once complete, so an interrupted run never
/// leaves a file that looks finished.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var tmp = path + ".tmp";
        try
        {
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
                write(stream);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>UTF-8 text without a byte-order mark, "\n" line ends.</summary>
    public static void WriteText(string path, Action<TextWriter> write) => Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        write(writer);
    });
}
