namespace Xent.Data;

/// <summary>
/// Rows as read from a CSV before encoding: typed columns (numbers or categories, with missing cells), the labels,
/// and optionally an id per row. A <see cref="Preprocessor"/> turns it into a numeric <see cref="Dataset"/>.
/// </summary>
public sealed class DataTable
{
    /// <summary>Creates a table.</summary>
    /// <param name="columns">The feature columns, all of one length.</param>
    /// <param name="labels">One class index per row.</param>
    /// <param name="classNames">The class names.</param>
    /// <param name="ids">One id per row, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public DataTable(IReadOnlyList<FeatureColumn> columns, int[] labels, IReadOnlyList<string> classNames, IReadOnlyList<string>? ids = null)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        foreach (FeatureColumn c in columns)
        {
            if (c.Count != labels.Length)
            {
                throw new ArgumentException($"Column '{c.Name}' has {c.Count} rows; the labels have {labels.Length}.", nameof(columns));
            }
        }

        if (ids is not null && ids.Count != labels.Length)
        {
            throw new ArgumentException($"{ids.Count} ids for {labels.Length} rows.", nameof(ids));
        }

        Columns = columns;
        Labels = labels;
        ClassNames = classNames;
        Ids = ids;
    }

    /// <summary>The feature columns.</summary>
    public IReadOnlyList<FeatureColumn> Columns { get; }

    /// <summary>One class index per row.</summary>
    public int[] Labels { get; }

    /// <summary>The class names.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>One id per row, or <see langword="null"/>.</summary>
    public IReadOnlyList<string>? Ids { get; }

    /// <summary>Rows.</summary>
    public int Count => Labels.Length;

    /// <summary>The label column's name in the file it was read from, or <see langword="null"/>.</summary>
    public string? LabelName { get; internal set; }

    /// <summary>What the reader noticed that a person should know (for example a number column read as text because of one stray cell).</summary>
    public IReadOnlyList<string> Warnings { get; internal set; } = [];

    /// <summary>Classes.</summary>
    public int ClassCount => ClassNames.Count;

    /// <summary>The column names and kinds, to read another file the same way.</summary>
    public IReadOnlyList<KeyValuePair<string, ColumnKind>> Schema => [.. Columns.Select(c => KeyValuePair.Create(c.Name, c.Kind))];

    /// <summary>The first rows (for example a quick run on a subset of a file whose rows are already in random order, as Fashion-MNIST's are).</summary>
    /// <param name="rows">Rows to keep: at least 1; the whole table when it has no more.</param>
    /// <returns>A table of the first <paramref name="rows"/> rows, with the same columns, classes, label name and warnings; this table itself when it has no more rows.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is below 1.</exception>
    public DataTable Head(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        if (rows >= Count)
        {
            return this;
        }

        FeatureColumn[] columns = [.. Columns.Select(c => c.Take(rows))];
        return new DataTable(columns, Labels[..rows], ClassNames, Ids?.Take(rows).ToArray()) { LabelName = LabelName, Warnings = Warnings };
    }

    /// <summary>A table of a numeric dataset's features (no missing cells).</summary>
    /// <param name="data">The dataset.</param>
    /// <returns>The table; the columns copy the features.</returns>
    public static DataTable FromDataset(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int d = data.FeatureCount;
        var columns = new FeatureColumn[d];
        for (int j = 0; j < d; j++)
        {
            var values = new float[data.Count];
            for (int i = 0; i < data.Count; i++)
            {
                values[i] = data.Features[(i * d) + j];
            }

            columns[j] = new NumericColumn(data.FeatureNames[j], values);
        }

        return new DataTable(columns, data.Labels, data.ClassNames);
    }

    /// <summary>A 64-bit hash of each row's feature values (not its label), for finding rows two tables share.</summary>
    /// <param name="rows">The rows, or <see langword="null"/> for all.</param>
    /// <returns>One hash per row.</returns>
    public ulong[] RowHashes(IReadOnlyList<int>? rows = null)
    {
        int n = rows?.Count ?? Count;
        var hashes = new ulong[n];
        for (int i = 0; i < n; i++)
        {
            int row = rows is null ? i : rows[i];
            ulong h = 0xCBF29CE484222325UL;
            foreach (FeatureColumn c in Columns)
            {
                h = c.Hash(row, h);
            }

            hashes[i] = h;
        }

        return hashes;
    }

    /// <summary>Rows per class.</summary>
    /// <param name="rows">The rows to count, or <see langword="null"/> for all.</param>
    /// <returns>The counts.</returns>
    public int[] ClassCounts(IReadOnlyList<int>? rows = null)
    {
        var counts = new int[ClassCount];
        if (rows is null)
        {
            foreach (int y in Labels)
            {
                counts[y]++;
            }
        }
        else
        {
            foreach (int r in rows)
            {
                counts[Labels[r]]++;
            }
        }

        return counts;
    }
}
