namespace Xent.Data;

/// <summary>One column of a <see cref="DataTable"/>, as read: numbers or category codes, with missing cells marked.</summary>
public abstract class FeatureColumn
{
    /// <summary>Creates the column.</summary>
    /// <param name="name">The header name.</param>
    /// <param name="kind">How it is encoded.</param>
    protected FeatureColumn(string name, ColumnKind kind)
    {
        ArgumentNullException.ThrowIfNull(name);
        Name = name;
        Kind = kind;
    }

    /// <summary>The header name.</summary>
    public string Name { get; }

    /// <summary>How it is encoded.</summary>
    public ColumnKind Kind { get; }

    /// <summary>Rows.</summary>
    public abstract int Count { get; }

    /// <summary>Whether a row's cell is missing.</summary>
    /// <param name="row">The row.</param>
    /// <returns>True when missing.</returns>
    public abstract bool IsMissing(int row);

    /// <summary>Missing cells in all.</summary>
    /// <returns>The count.</returns>
    public int MissingCount()
    {
        int missing = 0;
        for (int r = 0; r < Count; r++)
        {
            missing += IsMissing(r) ? 1 : 0;
        }

        return missing;
    }

    /// <summary>Adds a row's value to a running 64-bit hash (used to find rows that two files share).</summary>
    /// <param name="row">The row.</param>
    /// <param name="hash">The running hash.</param>
    /// <returns>The updated hash.</returns>
    public abstract ulong Hash(int row, ulong hash);

    /// <summary>The column's first rows (for <see cref="DataTable.Head"/>).</summary>
    /// <param name="rows">Rows to keep, at least 1; all of them when the column has no more.</param>
    /// <returns>A column of those rows.</returns>
    /// <exception cref="NotSupportedException">The column's type cannot be cut.</exception>
    public virtual FeatureColumn Take(int rows) => throw new NotSupportedException($"Column '{Name}' is a {GetType().Name}, which cannot be cut to its first rows.");

    /// <summary>FNV-1a step over one 64-bit value.</summary>
    internal static ulong Mix(ulong hash, ulong value)
    {
        for (int i = 0; i < 8; i++)
        {
            hash ^= (value >> (8 * i)) & 0xFF;
            hash *= 0x100000001B3UL;
        }

        return hash;
    }
}

/// <summary>A column of numbers; NaN marks a missing cell.</summary>
public sealed class NumericColumn : FeatureColumn, INumericColumn
{
    /// <summary>Creates the column.</summary>
    /// <param name="name">The header name.</param>
    /// <param name="values">One value per row; NaN for missing.</param>
    public NumericColumn(string name, float[] values)
        : base(name, ColumnKind.Numeric)
    {
        ArgumentNullException.ThrowIfNull(values);
        Values = values;
    }

    /// <summary>One value per row; NaN for missing.</summary>
    public float[] Values { get; }

    /// <inheritdoc />
    public override int Count => Values.Length;

    /// <inheritdoc />
    public override bool IsMissing(int row) => float.IsNaN(Values[row]);

    /// <inheritdoc />
    public float ValueAt(int row) => Values[row];

    /// <inheritdoc />
    public override FeatureColumn Take(int rows) => new NumericColumn(Name, Values[..Math.Min(rows, Count)]);

    /// <inheritdoc />
    public override ulong Hash(int row, ulong hash) => Mix(hash, float.IsNaN(Values[row]) ? 0x7FC00000UL : BitConverter.SingleToUInt32Bits(Values[row] == 0 ? 0f : Values[row]));
}

/// <summary>A column of text categories (or booleans), stored as codes into its list of distinct values; -1 marks a missing cell.</summary>
public sealed class CategoricalColumn : FeatureColumn
{
    /// <summary>Creates the column.</summary>
    /// <param name="name">The header name.</param>
    /// <param name="kind"><see cref="ColumnKind.Categorical"/> or <see cref="ColumnKind.Boolean"/>.</param>
    /// <param name="codes">One code per row: an index into <paramref name="values"/>, or -1 for missing.</param>
    /// <param name="values">The distinct values, in order of first appearance.</param>
    public CategoricalColumn(string name, ColumnKind kind, int[] codes, IReadOnlyList<string> values)
        : base(name, kind)
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentNullException.ThrowIfNull(values);
        if (kind == ColumnKind.Numeric)
        {
            throw new ArgumentException("A categorical column cannot be numeric.", nameof(kind));
        }

        Codes = codes;
        Values = values;
    }

    /// <summary>One code per row: an index into <see cref="Values"/>, or -1 for missing.</summary>
    public int[] Codes { get; }

    /// <summary>The distinct values, in order of first appearance.</summary>
    public IReadOnlyList<string> Values { get; }

    /// <inheritdoc />
    public override int Count => Codes.Length;

    /// <inheritdoc />
    public override bool IsMissing(int row) => Codes[row] < 0;

    /// <inheritdoc />
    public override FeatureColumn Take(int rows) => new CategoricalColumn(Name, Kind, Codes[..Math.Min(rows, Count)], Values);

    /// <summary>A row's value, or <see langword="null"/> when missing.</summary>
    /// <param name="row">The row.</param>
    /// <returns>The text.</returns>
    public string? ValueAt(int row) => Codes[row] < 0 ? null : Values[Codes[row]];

    /// <inheritdoc />
    public override ulong Hash(int row, ulong hash)
    {
        if (Codes[row] < 0)
        {
            return Mix(hash, 0xFFFF_FFFF_FFFF_FFFFUL);
        }

        foreach (char c in Values[Codes[row]])
        {
            hash = Mix(hash, c);
        }

        return Mix(hash, 0xFFFF_FFFF_FFFF_FFFEUL);
    }
}
