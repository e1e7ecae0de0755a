using System.Text;

namespace Xent.Training;

/// <summary>
/// The complete history on disk: history.csv (one line per step) and epochs.csv (one line per epoch), appended as
/// training goes. A checkpoint records both files' lengths; a resume truncates them to those lengths and reads them
/// back into the in-memory <see cref="TrainingHistory"/>, so a resumed run and an uninterrupted one end with
/// byte-identical files.
/// </summary>
internal sealed class HistoryLog : IDisposable
{
    /// <summary>The per-step file.</summary>
    public const string BatchFile = "history.csv";

    /// <summary>The per-epoch file.</summary>
    public const string EpochFile = "epochs.csv";

    private static readonly UTF8Encoding Utf8 = new(false);
    private readonly FileStream _batchStream;
    private readonly FileStream _epochStream;
    private readonly StreamWriter _batches;
    private readonly StreamWriter _epochs;

    private HistoryLog(FileStream batchStream, FileStream epochStream)
    {
        _batchStream = batchStream;
        _epochStream = epochStream;
        _batches = new StreamWriter(batchStream, Utf8, 1 << 16) { NewLine = "\n" };
        _epochs = new StreamWriter(epochStream, Utf8, 1 << 12) { NewLine = "\n" };
    }

    /// <summary>Starts new logs in a folder (replacing any there), each with its header.</summary>
    public static HistoryLog Create(string directory)
    {
        var log = new HistoryLog(Open(directory, BatchFile, FileMode.Create), Open(directory, EpochFile, FileMode.Create));
        log._batches.WriteLine(TrainingHistory.BatchCsvHeader);
        log._epochs.WriteLine(TrainingHistory.EpochCsvHeader);
        return log;
    }

    /// <summary>Reopens the logs at a checkpoint: truncates each file to the recorded length and reads its records into <paramref name="history"/>.</summary>
    /// <exception cref="InvalidDataException">A file is missing, shorter than recorded, or does not hold the recorded number of records.</exception>
    public static HistoryLog Resume(string directory, TrainingState state, TrainingHistory history)
    {
        FileStream batches = Reopen(directory, BatchFile, state.BatchLogBytes, TrainingHistory.BatchCsvHeader, state.BatchRecords, line => history.Add(TrainingHistory.ParseBatch(line)));
        try
        {
            FileStream epochs = Reopen(directory, EpochFile, state.EpochLogBytes, TrainingHistory.EpochCsvHeader, state.EpochRecords, line => history.Epochs.Add(TrainingHistory.ParseEpoch(line)));
            return new HistoryLog(batches, epochs);
        }
        catch
        {
            batches.Dispose();
            throw;
        }
    }

    /// <summary>Appends a per-step record.</summary>
    public void Append(BatchRecord record)
    {
        Span<char> line = stackalloc char[TrainingHistory.BatchLineCapacity + 1];
        int n = TrainingHistory.FormatBatch(record, line);
        line[n++] = '\n';
        _batches.Write(line[..n]); // no string per step
    }

    /// <summary>Appends a per-epoch record.</summary>
    public void Append(EpochRecord record) => _epochs.WriteLine(TrainingHistory.FormatEpoch(record));

    /// <summary>Hands everything written to the operating system and returns both files' lengths.</summary>
    public (long BatchBytes, long EpochBytes) Flush()
    {
        _batches.Flush();
        _epochs.Flush();
        return (_batchStream.Length, _epochStream.Length);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _batches.Dispose();
        _epochs.Dispose();
    }

    private static FileStream Open(string directory, string name, FileMode mode)
        => new(Path.Combine(directory, name), mode, FileAccess.ReadWrite, FileShare.Read, 1 << 12);

    private static FileStream Reopen(string directory, string name, long length, string header, long records, Action<string> add)
    {
        string path = Path.Combine(directory, name);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{name}: the history log that the checkpoint continues is missing from {directory}; start afresh with --force instead of --resume.");
        }

        FileStream stream = Open(directory, name, FileMode.Open);
        try
        {
            if (stream.Length < length)
            {
                throw new InvalidDataException($"{name}: the history log holds {stream.Length} bytes but the checkpoint recorded {length}; it was changed or truncated, so the run cannot resume exactly. Start afresh with --force instead of --resume.");
            }

            stream.SetLength(length);
            stream.Position = 0;
            long count = 0;
            using (var reader = new StreamReader(stream, Utf8, false, 1 << 16, leaveOpen: true))
            {
                if (reader.ReadLine() != header)
                {
                    throw new InvalidDataException($"{name}: the history log does not start with the header {header}.");
                }

                while (reader.ReadLine() is { } line)
                {
                    count++;
                    try
                    {
                        add(line);
                    }
                    catch (Exception e) when (e is FormatException or OverflowException)
                    {
                        throw new InvalidDataException($"{name}: line {count + 1} is not a history record as Xent writes it; the file was changed. Start afresh with --force instead of --resume.", e);
                    }
                }
            }

            if (count != records)
            {
                throw new InvalidDataException($"{name}: the history log holds {count} records up to the checkpoint, which recorded {records}.");
            }

            stream.Position = length;
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }
}
