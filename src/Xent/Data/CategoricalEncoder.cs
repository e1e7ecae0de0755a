using System.Text.Json.Serialization;

namespace Xent.Data;

/// <summary>
/// A categorical (or boolean) column: one-hot over the categories seen in the training rows (sorted), a missing cell
/// takes the most frequent category, and a category the training rows did not have encodes as all zeros (and is
/// counted); plus a missing-value indicator when the training rows had missing cells.
/// </summary>
public sealed class CategoricalEncoder : ColumnEncoder
{
    private Dictionary<string, int>? _index;

    /// <summary><see cref="ColumnKind.Categorical"/> or <see cref="ColumnKind.Boolean"/>.</summary>
    public ColumnKind Kind { get; init; } = ColumnKind.Categorical;

    /// <summary>The categories, in output order (ordinal order of their text).</summary>
    public required IReadOnlyList<string> Categories { get; init; }

    /// <summary>The index of the most frequent training category, used for missing cells.</summary>
    public int MostFrequent { get; init; }

    /// <inheritdoc />
    [JsonIgnore]
    public override ColumnKind ColumnKind => Kind;

    /// <inheritdoc />
    [JsonIgnore]
    public override int Width => Categories.Count + (Indicator ? 1 : 0);

    /// <inheritdoc />
    public override IEnumerable<string> OutputNames() => Categories.Select(c => $"{Name}={c}").Concat(Indicator ? [Name + "_missing"] : []);

    /// <inheritdoc />
    public override bool Encode(FeatureColumn column, int row, Span<float> destination)
    {
        destination.Clear();
        string? value = ((CategoricalColumn)column).ValueAt(row);
        if (value is null)
        {
            destination[MostFrequent] = 1;
            if (Indicator)
            {
                destination[^1] = 1;
            }

            return false;
        }

        _index ??= Categories.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        if (_index.TryGetValue(value, out int k))
        {
            destination[k] = 1;
            return false;
        }

        return true;
    }

    /// <inheritdoc />
    public override void Validate()
    {
        if (Kind == ColumnKind.Numeric || Categories.Count == 0 || MostFrequent < 0 || MostFrequent >= Categories.Count
            || Categories.Distinct(StringComparer.Ordinal).Count() != Categories.Count)
        {
            throw new InvalidDataException($"column '{Name}': the categories must be distinct and non-empty, with the most frequent among them.");
        }
    }

    /// <summary>Fits on the training rows.</summary>
    internal static CategoricalEncoder Fit(CategoricalColumn column, IReadOnlyList<int> rows)
    {
        var counts = new int[column.Values.Count];
        int missing = 0;
        foreach (int r in rows)
        {
            int code = column.Codes[r];
            if (code < 0)
            {
                missing++;
            }
            else
            {
                counts[code]++;
            }
        }

        string[] categories = [.. Enumerable.Range(0, counts.Length).Where(c => counts[c] > 0).Select(c => column.Values[c]).Order(StringComparer.Ordinal)];
        if (categories.Length == 0)
        {
            throw new ArgumentException($"Column '{column.Name}' has no values in the training rows; leave it out with --drop {column.Name}.");
        }

        var byText = column.Values.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => counts[p.i], StringComparer.Ordinal);
        int best = 0;
        for (int k = 1; k < categories.Length; k++)
        {
            if (byText[categories[k]] > byText[categories[best]])
            {
                best = k;
            }
        }

        return new CategoricalEncoder { Name = column.Name, Kind = column.Kind, Categories = categories, MostFrequent = best, Indicator = missing > 0 };
    }
}
