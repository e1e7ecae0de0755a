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
    private readonly List<BatchRecord> _pendingBatches = [];
    private readonly List<EpochRecord> _pendingEpochs = [];

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

    /// <summary>The most records queued before the trainer writes them itself (bounding the queue between distant checkpoints).</summary>
    public const int MaxPending = 4096;

    /// <summary>Records queued and not yet written.</summary>
    public int PendingCount => _pendingBatches.Count + _pendingEpochs.Count;

    /// <summary>Queues a per-step record; it is formatted and written by <see cref="TakePending"/>'s writer or <see cref="Flush"/>.</summary>
    public void Append(BatchRecord record) => _pendingBatches.Add(record);

    /// <summary>Queues a per-epoch record, as <see cref="Append(BatchRecord)"/>.</summary>
    public void Append(EpochRecord record) => _pendingEpochs.Add(record);

    /// <summary>
    /// Takes the queued records and returns what writes them: formats them, hands both files to the operating system and
    /// returns their lengths. The checkpoint writer runs it on its own thread before it writes the checkpoint that records
    /// those lengths, so that formatting the per-step lines (0.8 µs each) overlaps the next epoch. At most one writer may
    /// run at a time, and none while <see cref="Flush"/> or <see cref="Dispose"/> runs.
    /// </summary>
    /// <param name="durable">Whether the writer also flushes both files to disk (fsync), as a checkpoint that records their lengths needs: else a power loss could leave them shorter than it says, and the resume would refuse them.</param>
    public Func<(long BatchBytes, long EpochBytes)> TakePending(bool durable)
    {
        BatchRecord[] batches = [.. _pendingBatches];
        EpochRecord[] epochs = [.. _pendingEpochs];
        _pendingBatches.Clear();
        _pendingEpochs.Clear();
        return () =>
        {
            Write(batches, epochs);
            return FlushStreams(durable);
        };
    }

    /// <summary>Writes what is queued, hands everything written to the operating system and returns both files' lengths.</summary>
    public (long BatchBytes, long EpochBytes) Flush() => TakePending(durable: false)();

    private void Write(BatchRecord[] batches, EpochRecord[] epochs)
    {
        Span<char> line = stackalloc char[TrainingHistory.BatchLineCapacity + 1];
        foreach (BatchRecord record in batches)
        {
            int n = TrainingHistory.FormatBatch(record, line);
            line[n++] = '\n';
            _batches.Write(line[..n]); // no string per step
        }

        foreach (EpochRecord record in epochs)
        {
            _epochs.WriteLine(TrainingHistory.FormatEpoch(record));
        }
    }

    private (long BatchBytes, long EpochBytes) FlushStreams(bool durable)
    {
        _batches.Flush();
        _epochs.Flush();
        if (durable)
        {
            _batchStream.Flush(flushToDisk: true);
            _epochStream.Flush(flushToDisk: true);
        }

        return (_batchStream.Length, _epochStream.Length);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Dispose never throws: a run that succeeded has already flushed (and so reported a failure to write), and a
        // run that failed reports its own failure; a resume truncates the files to the checkpoint's lengths.
        Quietly(() => Flush()); // records queued since the last write (a run that failed mid-epoch) still reach the file
        Quietly(_batches.Dispose);
        Quietly(_epochs.Dispose);
    }

    private static void Quietly(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // See Dispose.
        }
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
