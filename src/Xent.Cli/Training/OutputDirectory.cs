using Xent.Cli.LossCases;

namespace Xent.Cli.Training;

/// <summary>Never overwrites the user's files unasked: an output folder must be new or empty unless --force is given.</summary>
internal static class OutputDirectory
{
    public static string Prepare(string path, bool force, bool resuming = false)
    {
        string full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            throw new InputException($"--out {path}: a file of that name exists; --out names a folder.");
        }

        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any() && !force && !resuming)
        {
            throw new InputException($"--out {path}: the folder is not empty; choose another, or pass --force to overwrite the files Xent writes there.");
        }

        if (Xent.Data.OutputPath.WhyNotFolder(full) is { } why)
        {
            throw new InputException($"--out {path}: {why}");
        }

        Directory.CreateDirectory(full);
        return full;
    }

    /// <summary>A new folder under runs/ named after the command and the time, for commands whose --out is optional.</summary>
    public static string Default(string command)
    {
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);
        string path = Path.Combine("runs", $"{command}-{stamp}");
        for (int i = 2; Directory.Exists(path); i++)
        {
            path = Path.Combine("runs", $"{command}-{stamp}-{i}");
        }

        return path;
    }
}
