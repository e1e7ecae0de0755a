using System.Globalization;
using System.Text;
using CsvHelper;

namespace Xent.Data;

/// <summary>Options of <see cref="CsvDatasetReader"/>.</summary>
public sealed record CsvReadOptions
{
    /// <summary>The label column's header name. Default: <c>label</c>.</summary>
    public string LabelColumn { get; init; } = "label";

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
}

/// <summary>
/// Reads a classification CSV with CsvHelper: a header row, numeric feature columns and a label column chosen by
/// name. It streams the file (its text is never held whole in memory) and rejects malformed input with the file,
/// line and column: ragged rows, non-numeric cells, NaN or infinite features, a missing label column, an empty file.
/// </summary>
public static class CsvDatasetReader
{
    /// <summary>Reads a file.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The dataset (labels are all 0 with no classes when the label column is optional and absent).</returns>
    /// <exception cref="DataFormatException">The file is malformed.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static Dataset Read(string path, CsvReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found.", path);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(stream, Path.GetFileName(path), options);
    }

    /// <summary>Reads CSV from a stream; <paramref name="source"/> names it in messages.</summary>
    /// <param name="stream">The CSV bytes (UTF-8).</param>
    /// <param name="source">The name used in error messages.</param>
    /// <param name="options">The options.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="DataFormatException">The input is malformed.</exception>
    public static Dataset Read(Stream stream, string source, CsvReadOptions? options = null)
    {
        options ??= new CsvReadOptions();
        using CsvReader csv = CsvReader.Create(stream, new CsvReaderOptions { HasHeader = true, TrackLineNumbers = true }, leaveOpen: true);
        IReadOnlyList<string> header;
        try
        {
            header = [.. csv.Headers];
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new DataFormatException(source, 1, 0, $"cannot read the header: {e.Message}");
        }

        if (header.Count == 0 || (header.Count == 1 && header[0].Length == 0))
        {
            throw new DataFormatException(source, 0, 0, "the file is empty: expected a header row naming the feature columns and the label column.");
        }

        int labelIndex = -1;
        for (int i = 0; i < header.Count; i++)
        {
            if (string.Equals(header[i].Trim(), options.LabelColumn, StringComparison.Ordinal))
            {
                labelIndex = i;
            }
        }

        if (labelIndex < 0 && !options.LabelOptional)
        {
            throw new DataFormatException(source, 1, 0, $"no label column named '{options.LabelColumn}'; the header has: {string.Join(", ", header)}. Choose the column with --label.");
        }

        string[] featureNames = [.. header.Where((_, i) => i != labelIndex).Select(h => h.Trim())];
        if (featureNames.Length == 0)
        {
            throw new DataFormatException(source, 1, 0, "no feature columns: the header names only the label column.");
        }

        var features = new ChunkedList<float>();
        // Labels are kept as ids in order of first appearance; the text of each distinct label is stored once.
        var firstSeen = new Dictionary<string, int>(StringComparer.Ordinal);
        Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup = firstSeen.GetAlternateLookup<ReadOnlySpan<char>>();
        var rawLabels = new ChunkedList<int>();
        Span<char> labelChars = stackalloc char[256];
        var row = new float[featureNames.Length];
        long rows = 0;
        while (Read(csv, source))
        {
            long line = csv.LineNumber;
            if (csv.FieldCount != header.Count)
            {
                throw new DataFormatException(source, line, Math.Min(csv.FieldCount, header.Count) + 1, $"ragged row: expected {header.Count} fields as in the header, found {csv.FieldCount}.");
            }

            int f = 0;
            for (int i = 0; i < header.Count; i++)
            {
                ReadOnlySpan<byte> cell = csv.GetSpan(i);
                if (i == labelIndex)
                {
                    ReadOnlySpan<byte> trimmed = Trim(cell);
                    if (trimmed.IsEmpty)
                    {
                        throw new DataFormatException(source, line, i + 1, $"empty label in column '{header[i]}'.");
                    }

                    if (trimmed.Length > labelChars.Length)
                    {
                        throw new DataFormatException(source, line, i + 1, $"label longer than {labelChars.Length} bytes.");
                    }

                    ReadOnlySpan<char> label = labelChars[..Encoding.UTF8.GetChars(trimmed, labelChars)];
                    if (!lookup.TryGetValue(label, out int id))
                    {
                        id = firstSeen.Count;
                        lookup[label] = id;
                    }

                    rawLabels.Add(id);
                    continue;
                }

                if (!float.TryParse(Trim(cell), NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && !TryParseNonFinite(Trim(cell), out v))
                {
                    throw new DataFormatException(source, line, i + 1, $"column '{header[i]}' holds '{Encoding.UTF8.GetString(cell)}', which is not a number.");
                }

                if (!float.IsFinite(v) && !options.AllowNonFinite)
                {
                    throw new DataFormatException(source, line, i + 1, $"column '{header[i]}' holds {Encoding.UTF8.GetString(cell).Trim()}; features must be finite (no NaN or infinity).");
                }

                row[f++] = v;
            }

            features.AddRange(row);
            rows++;
        }

        if (rows == 0)
        {
            throw new DataFormatException(source, 0, 0, "the file has a header but no data rows.");
        }

        if (labelIndex < 0)
        {
            return new Dataset(features.ToArray(), new int[rows], featureNames, options.ClassNames ?? []);
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
                throw new DataFormatException(source, 0, labelIndex + 1, $"label '{seen[id]}' (data row {firstRow}) is not one of the model's classes: {string.Join(", ", classes)}.");
            }
        }

        var labels = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            labels[r] = remap[rawLabels[r]];
        }

        return new Dataset(features.ToArray(), labels, featureNames, classes);
    }

    private static bool Read(CsvReader csv, string source)
    {
        try
        {
            return csv.Read();
        }
        catch (Exception e) when (e is not OutOfMemoryException and not DataFormatException)
        {
            throw new DataFormatException(source, 0, 0, $"malformed CSV: {e.Message}");
        }
    }

    /// <summary>Reads the spellings of NaN and infinity that other tools write, so they get the "must be finite" message.</summary>
    private static bool TryParseNonFinite(ReadOnlySpan<byte> cell, out float value)
    {
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

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> cell)
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
    private static string[] DeriveClasses(string[] distinct)
    {
        bool numeric = distinct.All(l => long.TryParse(l, NumberStyles.Integer, CultureInfo.InvariantCulture, out _));
        return numeric
            ? [.. distinct.OrderBy(l => long.Parse(l, CultureInfo.InvariantCulture))]
            : [.. distinct.Order(StringComparer.Ordinal)];
    }
}
