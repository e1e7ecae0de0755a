using System.Text;

namespace Xent.Data;

/// <summary>Writes files atomically: the content goes to a temporary file in the same folder, which is then renamed over the target.</summary>
public static class AtomicFile
{
    /// <summary>Writes text (UTF-8, no byte-order mark).</summary>
    /// <param name="path">The file.</param>
    /// <param name="text">The content.</param>
    public static void WriteAllText(string path, string text) => Write(path, stream =>
    {
        byte[] bytes = new UTF8Encoding(false).GetBytes(text);
        stream.Write(bytes);
    });

    /// <summary>Writes whatever <paramref name="write"/> puts in the stream.</summary>
    /// <param name="path">The file.</param>
    /// <param name="write">Writes the content.</param>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + ".tmp-" + Environment.ProcessId);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
