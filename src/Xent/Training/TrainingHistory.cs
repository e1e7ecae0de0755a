using System.Globalization;
using System.Text;
using System.Text.Json;
using Xent.Data;

namespace Xent.Training;

/// <summary>One mini-batch of training.</summary>
/// <param name="Epoch">Epoch, from 0.</param>
/// <param name="Step">Step within the epoch, from 1.</param>
/// <param name="GlobalStep">Step since the start, from 1.</param>
/// <param name="Loss">The training objective on this batch.</param>
/// <param name="Accuracy">Accuracy on this batch.</param>
/// <param name="LearningRate">The learning rate used.</param>
/// <param name="ValidationLoss">Validation cross-entropy after this step, when evaluated (NaN otherwise).</param>
/// <param name="ValidationAccuracy">Validation accuracy after this step, when evaluated (NaN otherwise).</param>
public sealed record BatchRecord(int Epoch, int Step, long GlobalStep, double Loss, double Accuracy, double LearningRate, double ValidationLoss = double.NaN, double ValidationAccuracy = double.NaN);

/// <summary>One epoch of training.</summary>
/// <param name="Epoch">Epoch, from 0.</param>
/// <param name="Loss">Mean training objective over the epoch's rows.</param>
/// <param name="Accuracy">Training accuracy over the epoch's batches (as trained, in training mode).</param>
/// <param name="ValidationLoss">Validation cross-entropy (unweighted, unsmoothed: the log loss), NaN without a validation split.</param>
/// <param name="ValidationAccuracy">Validation accuracy, NaN without a validation split.</param>
/// <param name="LearningRate">The learning rate of the epoch.</param>
public sealed record EpochRecord(int Epoch, double Loss, double Accuracy, double ValidationLoss, double ValidationAccuracy, double LearningRate);

/// <summary>
/// What training recorded, per mini-batch and per epoch, held in bounded memory. Every epoch record is kept. Per-step
/// records are all kept up to <see cref="BatchCapacity"/> steps; beyond that, consecutive steps are grouped into
/// buckets whose width doubles as the run grows, and each bucket keeps only the records that hold its minimum and
/// maximum of each series (loss, accuracy, validation loss, validation accuracy). So every series' extremes survive,
/// memory stays flat over a run of any length, and the complete per-step record is the history log on disk
/// (history.csv, appended as training goes).
/// </summary>
public sealed class TrainingHistory
{
    /// <summary>The number of buckets kept before they are merged in pairs (the exact-record limit).</summary>
    public const int BatchCapacity = 4096;

    private readonly List<List<BatchRecord>> _buckets = [];
    private long _width = 1;
    private long _count;
    private List<BatchRecord>? _view;

    /// <summary>The per-step records kept (all of them while <see cref="BatchCount"/> ≤ <see cref="BatchCapacity"/>), in step order.</summary>
    public IReadOnlyList<BatchRecord> Batches => _view ??= [.. _buckets.SelectMany(b => b)];

    /// <summary>Per-step records added in all (kept or not).</summary>
    public long BatchCount => _count;

    /// <summary>Whether per-step records have been thinned (see the class remarks).</summary>
    public bool IsDownsampled => _width > 1;

    /// <summary>Per epoch.</summary>
    public List<EpochRecord> Epochs { get; init; } = [];

    /// <summary>Adds a per-step record (records arrive in step order).</summary>
    /// <param name="record">The record.</param>
    public void Add(BatchRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _view = null;
        long bucket = _count / _width;
        if (bucket == _buckets.Count && _buckets.Count == BatchCapacity)
        {
            // Full: merge neighbours in pairs and double the bucket width.
            for (int i = 0; i < BatchCapacity / 2; i++)
            {
                List<BatchRecord> merged = _buckets[2 * i];
                merged.AddRange(_buckets[(2 * i) + 1]);
                Reduce(merged);
                _buckets[i] = merged;
            }

            _buckets.RemoveRange(BatchCapacity / 2, BatchCapacity / 2);
            _width *= 2;
            bucket = _count / _width;
        }

        _count++;
        if (bucket == _buckets.Count)
        {
            _buckets.Add(new List<BatchRecord>(1) { record });
        }
        else
        {
            List<BatchRecord> last = _buckets[^1];
            last.Add(record);
            Reduce(last);
        }
    }

    /// <summary>Keeps, in step order, only the records that hold a minimum or maximum of some series.</summary>
    private static void Reduce(List<BatchRecord> records)
    {
        if (records.Count <= 1)
        {
            return;
        }

        Span<int> keep = stackalloc int[8];
        int k = 0;
        foreach (Func<BatchRecord, double> series in Series)
        {
            int min = -1, max = -1;
            for (int i = 0; i < records.Count; i++)
            {
                double v = series(records[i]);
                if (double.IsNaN(v))
                {
                    continue;
                }

                if (min < 0 || v < series(records[min]))
                {
                    min = i;
                }

                if (max < 0 || v > series(records[max]))
                {
                    max = i;
                }
            }

            if (min >= 0)
            {
                keep[k++] = min;
                keep[k++] = max;
            }
        }

        keep = keep[..k];
        keep.Sort();
        int write = 0;
        for (int i = 0; i < keep.Length; i++)
        {
            if (i == 0 || keep[i] != keep[i - 1])
            {
                records[write++] = records[keep[i]];
            }
        }

        records.RemoveRange(write, records.Count - write);
    }

    private static readonly Func<BatchRecord, double>[] Series = [b => b.Loss, b => b.Accuracy, b => b.ValidationLoss, b => b.ValidationAccuracy];

    /// <summary>The header of the per-step CSV.</summary>
    public const string BatchCsvHeader = "epoch,step,global_step,loss,accuracy,learning_rate,val_loss,val_accuracy";

    /// <summary>The header of the per-epoch CSV.</summary>
    public const string EpochCsvHeader = "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate";

    /// <summary>One per-step record as a CSV line (no line break).</summary>
    /// <param name="b">The record.</param>
    /// <returns>The line.</returns>
    public static string FormatBatch(BatchRecord b)
    {
        ArgumentNullException.ThrowIfNull(b);
        Span<char> line = stackalloc char[BatchLineCapacity];
        return new string(line[..FormatBatch(b, line)]);
    }

    /// <summary>The most characters <see cref="FormatBatch(BatchRecord, Span{char})"/> writes (three integers, five doubles of at most 24, seven commas).</summary>
    internal const int BatchLineCapacity = (3 * 20) + (5 * 32) + 7;

    /// <summary><see cref="FormatBatch(BatchRecord)"/>'s line written into <paramref name="destination"/>, without allocating.</summary>
    /// <returns>The characters written.</returns>
    internal static int FormatBatch(BatchRecord b, Span<char> destination)
    {
        int n = 0;
        Put(b.Epoch, destination, ref n);
        destination[n++] = ',';
        Put(b.Step, destination, ref n);
        destination[n++] = ',';
        Put(b.GlobalStep, destination, ref n);
        foreach (double v in (ReadOnlySpan<double>)[b.Loss, b.Accuracy, b.LearningRate, b.ValidationLoss, b.ValidationAccuracy])
        {
            destination[n++] = ',';
            if (!double.IsNaN(v))
            {
                _ = v.TryFormat(destination[n..], out int written, "R", CultureInfo.InvariantCulture);
                n += written;
            }
        }

        return n;
    }

    private static void Put(long value, Span<char> destination, ref int n)
    {
        _ = value.TryFormat(destination[n..], out int written, default, CultureInfo.InvariantCulture);
        n += written;
    }

    /// <summary>One per-epoch record as a CSV line (no line break).</summary>
    /// <param name="e">The record.</param>
    /// <returns>The line.</returns>
    public static string FormatEpoch(EpochRecord e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return string.Create(CultureInfo.InvariantCulture, $"{e.Epoch},{N(e.Loss)},{N(e.Accuracy)},{N(e.ValidationLoss)},{N(e.ValidationAccuracy)},{N(e.LearningRate)}");
    }

    /// <summary>Parses a line that <see cref="FormatBatch(BatchRecord)"/> wrote.</summary>
    /// <param name="line">The line.</param>
    /// <returns>The record.</returns>
    /// <exception cref="FormatException">The line is not such a record.</exception>
    public static BatchRecord ParseBatch(string line)
    {
        string[] f = Fields(line, 8);
        return new BatchRecord(I(f[0]), I(f[1]), L(f[2]), D(f[3]), D(f[4]), D(f[5]), D(f[6]), D(f[7]));
    }

    /// <summary>Parses a line that <see cref="FormatEpoch"/> wrote.</summary>
    /// <param name="line">The line.</param>
    /// <returns>The record.</returns>
    /// <exception cref="FormatException">The line is not such a record.</exception>
    public static EpochRecord ParseEpoch(string line)
    {
        string[] f = Fields(line, 6);
        return new EpochRecord(I(f[0]), D(f[1]), D(f[2]), D(f[3]), D(f[4]), D(f[5]));
    }

    /// <summary>The kept per-step records as CSV, with the header.</summary>
    /// <returns>The text.</returns>
    public string BatchesCsv()
    {
        var sb = new StringBuilder(BatchCsvHeader).Append('\n');
        foreach (BatchRecord b in Batches)
        {
            sb.Append(FormatBatch(b)).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>The epoch records as CSV, with the header.</summary>
    /// <returns>The text.</returns>
    public string EpochsCsv()
    {
        var sb = new StringBuilder(EpochCsvHeader).Append('\n');
        foreach (EpochRecord e in Epochs)
        {
            sb.Append(FormatEpoch(e)).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>The kept records as JSON (NaN written as null), with <c>batch_count</c> and <c>downsampled</c>.</summary>
    /// <returns>The text.</returns>
    public string ToJson() => JsonSerializer.Serialize(new { batch_count = BatchCount, downsampled = IsDownsampled, batches = Batches.Select(Plain), epochs = Epochs.Select(Plain) }, JsonOptions.Indented);

    /// <summary>Writes history.csv (the kept per-step records) and epochs.csv into a folder, each atomically. The
    /// trainer streams complete logs itself when it is given a history folder; this is for histories built in memory.</summary>
    /// <param name="directory">The folder.</param>
    public void WriteTo(string directory)
    {
        AtomicFile.WriteAllText(Path.Combine(directory, HistoryLog.BatchFile), BatchesCsv());
        AtomicFile.WriteAllText(Path.Combine(directory, HistoryLog.EpochFile), EpochsCsv());
    }

    private static string[] Fields(string line, int count)
    {
        string[] f = line.Split(',');
        return f.Length == count ? f : throw new FormatException($"expected {count} fields, found {f.Length}");
    }

    private static int I(string s) => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private static long L(string s) => long.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private static double D(string s) => s.Length == 0 ? double.NaN : double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static Dictionary<string, object?> Plain(BatchRecord b) => new()
    {
        ["epoch"] = b.Epoch, ["step"] = b.Step, ["global_step"] = b.GlobalStep, ["loss"] = J(b.Loss), ["accuracy"] = J(b.Accuracy),
        ["learning_rate"] = J(b.LearningRate), ["val_loss"] = J(b.ValidationLoss), ["val_accuracy"] = J(b.ValidationAccuracy),
    };

    private static Dictionary<string, object?> Plain(EpochRecord e) => new()
    {
        ["epoch"] = e.Epoch, ["loss"] = J(e.Loss), ["accuracy"] = J(e.Accuracy), ["val_loss"] = J(e.ValidationLoss),
        ["val_accuracy"] = J(e.ValidationAccuracy), ["learning_rate"] = J(e.LearningRate),
    };

    private static double? J(double v) => double.IsFinite(v) ? v : null;

    private static string N(double v) => double.IsNaN(v) ? string.Empty : v.ToString("R", CultureInfo.InvariantCulture);
}
