using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using CsvHelper;

namespace Xent.Data;

/// <summary>Options of <see cref="CsvDatasetReader"/>.</summary>
public sealed record CsvReadOptions
{
    /// <summary>
    /// The label column's header name. Default: <c>label</c>. <see langword="null"/> reads no label (every row gets
    /// label 0 and the dataset has the classes of <see cref="ClassNames"/>, or one unnamed class): a label column that
    /// is present is then ignored like any other unselected column, whatever it holds.
    /// </summary>
    public string? LabelColumn { get; init; } = "label";

    /// <summary>
    /// Fixes the classes and their order (for example a trained model's classes when evaluating); a label not in
    /// the list is an error. Default: <see langword="null"/>, which derives them from the file: numerically sorted
    /// when every label is an integer, otherwise in ordinal string order.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Whether a file may lack the label column (for prediction). Default: false.</summary>
    public bool LabelOptional { get; init; }

    /// <summary>Keep NaN and infinite features instead of rejecting the file (for inspection). Default: false.</summary>
    public bool AllowNonFinite { get; init; }

    /// <summary>
    /// The feature columns, by header name, in the order the features take (for example a model's
    /// <c>FeatureNames</c>): the file may hold them in any order, and columns that are neither these, the label
    /// nor <see cref="IdColumn"/> are skipped without being parsed. A name the header lacks is an error that lists
    /// every missing name. Default: <see langword="null"/>, every column but the label (and the id) is a feature.
    /// </summary>
    public IReadOnlyList<string>? FeatureColumns { get; init; }

    /// <summary>
    /// A column whose values are kept as text, row by row, in <see cref="CsvTable.Ids"/> (for example to label
    /// predictions). It is not a feature unless <see cref="FeatureColumns"/> lists it. Default: <see langword="null"/>.
    /// </summary>
    public string? IdColumn { get; init; }
}

/// <summary>What <see cref="CsvDatasetReader.ReadTable(string, CsvReadOptions?)"/> reads.</summary>
/// <param name="Dataset">The features and labels.</param>
/// <param name="Ids">The values of <see cref="CsvReadOptions.IdColumn"/>, one per row; <see langword="null"/> without that option.</param>
public sealed record CsvTable(Dataset Dataset, IReadOnlyList<string>? Ids);

/// <summary>
/// Reads a classification CSV with CsvHelper: a header row, numeric feature columns and a label column chosen by
/// name. It streams the file (its text is never held whole in memory) and rejects malformed input with the file,
/// line and column: ragged rows, non-numeric cells, NaN or infinite features, a missing label column, an empty file,
/// duplicate or empty column names, invalid UTF-8, a field longer than <see cref="MaxFieldBytes"/> and a line longer
/// than <see cref="MaxRecordBytes"/> (so a file without line breaks, or <c>/dev/zero</c>, fails in bounded memory).
/// </summary>
public static class CsvDatasetReader
{
    /// <summary>The longest field Xent reads: 1 MiB of UTF-8.</summary>
    public const int MaxFieldBytes = 1 << 20;

    /// <summary>The longest record (line) Xent reads: 32 MiB of UTF-8.</summary>
    public const int MaxRecordBytes = 32 << 20;

    /// <summary>Reads a file.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The dataset (labels are all 0 when no label is read: see <see cref="CsvReadOptions.LabelColumn"/>).</returns>
    /// <exception cref="DataFormatException">The file is malformed.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static Dataset Read(string path, CsvReadOptions? options = null) => ReadTable(path, options).Dataset;

    /// <summary>Reads CSV from a stream; <paramref name="source"/> names it in messages.</summary>
    /// <param name="stream">The CSV bytes (UTF-8).</param>
    /// <param name="source">The name used in error messages.</param>
    /// <param name="options">The options.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="DataFormatException">The input is malformed.</exception>
    public static Dataset Read(Stream stream, string source, CsvReadOptions? options = null) => ReadTable(stream, source, options).Dataset;

    /// <summary>Reads a file, with the values of <see cref="CsvReadOptions.IdColumn"/>.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The dataset and the ids.</returns>
    /// <exception cref="DataFormatException">The file is malformed.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static CsvTable ReadTable(string path, CsvReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found.", path);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return ReadTable(stream, Path.GetFileName(path), options);
    }

    /// <summary>Reads CSV from a stream, with the values of <see cref="CsvReadOptions.IdColumn"/>.</summary>
    /// <param name="stream">The CSV bytes (UTF-8).</param>
    /// <param name="source">The name used in error messages.</param>
    /// <param name="options">The options.</param>
    /// <returns>The dataset and the ids.</returns>
    /// <exception cref="DataFormatException">The input is malformed.</exception>
    public static CsvTable ReadTable(Stream stream, string source, CsvReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        options ??= new CsvReadOptions();
        var csvOptions = new CsvReaderOptions { HasHeader = false, TrackLineNumbers = true, MaxRecordSize = MaxRecordBytes };
        using CsvReader csv = CsvReader.Create(stream, csvOptions, leaveOpen: true);
        if (!Read(csv, source))
        {
            throw new DataFormatException(source, 0, 0, "the file is empty: expected a header row naming the feature columns and the label column.");
        }

        long headerLine = csv.LineNumber;
        CheckRecord(csv, source, headerLine, null);
        var header = new string[csv.FieldCount];
        for (int i = 0; i < header.Length; i++)
        {
            header[i] = Encoding.UTF8.GetString(Trim(csv.GetSpan(i)));
        }

        if (header.Length == 0 || (header.Length == 1 && header[0].Length == 0))
        {
            throw new DataFormatException(source, 0, 0, "the file is empty: expected a header row naming the feature columns and the label column.");
        }

        Columns columns = SelectColumns(header, options, source, headerLine);
        int[] featureIndex = columns.Features;
        int labelIndex = columns.Label, idIndex = columns.Id;
        string[] featureNames = [.. featureIndex.Select(i => header[i])];

        var features = new ChunkedList<float>();
        // Labels are kept as ids in order of first appearance; the text of each distinct label is stored once.
        var firstSeen = new Dictionary<string, int>(StringComparer.Ordinal);
        Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup = firstSeen.GetAlternateLookup<ReadOnlySpan<char>>();
        var rawLabels = new ChunkedList<int>();
        List<string>? ids = idIndex >= 0 ? [] : null;
        Span<char> labelChars = stackalloc char[256];
        var row = new float[featureNames.Length];
        long rows = 0;
        long maxRows = Math.Min(Array.MaxLength, Array.MaxLength / Math.Max(1, featureNames.Length));
        while (Read(csv, source))
        {
            long line = csv.LineNumber;
            if (csv.FieldCount != header.Length)
            {
                throw new DataFormatException(source, line, Math.Min(csv.FieldCount, header.Length) + 1, $"ragged row: expected {header.Length} fields as in the header, found {csv.FieldCount}.");
            }

            CheckRecord(csv, source, line, header);
            if (rows == maxRows)
            {
                throw new DataFormatException(source, line, 0, $"too many rows: Xent holds at most {maxRows} rows of {featureNames.Length} features in memory.");
            }

            for (int f = 0; f < featureIndex.Length; f++)
            {
                int i = featureIndex[f];
                ReadOnlySpan<byte> cell = Trim(csv.GetSpan(i));
                if (!float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && !TryParseNonFinite(cell, out v))
                {
                    throw new DataFormatException(source, line, i + 1, $"column '{MessageText.Quote(header[i])}' holds '{MessageText.Quote(csv.GetSpan(i))}', which is not a number.");
                }

                if (!float.IsFinite(v) && !options.AllowNonFinite)
                {
                    throw new DataFormatException(source, line, i + 1, $"column '{MessageText.Quote(header[i])}' holds {MessageText.Quote(cell)}; features must be finite (no NaN or infinity).");
                }

                row[f] = v;
            }

            if (labelIndex >= 0)
            {
                ReadOnlySpan<byte> trimmed = Trim(csv.GetSpan(labelIndex));
                if (trimmed.IsEmpty)
                {
                    throw new DataFormatException(source, line, labelIndex + 1, $"empty label in column '{MessageText.Quote(header[labelIndex])}'.");
                }

                if (trimmed.Length > labelChars.Length)
                {
                    throw new DataFormatException(source, line, labelIndex + 1, $"label longer than {labelChars.Length} bytes.");
                }

                ReadOnlySpan<char> label = labelChars[..Encoding.UTF8.GetChars(trimmed, labelChars)];
                if (!lookup.TryGetValue(label, out int id))
                {
                    id = firstSeen.Count;
                    lookup[label] = id;
                }

                rawLabels.Add(id);
            }

            ids?.Add(Encoding.UTF8.GetString(csv.GetSpan(idIndex)));
            features.AddRange(row);
            rows++;
        }

        if (rows == 0)
        {
            throw new DataFormatException(source, 0, 0, "the file has a header but no data rows.");
        }

        if (labelIndex < 0)
        {
            // Every row gets label 0: of the given classes, or of one unnamed class (a dataset needs a class per label).
            return new CsvTable(new Dataset(features.ToArray(), new int[rows], featureNames, options.ClassNames is { Count: > 0 } given ? given : [string.Empty]), ids);
        }

        string[] seen = new string[firstSeen.Count];
        foreach ((string text, int id) in firstSeen)
        {
            seen[id] = text;
        }

        IReadOnlyList<string> classes = options.ClassNames ?? DeriveClasses(seen);
        var classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < classes.Count; k++)
        {
            classIndex[classes[k]] = k;
        }

        var remap = new int[seen.Length];
        for (int id = 0; id < seen.Length; id++)
        {
            if (!classIndex.TryGetValue(seen[id], out remap[id]))
            {
                long firstRow = rawLabels.IndexOf(id) + 1;
                throw new DataFormatException(source, 0, labelIndex + 1, NotAClassMessage(seen[id], firstRow, classes));
            }
        }

        var labels = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            labels[r] = remap[rawLabels[r]];
        }

        return new CsvTable(new Dataset(features.ToArray(), labels, featureNames, classes), ids);
    }

    /// <summary>The columns a read uses: features in order, the label and the id (-1 when absent).</summary>
    private readonly record struct Columns(int[] Features, int Label, int Id);

    private static Columns SelectColumns(string[] header, CsvReadOptions options, string source, long line)
    {
        // Where each name is; names that occur more than once, and columns without a name.
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        var duplicates = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var unnamed = new List<int>();
        for (int i = 0; i < header.Length; i++)
        {
            if (header[i].Length == 0)
            {
                unnamed.Add(i + 1);
            }
            else if (!first.TryAdd(header[i], i))
            {
                if (!duplicates.TryGetValue(header[i], out List<int>? at))
                {
                    duplicates[header[i]] = at = [first[header[i]] + 1];
                }

                at.Add(i + 1);
            }
        }

        // With FeatureColumns, the other columns are skipped, so only a name the read uses must be unique.
        bool allUsed = options.FeatureColumns is null;
        IEnumerable<string> used = allUsed
            ? duplicates.Keys
            : duplicates.Keys.Where(n => n == options.LabelColumn || n == options.IdColumn || options.FeatureColumns!.Contains(n));
        string[] ambiguous = [.. used];
        if (ambiguous.Length > 0)
        {
            string list = string.Join("; ", ambiguous.Take(10).Select(n => $"'{MessageText.Quote(n)}' (columns {string.Join(", ", duplicates[n].Take(10))})"));
            throw new DataFormatException(source, line, duplicates[ambiguous[0]][1], $"duplicate column names: {list}{(ambiguous.Length > 10 ? $" and {ambiguous.Length - 10} more" : "")}; every column needs a name of its own.");
        }

        if (allUsed && unnamed.Count > 0)
        {
            throw new DataFormatException(source, line, unnamed[0], $"empty column name{(unnamed.Count > 1 ? "s" : "")} in column{(unnamed.Count > 1 ? "s" : "")} {string.Join(", ", unnamed.Take(10))}{(unnamed.Count > 10 ? $" and {unnamed.Count - 10} more" : "")}; every column needs a name.");
        }

        int label = -1;
        if (options.LabelColumn is { } labelName && !first.TryGetValue(labelName, out label))
        {
            label = -1;
            if (!options.LabelOptional)
            {
                throw new DataFormatException(source, line, 0, $"no label column named '{MessageText.Quote(labelName)}'; the header has: {MessageText.List(header, 20)}.{CsvTableReader.NearName(header, labelName)}{CsvTableReader.LabelHint(header)} Choose the column with --label.");
            }
        }

        int id = -1;
        if (options.IdColumn is { } idName && !first.TryGetValue(idName, out id))
        {
            throw new DataFormatException(source, line, 0, $"no id column named '{MessageText.Quote(idName)}'; the header has: {MessageText.List(header, 20)}.");
        }

        int[] features;
        if (options.FeatureColumns is { } wanted)
        {
            string[] missing = [.. wanted.Where(n => !first.ContainsKey(n)).Distinct(StringComparer.Ordinal)];
            if (missing.Length > 0)
            {
                throw new DataFormatException(source, line, 0, $"missing feature column{(missing.Length > 1 ? "s" : "")} {MessageText.List(missing, quoted: true)} ({missing.Length} of the {wanted.Count} that are needed).");
            }

            features = [.. wanted.Select(n => first[n])];
            if (label >= 0 && features.Contains(label))
            {
                throw new DataFormatException(source, line, label + 1, $"column '{MessageText.Quote(header[label])}' is both a feature and the label column. Choose the label column with --label.");
            }
        }
        else
        {
            features = [.. Enumerable.Range(0, header.Length).Where(i => i != label && i != id)];
        }

        if (features.Length == 0)
        {
            throw new DataFormatException(source, line, 0, "no feature columns: the header names only the label column.");
        }

        return new Columns(features, label, id);
    }

    /// <summary>Refuses a field longer than <see cref="MaxFieldBytes"/> and bytes that are not UTF-8, naming the line and column.</summary>
    internal static void CheckRecord(CsvReader csv, string source, long line, string[]? header)
    {
        ReadOnlySpan<byte> raw = csv.RawRecord;
        if (raw.Length > MaxFieldBytes)
        {
            for (int i = 0; i < csv.FieldCount; i++)
            {
                ReadOnlySpan<byte> field = csv.GetSpan(i);
                if (field.Length > MaxFieldBytes)
                {
                    string column = header is null ? "the header" : $"column '{MessageText.Quote(header[i])}'";
                    throw new DataFormatException(source, line, i + 1, $"{column} holds a field of {field.Length} bytes, longer than the {MaxFieldBytes} bytes Xent reads: '{MessageText.Quote(field)}'.");
                }
            }
        }

        if (Utf8.IsValid(raw))
        {
            return;
        }

        for (int i = 0; i < csv.FieldCount; i++)
        {
            ReadOnlySpan<byte> field = csv.GetRawSpan(i);
            int bad = FirstInvalidUtf8(field);
            if (bad >= 0)
            {
                // A quoted field can span lines: count the line breaks before the bad byte.
                int offset = (int)Math.Min(int.MaxValue, ByteOffsetIn(raw, field) + bad);
                long at = line + (offset <= raw.Length ? raw[..offset].Count((byte)'\n') : 0);
                string where = header is null ? "the header" : $"column '{MessageText.Quote(header[i])}'";
                throw new DataFormatException(source, at, i + 1, $"{where} is not valid UTF-8 (byte 0x{field[bad]:X2} at byte {bad + 1} of the field); save the file as UTF-8.");
            }
        }

        throw new DataFormatException(source, line, 0, "the line is not valid UTF-8; save the file as UTF-8.");
    }

    /// <summary>The index of the first byte of an invalid UTF-8 sequence, or -1.</summary>
    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int at = 0;
        while (at < bytes.Length)
        {
            OperationStatus status = Rune.DecodeFromUtf8(bytes[at..], out _, out int consumed);
            if (status != OperationStatus.Done)
            {
                return at;
            }

            at += consumed;
        }

        return -1;
    }

    /// <summary>Where <paramref name="part"/> starts inside <paramref name="whole"/> (0 when it is not inside it).</summary>
    private static long ByteOffsetIn(ReadOnlySpan<byte> whole, ReadOnlySpan<byte> part)
    {
        if (whole.IsEmpty || part.IsEmpty)
        {
            return 0;
        }

        return whole.Overlaps(part, out int offset) ? offset : 0;
    }

    internal static bool Read(CsvReader csv, string source)
    {
        try
        {
            return csv.Read();
        }
        catch (CsvFormatException e) when (e.Message.Contains("MaxRecordSize", StringComparison.Ordinal))
        {
            throw new DataFormatException(source, e.LineNumber, 0, $"a line longer than {MaxRecordBytes} bytes ({MaxRecordBytes >> 20} MiB) without a line break: this is not a CSV file Xent can read.");
        }
        catch (CsvFormatException e)
        {
            throw new DataFormatException(source, e.LineNumber, 0, $"malformed CSV: {MessageText.Quote(e.Message)}");
        }
        catch (Exception e) when (e is not OutOfMemoryException and not DataFormatException and not IOException and not ObjectDisposedException)
        {
            throw new DataFormatException(source, 0, 0, $"malformed CSV: {MessageText.Quote(e.Message)}");
        }
    }

    /// <summary>Reads the spellings of NaN and infinity that other tools write, so they get the "must be finite" message.</summary>
    private static bool TryParseNonFinite(ReadOnlySpan<byte> cell, out float value)
    {
        if (cell.Length > 9)
        {
            value = 0;
            return false;
        }

        string text = Encoding.UTF8.GetString(cell).ToLowerInvariant();
        value = text switch
        {
            "nan" or "-nan" => float.NaN,
            "inf" or "+inf" or "infinity" or "+infinity" => float.PositiveInfinity,
            "-inf" or "-infinity" => float.NegativeInfinity,
            _ => 0,
        };
        return !float.IsFinite(value);
    }

    internal static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> cell)
    {
        int start = 0, end = cell.Length;
        while (start < end && cell[start] == (byte)' ')
        {
            start++;
        }

        while (end > start && cell[end - 1] == (byte)' ')
        {
            end--;
        }

        return cell[start..end];
    }

    /// <summary>Stable class order: numeric when every label is an integer, else ordinal.</summary>
    internal static string[] DeriveClasses(string[] distinct)
    {
        bool numeric = distinct.All(l => long.TryParse(l, NumberStyles.Integer, CultureInfo.InvariantCulture, out _));
        return numeric
            ? [.. distinct.OrderBy(l => long.Parse(l, CultureInfo.InvariantCulture))]
            : [.. distinct.Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The message for a label that is not one of the model's classes; labels written as class numbers (0, 1, …, the
    /// usual MNIST CSV) for a model whose classes have names also get the names' order.
    /// </summary>
    internal static string NotAClassMessage(string label, long firstRow, IReadOnlyList<string> classes)
    {
        bool numbered = int.TryParse(label, NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k < classes.Count
            && !classes.Any(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        string hint = numbered ? $" If the labels are class numbers, write them as names in this order: 0 = '{MessageText.Quote(classes[0])}', 1 = '{MessageText.Quote(classes[1])}', …, {classes.Count - 1} = '{MessageText.Quote(classes[^1])}'." : string.Empty;
        return $"label '{MessageText.Quote(label)}' (data row {firstRow}) is not one of the model's classes: {MessageText.List(classes, 20)}.{hint}";
    }
}
