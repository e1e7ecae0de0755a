using System.Text.Json;

namespace Xent.Data;

/// <summary>What <see cref="Preprocessor.Transform"/> produced.</summary>
/// <param name="Data">The encoded rows, with the table's labels.</param>
/// <param name="UnseenCells">Cells whose category the training rows did not have (encoded as all zeros).</param>
public sealed record EncodedTable(Dataset Data, long UnseenCells)
{
    /// <summary>The first cell (in row order, then column order) whose category the training rows did not have, or <see langword="null"/>.</summary>
    public UnseenCategory? FirstUnseen { get; init; }
}

/// <summary>A cell whose category the training rows did not have.</summary>
/// <param name="Column">The column's name.</param>
/// <param name="Value">The cell's text.</param>
/// <param name="Row">The row's index in the table (0-based).</param>
public sealed record UnseenCategory(string Column, string Value, int Row);

/// <summary>
/// The column pipeline that travels with a model, like scikit-learn's ColumnTransformer: each numeric column is
/// imputed with its training median and standardised; each categorical or boolean column is imputed with its most
/// frequent training value and one-hot encoded; a column with missing training cells also gets a 0/1 indicator. It is
/// fitted on the training rows only, stored in the model file, and applied identically by <c>train</c>,
/// <c>evaluate</c>, <c>predict</c> and the library.
/// </summary>
public sealed class Preprocessor
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) } };

    /// <summary>Creates a preprocessor from fitted encoders.</summary>
    /// <param name="columns">One encoder per input column, in input order.</param>
    /// <param name="missingTokens">The spellings of a missing cell (besides the empty cell).</param>
    public Preprocessor(IReadOnlyList<ColumnEncoder> columns, IReadOnlyList<string> missingTokens)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(missingTokens);
        Columns = columns;
        MissingTokens = missingTokens;
        OutputNames = [.. columns.SelectMany(c => c.OutputNames())];
        _pixelColumns = [.. Enumerable.Range(0, columns.Count).Where(c => columns[c] is NumericEncoder { Pixels: true })];
    }

    /// <summary>The input columns trained on image pixels (<see cref="NumericEncoder.Pixels"/>), in input order.</summary>
    private readonly int[] _pixelColumns;

    /// <summary>One encoder per input column, in input order.</summary>
    public IReadOnlyList<ColumnEncoder> Columns { get; }

    /// <summary>The spellings of a missing cell (besides the empty cell).</summary>
    public IReadOnlyList<string> MissingTokens { get; }

    /// <summary>The model's inputs, named (<c>age</c>, <c>age_missing</c>, <c>island=Biscoe</c>, …).</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>The number of model inputs.</summary>
    public int OutputWidth => OutputNames.Count;

    /// <summary>The input columns' names and kinds, to read a file the way the training file was read.</summary>
    public IReadOnlyList<KeyValuePair<string, ColumnKind>> Schema => [.. Columns.Select(c => KeyValuePair.Create(c.Name, c.ColumnKind))];

    /// <summary>Fits on the training rows of a table.</summary>
    /// <param name="table">The table.</param>
    /// <param name="rows">The training rows.</param>
    /// <param name="standardize">Whether to standardise numeric columns (fitted on these rows).</param>
    /// <param name="missingTokens">The spellings of a missing cell the table was read with; <see langword="null"/> for the default.</param>
    /// <returns>The fitted preprocessor.</returns>
    /// <exception cref="ArgumentException">No rows, or a column without any value in the training rows.</exception>
    public static Preprocessor Fit(DataTable table, IReadOnlyList<int> rows, bool standardize = true, IReadOnlyList<string>? missingTokens = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new ArgumentException("Cannot fit a preprocessor on no rows.", nameof(rows));
        }

        ColumnEncoder[] encoders = [.. table.Columns.Select(c => c switch
        {
            INumericColumn n => (ColumnEncoder)NumericEncoder.Fit(n, rows, standardize),
            CategoricalColumn k => CategoricalEncoder.Fit(k, rows),
            _ => throw new ArgumentException($"Column '{c.Name}' is of an unknown type.", nameof(table)),
        })];
        return new Preprocessor(encoders, missingTokens ?? TableReadOptions.DefaultMissingTokens);
    }

    /// <summary>Encodes rows of a table read with <see cref="Schema"/>.</summary>
    /// <param name="table">The table.</param>
    /// <param name="rows">The rows, or <see langword="null"/> for all, in order.</param>
    /// <returns>The encoded rows and how many cells held unseen categories.</returns>
    /// <exception cref="ArgumentException">The table's columns are not this preprocessor's inputs.</exception>
    public EncodedTable Transform(DataTable table, IReadOnlyList<int>? rows = null)
    {
        CheckColumns(table);
        if (FindPixelOutOfRange(table) is { } bad)
        {
            throw new ArgumentException(PixelRangeMessage(bad.Column, $"row {bad.Row + 1}", bad.Value), nameof(table));
        }

        int n = rows?.Count ?? table.Count, width = OutputWidth;
        if ((long)n * width > Array.MaxLength)
        {
            throw new ArgumentException($"{n} rows × {width} encoded features is more than one array can hold.", nameof(table));
        }

        var features = new float[n * width];
        var labels = new int[n];
        long unseen = 0;
        UnseenCategory? first = null;
        for (int i = 0; i < n; i++)
        {
            int row = rows?[i] ?? i;
            labels[i] = table.Labels[row];
            int cells = EncodeRow(table, row, features.AsSpan(i * width, width));
            if (cells > 0 && first is null)
            {
                first = FirstUnseenCell(table, row);
            }

            unseen += cells;
        }

        return new EncodedTable(new Dataset(features, labels, OutputNames, table.ClassNames), unseen) { FirstUnseen = first };
    }

    /// <summary>
    /// Rows of a table as a model reads them: an image table's stay bytes, encoded as they are read
    /// (<see cref="EncodedRows"/>); any other table's are encoded now (<see cref="Transform"/>).
    /// </summary>
    /// <param name="table">The table.</param>
    /// <param name="rows">The rows, in order.</param>
    /// <returns>The rows, and the cells of categories the training rows did not have (none for images).</returns>
    internal (ITrainingRows Rows, long UnseenCells, UnseenCategory? FirstUnseen) Rows(DataTable table, int[] rows)
    {
        if (EncodedRows.ForImages(this, table, rows) is { } images)
        {
            return (images, 0, null);
        }

        EncodedTable encoded = Transform(table, rows);
        return (encoded.Data, encoded.UnseenCells, encoded.FirstUnseen);
    }

    /// <summary>The first cell of a row that <see cref="EncodeRow"/> counted as an unseen category.</summary>
    private UnseenCategory? FirstUnseenCell(DataTable table, int row)
    {
        for (int c = 0; c < Columns.Count; c++)
        {
            if (Columns[c] is CategoricalEncoder e && table.Columns[c] is CategoricalColumn column
                && e.Encode(column, row, new float[e.Width]))
            {
                return new UnseenCategory(column.Name, column.ValueAt(row) ?? string.Empty, row);
            }
        }

        return null;
    }

    /// <summary>
    /// The first cell outside [0, 1] in a column that was trained on image pixels (<see cref="NumericEncoder.Pixels"/>)
    /// but is read here from something other than image bytes, such as a CSV of raw 0–255 values; or
    /// <see langword="null"/> when there is none. Such values would be encoded as they are and give other predictions.
    /// </summary>
    /// <param name="table">A table whose columns <see cref="CheckColumns"/> accepts.</param>
    /// <returns>The column's name, the row (from 0) and the value, or <see langword="null"/>.</returns>
    public (string Column, int Row, float Value)? FindPixelOutOfRange(DataTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        // Only columns read from something other than image bytes (which are in range by construction).
        int[] read = [.. _pixelColumns.Where(c => c < table.Columns.Count && table.Columns[c] is INumericColumn and not PixelColumn)];
        for (int row = 0; read.Length > 0 && row < table.Count; row++)
        {
            foreach (int c in read)
            {
                float v = ((INumericColumn)table.Columns[c]).ValueAt(row);
                if (v < 0 || v > 1)
                {
                    return (Columns[c].Name, row, v);
                }
            }
        }

        return null;
    }

    /// <summary>The message for <see cref="FindPixelOutOfRange"/>'s cell, at <paramref name="where"/> (such as "row 3").</summary>
    /// <param name="column">The column.</param>
    /// <param name="where">Where the cell is.</param>
    /// <param name="value">Its value.</param>
    /// <returns>The message.</returns>
    public static string PixelRangeMessage(string column, string where, float value) =>
        $"column '{column}' holds {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} at {where}, outside [0, 1]: the model was trained on image pixels scaled to [0, 1] (an IDX file's bytes ÷ 255), so divide raw 0–255 pixels by 255 first.";

    /// <summary>Checks that a table's columns are this preprocessor's inputs, by name and kind.</summary>
    /// <param name="table">The table.</param>
    /// <exception cref="ArgumentException">They are not; the message names the first column that differs.</exception>
    internal void CheckColumns(DataTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Columns.Count != Columns.Count)
        {
            throw new ArgumentException($"The table has {table.Columns.Count} columns; the preprocessor reads {Columns.Count}.", nameof(table));
        }

        for (int c = 0; c < Columns.Count; c++)
        {
            if (table.Columns[c].Name != Columns[c].Name || (table.Columns[c].Kind == ColumnKind.Numeric) != (Columns[c].ColumnKind == ColumnKind.Numeric))
            {
                throw new ArgumentException($"Column {c + 1} of the table is '{table.Columns[c].Name}' ({table.Columns[c].Kind.Name()}); the preprocessor expects '{Columns[c].Name}' ({Columns[c].ColumnKind.Name()}).", nameof(table));
            }
        }
    }

    /// <summary>Encodes one row of a table whose columns <see cref="CheckColumns"/> accepted.</summary>
    /// <param name="table">The table.</param>
    /// <param name="row">The row.</param>
    /// <param name="destination">Exactly <see cref="OutputWidth"/> values.</param>
    /// <returns>How many of its cells held a category the training rows did not have.</returns>
    internal int EncodeRow(DataTable table, int row, Span<float> destination)
    {
        int unseen = 0, offset = 0;
        for (int c = 0; c < Columns.Count; c++)
        {
            ColumnEncoder e = Columns[c];
            if (e.Encode(table.Columns[c], row, destination.Slice(offset, e.Width)))
            {
                unseen++;
            }

            offset += e.Width;
        }

        return unseen;
    }

    /// <summary>The preprocessor as JSON (for the model file).</summary>
    /// <returns>The text.</returns>
    public string ToJson() => JsonSerializer.Serialize(new Stored(Columns, MissingTokens), Json);

    /// <summary>Reads <see cref="ToJson"/>'s text and checks it.</summary>
    /// <param name="json">The text.</param>
    /// <returns>The preprocessor.</returns>
    /// <exception cref="InvalidDataException">The text is malformed or holds impossible values.</exception>
    public static Preprocessor FromJson(string json)
    {
        Stored? stored;
        try
        {
            stored = JsonSerializer.Deserialize<Stored>(json, Json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new InvalidDataException($"corrupt preprocessor: {e.Message}", e);
        }

        if (stored?.Columns is not { Count: > 0 } columns || columns.Any(c => c is null || string.IsNullOrEmpty(c.Name)))
        {
            throw new InvalidDataException("corrupt preprocessor: it lists no columns, or a column without a name.");
        }

        foreach (ColumnEncoder c in columns)
        {
            c.Validate();
        }

        if (columns.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count() != columns.Count)
        {
            throw new InvalidDataException("corrupt preprocessor: a column is listed twice.");
        }

        return new Preprocessor(columns, stored.MissingTokens ?? TableReadOptions.DefaultMissingTokens);
    }

    private sealed record Stored(IReadOnlyList<ColumnEncoder> Columns, IReadOnlyList<string>? MissingTokens);
}
