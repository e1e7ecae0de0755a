using System.Buffers;
using System.Globalization;
using System.Text;
using CsvHelper;

namespace Xent.Data;

/// <summary>Options of <see cref="CsvTableReader"/>.</summary>
public sealed record TableReadOptions
{
    /// <summary>The missing-value spellings used unless <see cref="MissingTokens"/> says otherwise (an empty cell is always missing).</summary>
    public static IReadOnlyList<string> DefaultMissingTokens { get; } = ["NA", "NaN", "?", "null"];

    /// <summary>
    /// The label column: a header name, or a 0-based column index when no column has that name. Default: <c>label</c>
    /// (without a header: the last column). <see langword="null"/> reads no label (every row gets label 0).
    /// </summary>
    public string? Label { get; init; } = "label";

    /// <summary>Whether a file may lack the label column (for prediction). Default: false.</summary>
    public bool LabelOptional { get; init; }

    /// <summary>Whether the first line names the columns. Default: true; without one the columns are named c0, c1, ….</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>Columns to ignore (ids, free text, dates). Default: none.</summary>
    public IReadOnlyList<string> Drop { get; init; } = [];

    /// <summary>Columns to read as categories whatever they hold (codes such as zip codes). Default: none.</summary>
    public IReadOnlyList<string> Categorical { get; init; } = [];

    /// <summary>Columns to read as numbers (a cell that is not one is an error). Default: none.</summary>
    public IReadOnlyList<string> Numeric { get; init; } = [];

    /// <summary>Spellings of a missing cell besides the empty cell, matched ignoring case. Default: NA, NaN, ?, null.</summary>
    public IReadOnlyList<string> MissingTokens { get; init; } = DefaultMissingTokens;

    /// <summary>
    /// Read exactly these columns, as these kinds (for example a trained model's input columns): the file may hold
    /// them in any order, other columns are skipped, and no kind is guessed. Default: <see langword="null"/>, every
    /// column but the label, the id and <see cref="Drop"/>, with kinds detected from the data.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, ColumnKind>>? Schema { get; init; }

    /// <summary>Fixes the classes and their order (a model's classes); a label not among them is an error. Default: derived from the file.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>A column kept as text, one value per row (for example to label predictions). Default: none.</summary>
    public string? IdColumn { get; init; }

    /// <summary>The most distinct values a detected categorical column may hold. Default: 1000.</summary>
    public int MaxCategories { get; init; } = 1000;

    /// <summary>The option names to suggest in messages (the CLI's).</summary>
    internal bool FromCommandLine { get; init; } = true;
}

/// <summary>
/// Reads a CSV of mixed columns into a <see cref="DataTable"/>: numeric, categorical (text) and boolean columns,
/// detected from the data (a column is numeric when every non-missing cell is a number, boolean when every one is
/// true/false, yes/no, t/f or y/n, else categorical) or named by options; missing cells; an optional header; the label
/// by name or index; an id column. Detection reads the file twice (once for the kinds, once for the values); with a
/// <see cref="TableReadOptions.Schema"/> it reads it once. Malformed input is a <see cref="DataFormatException"/> with
/// the file, line and column and the option that would fix it. The limits of <see cref="CsvDatasetReader"/> hold
/// (field and line length, UTF-8, unique column names).
/// </summary>
public static class CsvTableReader
{
    /// <summary>Reads a file.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The table.</returns>
    /// <exception cref="DataFormatException">The file is malformed.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static DataTable Read(string path, TableReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(Directory.Exists(path) ? $"{path}: a folder, not a CSV file." : $"{path}: file not found.", path);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(stream, Path.GetFileName(path), options);
    }

    /// <summary>Reads CSV from a stream; <paramref name="source"/> names it in messages.</summary>
    /// <param name="stream">The CSV bytes (UTF-8); it must be seekable unless the options give every column's kind.</param>
    /// <param name="source">The name used in messages.</param>
    /// <param name="options">The options.</param>
    /// <returns>The table.</returns>
    /// <exception cref="DataFormatException">The input is malformed.</exception>
    public static DataTable Read(Stream stream, string source, TableReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        options ??= new TableReadOptions();
        long start = stream.CanSeek ? stream.Position : 0;
        Layout layout = ReadLayout(stream, source, options);
        var warnings = new List<string>();
        ColumnKind[] kinds = layout.Kinds ?? Detect(stream, start, source, options, layout, warnings);
        if (stream.CanSeek)
        {
            stream.Position = start;
        }

        DataTable table = Fill(stream, source, options, layout, kinds);
        table.Warnings = warnings;
        table.LabelName = layout.Label >= 0 ? layout.Header[layout.Label] : null;
        return table;
    }

    /// <summary>
    /// Reads a file in chunks of at most <paramref name="chunkRows"/> rows, for work whose memory must not grow with the
    /// file (prediction over millions of rows). The columns' kinds must be known: <see cref="TableReadOptions.Schema"/>
    /// is required. Each chunk's categorical columns list only the values of that chunk.
    /// </summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="options">The options, with a schema.</param>
    /// <param name="chunkRows">Rows per chunk, at least 1.</param>
    /// <returns>The chunks, in file order.</returns>
    /// <exception cref="ArgumentException">No schema is given, or the chunk size is below 1.</exception>
    /// <exception cref="DataFormatException">The file is malformed (raised as the chunk holding the problem is read).</exception>
    public static IEnumerable<DataTable> ReadChunks(string path, TableReadOptions options, int chunkRows)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRows, 1);
        if (options.Schema is null)
        {
            throw new ArgumentException("Reading in chunks needs the columns' kinds (a schema).", nameof(options));
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException(Directory.Exists(path) ? $"{path}: a folder, not a CSV file." : $"{path}: file not found.", path);
        }

        return Chunks(path, options, chunkRows);
    }

    private static IEnumerable<DataTable> Chunks(string path, TableReadOptions options, int chunkRows)
    {
        string source = Path.GetFileName(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        Layout layout = ReadLayout(stream, source, options);
        stream.Position = 0;
        using CsvReader csv = Open(stream);
        bool headerPending = options.HasHeader;
        bool first = true;
        while (FillChunk(csv, source, options, layout, ref headerPending, chunkRows, first) is { } table)
        {
            first = false;
            yield return table;
        }
    }

    private static DataTable? FillChunk(CsvReader csv, string source, TableReadOptions options, Layout layout, ref bool headerPending, int chunkRows, bool first)
    {
        DataTable? table = FillFrom(csv, source, options, layout, layout.Kinds!, ref headerPending, chunkRows, first);
        if (table is not null)
        {
            table.LabelName = layout.Label >= 0 ? layout.Header[layout.Label] : null;
        }

        return table;
    }

    /// <summary>Copies the header and the given data rows (0-based, in file order) of a CSV byte for byte into a new file, written atomically.</summary>
    /// <param name="path">The source CSV.</param>
    /// <param name="destination">The new file.</param>
    /// <param name="rows">The data rows to keep.</param>
    /// <param name="hasHeader">Whether the source has a header line.</param>
    public static void CopyRows(string path, string destination, IReadOnlyCollection<int> rows, bool hasHeader = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(rows);
        var keep = new HashSet<int>(rows);
        string source = Path.GetFileName(path);
        AtomicFile.Write(destination, output =>
        {
            using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            using CsvReader csv = Open(input);
            int row = hasHeader ? -1 : 0;
            while (CsvDatasetReader.Read(csv, source))
            {
                if (row < 0 || keep.Contains(row))
                {
                    ReadOnlySpan<byte> raw = csv.RawRecord;
                    output.Write(raw);
                    if (raw.IsEmpty || raw[^1] != (byte)'\n')
                    {
                        output.WriteByte((byte)'\n');
                    }
                }

                row++;
            }
        });
    }

    /// <summary>What the header says: the names, and which columns hold the features, the label and the id.</summary>
    private sealed record Layout(string[] Header, long HeaderLine, int[] Features, int Label, int Id, ColumnKind[]? Kinds);

    private static CsvReader Open(Stream stream) => CsvReader.Create(stream, new CsvReaderOptions { HasHeader = false, TrackLineNumbers = true, MaxRecordSize = CsvDatasetReader.MaxRecordBytes }, leaveOpen: true);

    private static Layout ReadLayout(Stream stream, string source, TableReadOptions options)
    {
        using CsvReader csv = Open(stream);
        if (!CsvDatasetReader.Read(csv, source))
        {
            throw new DataFormatException(source, 0, 0, options.HasHeader
                ? "the file is empty: expected a header row naming the columns (or --no-header) and data rows."
                : "the file is empty: expected data rows.");
        }

        long line = csv.LineNumber;
        CsvDatasetReader.CheckRecord(csv, source, line, null);
        var header = new string[csv.FieldCount];
        for (int i = 0; i < header.Length; i++)
        {
            header[i] = options.HasHeader ? Encoding.UTF8.GetString(CsvDatasetReader.Trim(csv.GetSpan(i))) : string.Create(CultureInfo.InvariantCulture, $"c{i}");
        }

        if (options.HasHeader && (header.Length == 0 || (header.Length == 1 && header[0].Length == 0)))
        {
            throw new DataFormatException(source, line, 0, "the file is empty: expected a header row naming the columns (or --no-header) and data rows.");
        }

        // With a schema, other columns are skipped, so only the names the read uses must be unique and non-empty
        // (a pandas index column without a name does not stop a prediction).
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var used = options.Schema is { } wanted
            ? new HashSet<string>(wanted.Select(kv => kv.Key).Append(options.Label ?? string.Empty).Append(options.IdColumn ?? string.Empty), StringComparer.Ordinal)
            : null;
        for (int i = 0; i < header.Length; i++)
        {
            if (header[i].Length == 0)
            {
                if (used is null)
                {
                    throw new DataFormatException(source, line, i + 1, $"column {i + 1} has no name; every column needs one (or read the file with --no-header).");
                }

                continue;
            }

            if (!index.TryAdd(header[i], i) && (used is null || used.Contains(header[i])))
            {
                throw new DataFormatException(source, line, i + 1, $"duplicate column name '{MessageText.Quote(header[i])}' (columns {index[header[i]] + 1} and {i + 1}); every column needs a name of its own.");
            }
        }

        int label = ResolveLabel(header, index, options, source, line, csv);
        int id = -1;
        if (options.IdColumn is { } idName && !index.TryGetValue(idName, out id))
        {
            throw new DataFormatException(source, line, 0, $"no id column named '{MessageText.Quote(idName)}' (--id); the header has: {MessageText.List(header, 20)}.");
        }

        foreach ((string option, IReadOnlyList<string> names) in new[] { ("--drop", options.Drop), ("--categorical", options.Categorical), ("--numeric", options.Numeric) })
        {
            string[] unknown = [.. names.Where(n => !index.ContainsKey(n))];
            if (unknown.Length > 0)
            {
                throw new DataFormatException(source, line, 0, $"{option} names {MessageText.List(unknown, quoted: true)}, which the header does not have; it has: {MessageText.List(header, 20)}.");
            }
        }

        string? both = options.Categorical.FirstOrDefault(options.Numeric.Contains);
        if (both is not null)
        {
            throw new DataFormatException(source, line, index[both] + 1, $"column '{MessageText.Quote(both)}' is named by both --categorical and --numeric.");
        }

        int[] features;
        ColumnKind[]? kinds = null;
        if (options.Schema is { } schema)
        {
            string[] missing = [.. schema.Select(kv => kv.Key).Where(n => !index.ContainsKey(n))];
            if (missing.Length > 0)
            {
                throw new DataFormatException(source, line, 0, $"missing column{(missing.Length > 1 ? "s" : "")} {MessageText.List(missing, quoted: true)} ({missing.Length} of the {schema.Count} the model reads).");
            }

            features = [.. schema.Select(kv => index[kv.Key])];
            kinds = [.. schema.Select(kv => kv.Value)];
            if (label >= 0 && features.Contains(label))
            {
                throw new DataFormatException(source, line, label + 1, $"column '{MessageText.Quote(header[label])}' is both a feature and the label column; choose the label with --label.");
            }
        }
        else
        {
            var dropped = new HashSet<string>(options.Drop, StringComparer.Ordinal);
            features = [.. Enumerable.Range(0, header.Length).Where(i => i != label && i != id && !dropped.Contains(header[i]))];
            if (features.Length == 0)
            {
                throw new DataFormatException(source, line, 0, "no feature columns are left: the header names only the label, the id and dropped columns.");
            }
        }

        return new Layout(header, options.HasHeader ? line : 0, features, label, id, kinds);
    }

    private static int ResolveLabel(string[] header, Dictionary<string, int> index, TableReadOptions options, string source, long line, CsvReader csv)
    {
        if (options.Label is not { } name)
        {
            return -1;
        }

        if (index.TryGetValue(name, out int label))
        {
            return label;
        }

        if (!options.HasHeader && name == "label")
        {
            return header.Length - 1;
        }

        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int at) && at < header.Length)
        {
            return at;
        }

        if (options.LabelOptional)
        {
            return -1;
        }

        // A first line shorter than the rows under it is not their header (scikit-learn's CSVs open with a line of
        // counts): the hints below cannot help, so say what is wrong instead.
        if (options.HasHeader && CsvDatasetReader.Read(csv, source) && csv.FieldCount > header.Length)
        {
            throw new DataFormatException(source, line, 0, NotAHeader(header, header.Length, csv.FieldCount, csv.LineNumber));
        }

        if (int.TryParse(name, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int labelIndex))
        {
            throw new DataFormatException(source, line, 0, $"--label {labelIndex}: no such column; the file has {header.Length} columns, so an index is 0 to {header.Length - 1} (the header has: {MessageText.List(header, 20)}).");
        }

        throw new DataFormatException(source, line, 0, $"no label column named '{MessageText.Quote(name)}'; the header has: {MessageText.List(header, 20)}.{NearName(header, name)}{LabelHint(header)} Choose the column with --label NAME or --label INDEX (0-based){(options.HasHeader ? ", or --no-header if the file has no header row" : "")}.");
    }

    /// <summary>" Did you mean 'Name'?" for a header column that differs from <paramref name="name"/> only in case or surrounding spaces, else empty.</summary>
    internal static string NearName(IReadOnlyList<string> header, string name)
    {
        foreach (string column in header)
        {
            if (string.Equals(column.Trim(), name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return $" Did you mean '{MessageText.Quote(column)}'?";
            }
        }

        return "";
    }

    /// <summary>The names that label columns usually have (scikit-learn's frames call theirs "target").</summary>
    private static readonly string[] LabelNames = ["target", "class", "label", "labels", "y", "species", "outcome", "category", "diagnosis"];

    /// <summary>" 'target' looks like the label: --label target." for the first header column with a usual label name, else empty.</summary>
    internal static string LabelHint(IReadOnlyList<string> header)
    {
        foreach (string column in header)
        {
            if (Array.Exists(LabelNames, n => string.Equals(n, column.Trim(), StringComparison.OrdinalIgnoreCase)))
            {
                return $" '{MessageText.Quote(column)}' looks like the label: --label {MessageText.Quote(column)}.";
            }
        }

        return "";
    }

    /// <summary>The message for a first line with fewer fields than the rows after it.</summary>
    /// <param name="header">The first line's fields when it was read as a header, else <see langword="null"/>.</param>
    /// <param name="firstFields">The first line's field count.</param>
    /// <param name="fields">The next line's field count.</param>
    /// <param name="rowLine">The next line's number.</param>
    private static string NotAHeader(string[]? header, int firstFields, int fields, long rowLine)
        => $"the first line has {firstFields} fields{(header is null ? string.Empty : $" ({MessageText.List(header, 8)})")} but line {rowLine} has {fields}, so it is not "
            + $"{(header is null ? "a row of the same table" : "a header row for these rows")} (scikit-learn's CSVs open with a line of counts such as '178,13,class_0,…'). "
            + $"Replace it with a header row naming all {fields} columns, or delete it and read the file with --no-header (columns c0, c1, …; the label is the last unless --label says otherwise).";

    private static bool IsMissing(ReadOnlySpan<byte> cell, TableReadOptions options)
    {
        if (cell.IsEmpty)
        {
            return true;
        }

        if (cell.Length > 64)
        {
            return false;
        }

        Span<char> chars = stackalloc char[64];
        if (!Encoding.UTF8.TryGetChars(cell, chars, out int n))
        {
            return false;
        }

        foreach (string token in options.MissingTokens)
        {
            if (chars[..n].Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryBoolean(ReadOnlySpan<byte> cell, out bool value)
    {
        Span<char> chars = stackalloc char[5];
        value = false;
        if (cell.Length > 5 || !Encoding.UTF8.TryGetChars(cell, chars, out int n))
        {
            return false;
        }

        ReadOnlySpan<char> t = chars[..n];
        if (t.Equals("true", StringComparison.OrdinalIgnoreCase) || t.Equals("yes", StringComparison.OrdinalIgnoreCase) || t.Equals("t", StringComparison.OrdinalIgnoreCase) || t.Equals("y", StringComparison.OrdinalIgnoreCase))
        {
            value = true;
            return true;
        }

        return t.Equals("false", StringComparison.OrdinalIgnoreCase) || t.Equals("no", StringComparison.OrdinalIgnoreCase) || t.Equals("f", StringComparison.OrdinalIgnoreCase) || t.Equals("n", StringComparison.OrdinalIgnoreCase);
    }

    private static bool TryNumber(ReadOnlySpan<byte> cell, out float value)
        => float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);

    /// <summary>Pass 1: the kind of every feature column, from its non-missing cells and the options.</summary>
    private static ColumnKind[] Detect(Stream stream, long start, string source, TableReadOptions options, Layout layout, List<string> warnings)
    {
        if (!stream.CanSeek)
        {
            throw new ArgumentException($"{source}: detecting column kinds reads the input twice, so the stream must be seekable.", nameof(stream));
        }

        stream.Position = start;
        int f = layout.Features.Length;
        var boolean = new bool[f];
        Array.Fill(boolean, true);
        var numbers = new long[f];
        var texts = new long[f];
        var firstText = new (long Line, string Text)[f];
        var decimalComma = new long[f]; // text cells that are numbers written with a decimal comma, such as 14,23
        using (CsvReader csv = Open(stream))
        {
            bool headerPending = options.HasHeader;
            while (NextDataRow(csv, source, layout, ref headerPending))
            {
                for (int k = 0; k < f; k++)
                {
                    // A column with more than a few text cells is text: stop looking at it.
                    if (texts[k] > 10 && !boolean[k])
                    {
                        continue;
                    }

                    ReadOnlySpan<byte> cell = CsvDatasetReader.Trim(csv.GetSpan(layout.Features[k]));
                    if (IsMissing(cell, options))
                    {
                        continue;
                    }

                    if (TryNumber(cell, out _))
                    {
                        numbers[k]++;
                    }
                    else
                    {
                        if (texts[k]++ == 0)
                        {
                            firstText[k] = (csv.LineNumber, MessageText.Quote(cell));
                        }

                        if (IsDecimalComma(cell))
                        {
                            decimalComma[k]++;
                        }
                    }

                    boolean[k] &= TryBoolean(cell, out _);
                }
            }
        }

        var kinds = new ColumnKind[f];
        for (int k = 0; k < f; k++)
        {
            string name = layout.Header[layout.Features[k]];
            bool numeric = texts[k] == 0;
            kinds[k] = options.Categorical.Contains(name) ? ColumnKind.Categorical
                : options.Numeric.Contains(name) || numeric ? ColumnKind.Numeric
                : boolean[k] ? ColumnKind.Boolean
                : ColumnKind.Categorical;
            if (kinds[k] == ColumnKind.Categorical && !options.Categorical.Contains(name) && texts[k] <= 10 && numbers[k] >= 9 * texts[k])
            {
                warnings.Add($"column '{name}' is read as text because of {(texts[k] == 1 ? "one cell" : $"{texts[k]} cells")} that {(texts[k] == 1 ? "is" : "are")} not a number among {numbers[k]} numbers (first: '{firstText[k].Text}' at {source}:{firstText[k].Line}:{layout.Features[k] + 1}). If it is a number column, mark that value missing (--na \"{firstText[k].Text}\") or read it with --numeric {name}; if it is text, say so with --categorical {name}.");
            }
        }

        // Numbers written with a decimal comma (a European spreadsheet's ';' file) are text to the number parser: one
        // warning for all such columns, rather than a --drop hint for each.
        int[] commas = [.. Enumerable.Range(0, f).Where(k => kinds[k] == ColumnKind.Categorical && texts[k] > 0 && decimalComma[k] == texts[k])];
        if (commas.Length > 0)
        {
            int k0 = commas[0];
            string names = string.Join(", ", commas.Take(5).Select(k => $"'{layout.Header[layout.Features[k]]}'")) + (commas.Length > 5 ? $" and {commas.Length - 5} more" : string.Empty);
            warnings.Add($"{(commas.Length == 1 ? "column" : "columns")} {names} {(commas.Length == 1 ? "holds" : "hold")} numbers written with a decimal comma (first: '{firstText[k0].Text}' at {source}:{firstText[k0].Line}:{layout.Features[k0] + 1}), so {(commas.Length == 1 ? "it is" : "they are")} read as text: Xent reads numbers with a decimal point only. Save the file with decimal points (in a spreadsheet, a locale with '.' decimals), or convert it, for example with sed -E 's/([0-9]),([0-9])/\\1.\\2/g' on a ';'-separated file.");
        }

        return kinds;
    }

    /// <summary>Whether a cell is a number written with a decimal comma: digits, one comma, digits (an optional sign first).</summary>
    internal static bool IsDecimalComma(ReadOnlySpan<byte> cell)
    {
        int i = cell.Length > 0 && (cell[0] == (byte)'-' || cell[0] == (byte)'+') ? 1 : 0, digits = 0, comma = -1;
        for (; i < cell.Length; i++)
        {
            if (cell[i] == (byte)',' && comma < 0 && digits > 0)
            {
                comma = i;
            }
            else if (cell[i] is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
            else
            {
                digits++;
            }
        }

        return comma > 0 && comma < cell.Length - 1;
    }

    /// <summary>Moves to the next data row (past the header, once), checked for its field count, length and UTF-8.</summary>
    private static bool NextDataRow(CsvReader csv, string source, Layout layout, ref bool headerPending)
    {
        while (CsvDatasetReader.Read(csv, source))
        {
            if (headerPending)
            {
                headerPending = false;
                continue;
            }

            CheckRow(csv, source, layout);
            return true;
        }

        return false;
    }

    private static void CheckRow(CsvReader csv, string source, Layout layout)
    {
        long line = csv.LineNumber;
        if (csv.FieldCount != layout.Header.Length)
        {
            // The second line longer than the first: the first is likely a line of counts, header or not.
            long first = layout.HeaderLine > 0 ? layout.HeaderLine : 1;
            if (line == first + 1 && csv.FieldCount > layout.Header.Length)
            {
                throw new DataFormatException(source, first, 0, NotAHeader(layout.HeaderLine > 0 ? layout.Header : null, layout.Header.Length, csv.FieldCount, line));
            }

            throw new DataFormatException(source, line, Math.Min(csv.FieldCount, layout.Header.Length) + 1, $"ragged row: expected {layout.Header.Length} fields as in the {(layout.HeaderLine > 0 ? "header" : "first row")}, found {csv.FieldCount}.");
        }

        CsvDatasetReader.CheckRecord(csv, source, line, layout.Header);
    }

    /// <summary>Pass 2: the values.</summary>
    private static DataTable Fill(Stream stream, string source, TableReadOptions options, Layout layout, ColumnKind[] kinds)
    {
        using CsvReader csv = Open(stream);
        bool headerPending = options.HasHeader;
        return FillFrom(csv, source, options, layout, kinds, ref headerPending, long.MaxValue, first: true)!;
    }

    /// <summary>Reads up to <paramref name="chunk"/> data rows from an open reader; <see langword="null"/> at the end (after the first chunk).</summary>
    private static DataTable? FillFrom(CsvReader csv, string source, TableReadOptions options, Layout layout, ColumnKind[] kinds, ref bool headerPending, long chunk, bool first)
    {
        int f = layout.Features.Length;
        var numbers = new ChunkedList<float>?[f];
        var codes = new ChunkedList<int>?[f];
        var vocabularies = new Dictionary<string, int>?[f];
        for (int k = 0; k < f; k++)
        {
            if (kinds[k] == ColumnKind.Numeric)
            {
                numbers[k] = new ChunkedList<float>();
            }
            else
            {
                codes[k] = new ChunkedList<int>();
                vocabularies[k] = new Dictionary<string, int>(StringComparer.Ordinal);
            }
        }

        var labelIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var rawLabels = new ChunkedList<int>();
        List<string>? ids = layout.Id >= 0 ? [] : null;
        char[] buffer = ArrayPool<char>.Shared.Rent(1024);
        long rows = 0;
        long maxRows = Array.MaxLength / Math.Max(1, f);
        try
        {
            while (rows < chunk && NextDataRow(csv, source, layout, ref headerPending))
            {
                long line = csv.LineNumber;
                if (rows == maxRows)
                {
                    throw new DataFormatException(source, line, 0, $"too many rows: Xent holds at most {maxRows} rows of {f} columns in memory.");
                }

                for (int k = 0; k < f; k++)
                {
                    int column = layout.Features[k];
                    ReadOnlySpan<byte> cell = CsvDatasetReader.Trim(csv.GetSpan(column));
                    bool missing = IsMissing(cell, options);
                    string name = layout.Header[column];
                    switch (kinds[k])
                    {
                        case ColumnKind.Numeric:
                            if (missing)
                            {
                                numbers[k]!.Add(float.NaN);
                            }
                            else if (TryNumber(cell, out float v))
                            {
                                numbers[k]!.Add(v);
                            }
                            else
                            {
                                if (options.Schema is not null)
                                {
                                    throw new DataFormatException(source, line, column + 1, $"column '{MessageText.Quote(name)}' holds '{MessageText.Quote(cell)}', which is not a finite number, but the model reads this column as numbers (as in its training data). Correct the cell, or leave it empty to mark it missing (the model also reads {string.Join(", ", options.MissingTokens)} as missing).");
                                }

                                string why = options.Numeric.Contains(name) ? "as --numeric says" : "as detected";
                                throw new DataFormatException(source, line, column + 1, $"column '{MessageText.Quote(name)}' holds '{MessageText.Quote(cell)}', which is not a finite number, but the column is numeric ({why}).{(IsDecimalComma(cell) ? " It looks like a number with a decimal comma: Xent reads decimal points only, so convert the file first." : string.Empty)} Mark such values missing with --na, or read the column as text with --categorical {name}.");
                            }

                            break;
                        case ColumnKind.Boolean:
                            if (missing)
                            {
                                codes[k]!.Add(-1);
                            }
                            else if (TryBoolean(cell, out bool b))
                            {
                                codes[k]!.Add(Code(vocabularies[k]!, b ? "true" : "false"));
                            }
                            else
                            {
                                throw new DataFormatException(source, line, column + 1, $"column '{MessageText.Quote(name)}' holds '{MessageText.Quote(cell)}', which is not true/false, yes/no, t/f or y/n, but the column is boolean (as in the training data).");
                            }

                            break;
                        default:
                            if (missing)
                            {
                                codes[k]!.Add(-1);
                                break;
                            }

                            Dictionary<string, int> vocabulary = vocabularies[k]!;
                            string text = Text(cell, ref buffer);
                            if (!vocabulary.ContainsKey(text) && options.Schema is null && vocabulary.Count >= options.MaxCategories)
                            {
                                throw new DataFormatException(source, line, column + 1, $"column '{MessageText.Quote(name)}' has more than {options.MaxCategories} distinct values, too many to one-hot encode: if it is an id, a date or free text, leave it out with --drop {name}; if it holds numbers, read it with --numeric {name}.");
                            }

                            codes[k]!.Add(Code(vocabulary, text));
                            break;
                    }
                }

                if (layout.Label >= 0)
                {
                    ReadOnlySpan<byte> cell = CsvDatasetReader.Trim(csv.GetSpan(layout.Label));
                    if (IsMissing(cell, options))
                    {
                        throw new DataFormatException(source, line, layout.Label + 1, $"the label (column '{MessageText.Quote(layout.Header[layout.Label])}') is missing; every training row needs a label.");
                    }

                    rawLabels.Add(Code(labelIds, Text(cell, ref buffer)));
                }

                ids?.Add(Encoding.UTF8.GetString(CsvDatasetReader.Trim(csv.GetSpan(layout.Id))));
                rows++;
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }

        if (rows == 0)
        {
            return first ? throw new DataFormatException(source, 0, 0, options.HasHeader ? "the file has a header but no data rows." : "the file has no data rows.") : null;
        }

        var columns = new FeatureColumn[f];
        for (int k = 0; k < f; k++)
        {
            string name = layout.Header[layout.Features[k]];
            if (kinds[k] == ColumnKind.Numeric)
            {
                columns[k] = new NumericColumn(name, numbers[k]!.ToArray());
            }
            else
            {
                string[] values = new string[vocabularies[k]!.Count];
                foreach ((string text, int code) in vocabularies[k]!)
                {
                    values[code] = text;
                }

                columns[k] = new CategoricalColumn(name, kinds[k], codes[k]!.ToArray(), values);
            }
        }

        (int[] labels, IReadOnlyList<string> classes) = Labels(rawLabels, labelIds, rows, options, source, layout);
        return new DataTable(columns, labels, classes, ids);
    }

    private static (int[] Labels, IReadOnlyList<string> Classes) Labels(ChunkedList<int> raw, Dictionary<string, int> ids, long rows, TableReadOptions options, string source, Layout layout)
    {
        if (layout.Label < 0)
        {
            return (new int[rows], options.ClassNames is { Count: > 0 } given ? given : [string.Empty]);
        }

        string[] seen = new string[ids.Count];
        foreach ((string text, int id) in ids)
        {
            seen[id] = text;
        }

        IReadOnlyList<string> classes = options.ClassNames ?? CsvDatasetReader.DeriveClasses(seen);
        var classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < classes.Count; c++)
        {
            classIndex[classes[c]] = c;
        }

        var remap = new int[seen.Length];
        for (int id = 0; id < seen.Length; id++)
        {
            if (!classIndex.TryGetValue(seen[id], out remap[id]))
            {
                long firstRow = raw.IndexOf(id) + 1;
                throw new DataFormatException(source, 0, layout.Label + 1, CsvDatasetReader.NotAClassMessage(seen[id], firstRow, classes));
            }
        }

        var labels = new int[rows];
        for (long r = 0; r < rows; r++)
        {
            labels[r] = remap[raw[r]];
        }

        return (labels, classes);
    }

    private static int Code(Dictionary<string, int> vocabulary, string text)
    {
        if (!vocabulary.TryGetValue(text, out int code))
        {
            code = vocabulary.Count;
            vocabulary[text] = code;
        }

        return code;
    }

    private static string Text(ReadOnlySpan<byte> cell, ref char[] buffer)
    {
        int needed = Encoding.UTF8.GetMaxCharCount(cell.Length);
        if (needed > buffer.Length)
        {
            ArrayPool<char>.Shared.Return(buffer);
            buffer = ArrayPool<char>.Shared.Rent(needed);
        }

        int n = Encoding.UTF8.GetChars(cell, buffer);
        return new string(buffer, 0, n);
    }
}
