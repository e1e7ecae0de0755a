namespace Xent.Data;

/// <summary>
/// Checks, before any work, that an output file or folder can be created where the user asked, so that a mistyped
/// path is refused with its reason instead of failing at the end of a run with the operating system's message.
/// </summary>
public static class OutputPath
{
    /// <summary>Why a file cannot be written at <paramref name="path"/> (its folder is missing or is a file), or null when it can.</summary>
    /// <param name="path">The file to write.</param>
    /// <returns>The reason, naming the folder, or null.</returns>
    public static string? WhyNotFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is null || Directory.Exists(folder))
        {
            return null;
        }

        return File.Exists(folder) ? $"{folder} is a file, not a folder." : $"the folder {folder} does not exist.";
    }

    /// <summary>
    /// Why a folder cannot be created at <paramref name="path"/> (it, or the nearest of its ancestors that exists, is
    /// a file), or null when it can (missing ancestors are created).
    /// </summary>
    /// <param name="path">The folder to create.</param>
    /// <returns>The reason, naming the file in the way, or null.</returns>
    public static string? WhyNotFolder(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        for (string? at = Path.GetFullPath(path); at is not null; at = Path.GetDirectoryName(at))
        {
            if (Directory.Exists(at))
            {
                return null;
            }

            if (File.Exists(at))
            {
                return $"{at} is a file, not a folder.";
            }
        }

        return null;
    }
}
