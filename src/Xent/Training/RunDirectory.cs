using System.Diagnostics;
using System.Globalization;
using Xent.Data;

namespace Xent.Training;

/// <summary>How a run uses its output folder.</summary>
public enum RunDirectoryMode
{
    /// <summary>A new run: the folder must be new or empty.</summary>
    New,

    /// <summary>A new run that replaces the files of a previous run in the folder (the user's own files stay).</summary>
    Overwrite,

    /// <summary>Continue the run whose checkpoint is in the folder.</summary>
    Resume,
}

/// <summary>A training run's output folder cannot be used as asked (in use, not empty, no checkpoint): a usage error.</summary>
public sealed class RunFolderException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and what to do.</param>
    public RunFolderException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// A training run's output folder, held for the run's duration:
/// <list type="bullet">
/// <item>a lock file (<c>.xent.lock</c>, holding the owner's process id and start time) makes a second run on the
/// same folder fail at once; a lock whose process is gone is taken over;</item>
/// <item>temporary files left by a killed run are removed when the folder is opened;</item>
/// <item>the final outputs are written into a staging folder and published as one set: a marker is written, then
/// the files are moved into place, so a run killed while publishing is completed by the next open (and a staging
/// folder without the marker is discarded). With <see cref="RunDirectoryMode.Overwrite"/> the previous run's files
/// are removed before the new run writes any, so the folder never holds a mix of two runs.</item>
/// </list>
/// </summary>
public sealed class RunDirectory : IDisposable
{
    /// <summary>The lock file's name.</summary>
    public const string LockFileName = ".xent.lock";

    /// <summary>The checkpoint's file name.</summary>
    public const string CheckpointFileName = "checkpoint.safetensors";

    private const string StagingName = ".xent-staging";
    private const string CompleteMarker = ".complete";
    private const string ManifestName = ".xent-files";

    /// <summary>Files every training run may write directly (outside the published set).</summary>
    private static readonly string[] RunFiles = [CheckpointFileName, HistoryLog.BatchFile, HistoryLog.EpochFile, "history.json"];

    private readonly string _lockPath;
    private readonly string _owner;
    private bool _disposed;

    private RunDirectory(string path, string lockPath, string owner)
    {
        Path = path;
        _lockPath = lockPath;
        _owner = owner;
    }

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>The checkpoint's path in the folder.</summary>
    public string CheckpointPath => System.IO.Path.Combine(Path, CheckpointFileName);

    /// <summary>Where the final outputs are written before <see cref="Publish"/> moves them into place (created empty when first read).</summary>
    public string StagingPath
    {
        get
        {
            string staging = System.IO.Path.Combine(Path, StagingName);
            Directory.CreateDirectory(staging);
            return staging;
        }
    }

    /// <summary>Opens (creating if needed) and locks a run folder, removes what a killed run left, and checks it against the mode.</summary>
    /// <param name="path">The folder.</param>
    /// <param name="mode">How the run uses it.</param>
    /// <param name="option">The option that named the folder, for messages (for example <c>--out</c>).</param>
    /// <returns>The held folder; dispose it to release the lock.</returns>
    /// <exception cref="RunFolderException">A file has that name, another live run holds the folder, the folder is not empty for a new run, or there is no checkpoint to resume.</exception>
    /// <exception cref="IOException">The folder cannot be created or written (the message names the path).</exception>
    /// <exception cref="UnauthorizedAccessException">The folder cannot be created or written (the message names the path).</exception>
    public static RunDirectory Open(string path, RunDirectoryMode mode, string option = "--out")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full))
        {
            throw new RunFolderException($"{option} {path}: a file of that name exists; {option} names a folder.");
        }

        if (mode == RunDirectoryMode.Resume && !Directory.Exists(full))
        {
            throw new RunFolderException($"--resume: {path} does not exist, so there is nothing to resume; leave out --resume to start a new run there.");
        }

        if (Xent.Data.OutputPath.WhyNotFolder(full) is { } why)
        {
            throw new RunFolderException($"{option} {path}: {why}");
        }

        Directory.CreateDirectory(full);
        string lockPath = System.IO.Path.Combine(full, LockFileName);
        string owner = OwnerText();
        Acquire(lockPath, owner, option, path);
        var run = new RunDirectory(full, lockPath, owner);
        try
        {
            // Refuse before touching anything: a folder that is not empty is left as it is.
            if (mode == RunDirectoryMode.New && Directory.EnumerateFileSystemEntries(full).Any(e => System.IO.Path.GetFileName(e) is var n && n != LockFileName && n != StagingName && !IsTemporary(n)))
            {
                throw new RunFolderException($"{option} {path}: the folder is not empty; choose another, pass --force to replace the run in it (its files go, other files stay), or --resume to continue it from its checkpoint.");
            }

            run.Recover();
            if (mode == RunDirectoryMode.Resume && !File.Exists(run.CheckpointPath))
            {
                throw new RunFolderException($"--resume: there is no checkpoint at {run.CheckpointPath} (a run stopped before its first checkpoint, or one with --checkpoint-every never, cannot resume); start afresh with --force.");
            }

            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    /// <summary>Removes the files of the previous run (its published outputs, checkpoint and history); other files stay.</summary>
    public void ClearPreviousRun()
    {
        string manifest = System.IO.Path.Combine(Path, ManifestName);
        IEnumerable<string> published = File.Exists(manifest) ? File.ReadAllLines(manifest) : [];
        // Without a manifest or a checkpoint, nothing shows that Xent wrote the usual names here: leave them.
        bool previousRun = File.Exists(manifest) || File.Exists(CheckpointPath) || File.Exists(System.IO.Path.Combine(Path, HistoryLog.BatchFile));
        IEnumerable<string> names = previousRun ? published.Concat(RunFiles).Concat(PublishedNames) : published;
        foreach (string name in names.Append(ManifestName))
        {
            if (IsPlainName(name))
            {
                File.Delete(System.IO.Path.Combine(Path, name));
            }
        }
    }

    /// <summary>Moves everything in <see cref="StagingPath"/> into the folder as one set (see the class remarks).</summary>
    public void Publish()
    {
        string staging = System.IO.Path.Combine(Path, StagingName);
        if (!Directory.Exists(staging))
        {
            return;
        }

        string[] names = [.. Directory.EnumerateFiles(staging).Select(System.IO.Path.GetFileName).OfType<string>().Where(n => n != CompleteMarker).Order(StringComparer.Ordinal)];
        AtomicFile.WriteAllText(System.IO.Path.Combine(staging, ManifestName), string.Join("\n", names.Where(n => n != ManifestName)) + "\n");
        AtomicFile.WriteAllText(System.IO.Path.Combine(staging, CompleteMarker), "complete\n");
        RollForward(staging);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (File.Exists(_lockPath) && File.ReadAllText(_lockPath) == _owner)
            {
                File.Delete(_lockPath);
            }
        }
        catch (IOException)
        {
            // The lock is recognised as stale by the next run.
        }
    }

    /// <summary>The names the trainer publishes (removed by <see cref="ClearPreviousRun"/> even without a manifest).</summary>
    private static readonly string[] PublishedNames = ["model.safetensors", "metrics.json", "config.json", "report.html", "report.txt"];

    private static bool IsPlainName(string name) => name.Length > 0 && name == System.IO.Path.GetFileName(name) && name is not ("." or "..");

    private void Recover()
    {
        foreach (string file in Directory.EnumerateFiles(Path))
        {
            if (IsTemporary(System.IO.Path.GetFileName(file)))
            {
                File.Delete(file);
            }
        }

        string staging = System.IO.Path.Combine(Path, StagingName);
        if (Directory.Exists(staging))
        {
            if (File.Exists(System.IO.Path.Combine(staging, CompleteMarker)))
            {
                RollForward(staging);
            }
            else
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private void RollForward(string staging)
    {
        foreach (string file in Directory.EnumerateFiles(staging))
        {
            string name = System.IO.Path.GetFileName(file);
            if (name != CompleteMarker && !IsTemporary(name))
            {
                File.Move(file, System.IO.Path.Combine(Path, name), overwrite: true);
            }
        }

        Directory.Delete(staging, recursive: true);
    }

    /// <summary>Temporary files of <see cref="AtomicFile"/> and the safetensors writer: NAME.tmp-PID.</summary>
    private static bool IsTemporary(string name)
    {
        int at = name.LastIndexOf(".tmp-", StringComparison.Ordinal);
        return at >= 0 && name.Length > at + 5 && name.AsSpan(at + 5).IndexOfAnyExceptInRange('0', '9') < 0;
    }

    private static string OwnerText() => string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId} {StartStamp(Environment.ProcessId)}");

    /// <summary>
    /// A process's start, as an exact number: on Linux the start time in clock ticks since boot from /proc/PID/stat
    /// (Process.StartTime is derived from it with rounding that differs between readers); elsewhere the start time in
    /// whole seconds. -1 when the process does not exist or has exited (a zombie).
    /// </summary>
    private static long StartStamp(int pid)
    {
        try
        {
            string stat = $"/proc/{pid}/stat";
            if (File.Exists(stat))
            {
                string text = File.ReadAllText(stat);
                // Fields after the command name (which may hold spaces and parentheses) start at field 3; starttime is field 22.
                // Field 3 is the state: a killed run that its parent has not reaped yet (Z, a zombie, as after
                // `timeout -s KILL` in a container whose init reaps late) or one being torn down (X) owns nothing.
                string[] fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                return fields[0] is "Z" or "X" or "x" ? -1 : long.Parse(fields[22 - 3], CultureInfo.InvariantCulture);
            }

            using Process p = Process.GetProcessById(pid);
            return p.HasExited ? -1 : new DateTimeOffset(p.StartTime.ToUniversalTime()).ToUnixTimeSeconds();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or FormatException or IndexOutOfRangeException or System.ComponentModel.Win32Exception or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    private static void Acquire(string lockPath, string owner, string option, string path)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                using var stream = new FileStream(lockPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
                stream.Write(System.Text.Encoding.ASCII.GetBytes(owner));
                return;
            }
            catch (IOException) when (File.Exists(lockPath))
            {
                string text;
                try
                {
                    text = File.ReadAllText(lockPath);
                }
                catch (IOException)
                {
                    continue;
                }

                // A lock file still empty was just created by a run that is about to write its owner: not stale yet.
                bool starting = text.Length == 0 && DateTime.UtcNow - File.GetLastWriteTimeUtc(lockPath) < TimeSpan.FromSeconds(5);
                if (starting || IsAlive(text, out int pid))
                {
                    throw new RunFolderException($"{option} {path}: the folder is in use by another xent run{(starting ? string.Empty : $" (process {OwnerPid(text)})")}; wait for it to finish or choose another folder.");
                }

                // The owner is gone: take the lock over. Renaming it away is atomic, so of two runs that both found it
                // stale only one moves it; the other finds it gone, and then the new owner's lock, on its next try.
                string stale = lockPath + ".stale-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
                try
                {
                    File.Move(lockPath, stale);
                    if (File.ReadAllText(stale) != text && !File.Exists(lockPath))
                    {
                        // Between our read and the rename another run took the lock over: give it back.
                        File.Move(stale, lockPath);
                    }
                    else
                    {
                        File.Delete(stale);
                    }
                }
                catch (FileNotFoundException)
                {
                    // Another run took it over first.
                }
            }
        }

        throw new RunFolderException($"{option} {path}: could not take the folder's lock ({LockFileName}); another run may be starting there.");
    }

    private static string OwnerPid(string owner) => owner.Split(' ')[0];

    private static bool IsAlive(string owner, out int pid)
    {
        string[] parts = owner.Split(' ');
        pid = 0;
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out pid)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long ticks))
        {
            return false; // Unreadable (for example written half-way by a killed run): stale.
        }

        long stamp = StartStamp(pid);
        return stamp >= 0 && stamp == ticks;
    }
}
