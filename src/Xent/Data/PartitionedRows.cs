using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Xent.Data;

/// <summary>
/// One rank's share of the training split under sharded training across processes: training row i belongs to
/// partition i mod M (as in <see cref="BatchOrder.ForEpoch(int, int, ulong, int)"/>), and this rank keeps the encoded
/// features of the rows of its partitions <see cref="First"/> … <see cref="First"/> + <see cref="Owned"/> − 1 only,
/// about 1/K of the split. It keeps the labels of every row (4 bytes a row), since every rank computes the loss's
/// denominator over the whole global batch. The content digest is that of the whole split, computed while encoding,
/// so that a checkpoint records the same data whatever the number of processes.
/// </summary>
internal sealed class PartitionedRows : ITrainingRows
{
    private readonly float[] _features;
    private readonly string _contentHash;

    private PartitionedRows(float[] features, int[] labels, int partitions, int first, int owned, IReadOnlyList<string> featureNames, IReadOnlyList<string> classNames, string contentHash)
    {
        (_features, Labels, Partitions, First, Owned, FeatureNames, ClassNames, _contentHash) = (features, labels, partitions, first, owned, featureNames, classNames, contentHash);
    }

    /// <summary>M, the number of partitions.</summary>
    public int Partitions { get; }

    /// <summary>The first partition this rank holds.</summary>
    public int First { get; }

    /// <summary>How many consecutive partitions this rank holds.</summary>
    public int Owned { get; }

    /// <inheritdoc />
    public int Count => Labels.Length;

    /// <inheritdoc />
    public int FeatureCount => FeatureNames.Count;

    /// <inheritdoc />
    public int ClassCount => ClassNames.Count;

    /// <inheritdoc />
    public int[] Labels { get; }

    /// <summary>Feature names.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Class names.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>How many rows' features this rank holds.</summary>
    public int HeldCount => HeldRows(Count, Partitions, First, Owned);

    /// <summary>Whether this rank holds a row's features.</summary>
    /// <param name="row">The row's index in the whole split.</param>
    /// <returns>True for a row of one of its partitions.</returns>
    public bool Holds(int row)
    {
        int p = (row % Partitions) - First;
        return (uint)row < (uint)Count && p >= 0 && p < Owned;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The row is not one of this rank's.</exception>
    public void CopyRow(int row, Span<float> destination) => Row(row).CopyTo(destination);

    /// <summary>One held row's features.</summary>
    /// <param name="row">The row's index in the whole split.</param>
    /// <returns>Its features.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The row is not one of this rank's.</exception>
    public ReadOnlySpan<float> Row(int row)
    {
        if (!Holds(row))
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, (uint)row < (uint)Count
                ? $"Training row {row} belongs to partition {row % Partitions}, whose features this process does not hold (it holds partitions {First} to {First + Owned - 1} of {Partitions})."
                : $"Training row {row} does not exist: the split has {Count} rows.");
        }

        int d = FeatureCount, local = ((row / Partitions) * Owned) + (row % Partitions) - First;
        return _features.AsSpan(local * d, d);
    }

    /// <inheritdoc />
    public string ContentHash() => _contentHash;

    /// <summary>The held rows as a dataset, in the order of their index in the split (the features are shared, not copied).</summary>
    /// <returns>The dataset of <see cref="HeldCount"/> rows.</returns>
    public Dataset Held()
    {
        var labels = new int[HeldCount];
        int i = 0;
        for (int row = 0; row < Count; row++)
        {
            if (Holds(row))
            {
                labels[i++] = Labels[row];
            }
        }

        return new Dataset(_features, labels, FeatureNames, ClassNames);
    }

    /// <summary>
    /// Encodes the training rows of a table with a fitted preprocessor, keeping the features of one rank's partitions
    /// only: the rows are encoded a chunk at a time, each chunk is added to the whole split's digest, and the rank's rows
    /// are copied out. Each kept row holds the bits <see cref="Preprocessor.Transform"/> gives it.
    /// </summary>
    /// <param name="preprocessor">The preprocessor, fitted on the whole training split.</param>
    /// <param name="table">The table.</param>
    /// <param name="rows">The training split's rows of the table, in split order.</param>
    /// <param name="partitions">M, at least 1.</param>
    /// <param name="first">The rank's first partition.</param>
    /// <param name="owned">How many consecutive partitions the rank holds, at least 1.</param>
    /// <returns>The rank's rows.</returns>
    /// <exception cref="ArgumentException">The table's columns are not the preprocessor's, or the partitions are out of range.</exception>
    public static PartitionedRows Encode(Preprocessor preprocessor, DataTable table, IReadOnlyList<int> rows, int partitions, int first, int owned)
    {
        ArgumentNullException.ThrowIfNull(preprocessor);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(owned, 1);
        if (first < 0 || first + owned > partitions)
        {
            throw new ArgumentException($"Partitions {first} to {first + owned - 1} are not among the {partitions} partitions (0 to {partitions - 1}).", nameof(first));
        }

        preprocessor.CheckColumns(table);
        int n = rows.Count, width = preprocessor.OutputWidth;
        int held = HeldRows(n, partitions, first, owned);
        if ((long)held * width > Array.MaxLength)
        {
            throw new ArgumentException($"{held} rows × {width} encoded features is more than one array can hold.", nameof(table));
        }

        var features = new float[held * width];
        var labels = new int[n];
        const int chunkRows = 1024;
        var chunk = new float[Math.Min(n, chunkRows) * width];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int kept = 0;
        for (int start = 0; start < n; start += chunkRows)
        {
            int m = Math.Min(chunkRows, n - start);
            for (int i = 0; i < m; i++)
            {
                int row = start + i;
                labels[row] = table.Labels[rows[row]];
                Span<float> encoded = chunk.AsSpan(i * width, width);
                preprocessor.EncodeRow(table, rows[row], encoded);
                int p = (row % partitions) - first;
                if (p >= 0 && p < owned)
                {
                    encoded.CopyTo(features.AsSpan(kept * width, width));
                    kept++;
                }
            }

            hash.AppendData(MemoryMarshal.AsBytes(chunk.AsSpan(0, m * width)));
        }

        string digest = Dataset.FinishContentHash(hash, labels, preprocessor.OutputNames, table.ClassNames);
        return new PartitionedRows(features, labels, partitions, first, owned, preprocessor.OutputNames, table.ClassNames, digest);
    }

    /// <summary>How many of <paramref name="rows"/> rows fall in partitions <paramref name="first"/> … <paramref name="first"/> + <paramref name="owned"/> − 1 of M.</summary>
    private static int HeldRows(int rows, int partitions, int first, int owned)
    {
        int held = 0;
        for (int p = first; p < first + owned; p++)
        {
            held += BatchOrder.PartitionSize(rows, partitions, p);
        }

        return held;
    }
}
