using System.Text.Json.Serialization;

namespace Xent.Data;

/// <summary>A numeric column: a missing cell takes the training median; then (x − mean) / scale; plus a missing-value indicator when the training rows had missing cells.</summary>
public sealed class NumericEncoder : ColumnEncoder
{
    /// <summary>The training rows' median, used for missing cells.</summary>
    public float Median { get; init; }

    /// <summary>The mean subtracted after imputation (0 without standardisation).</summary>
    public float Mean { get; init; }

    /// <summary>The scale divided by after imputation (1 without standardisation).</summary>
    public float Scale { get; init; } = 1;

    /// <summary>
    /// Whether the training column held image pixels scaled to [0, 1] (an IDX file's bytes ÷ 255), so that the same
    /// column read from elsewhere (a CSV) must hold values in [0, 1] too; see <see cref="Preprocessor.FindPixelOutOfRange"/>.
    /// Not written when false, so files of models trained on CSVs are unchanged.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Pixels { get; init; }

    /// <inheritdoc />
    [JsonIgnore]
    public override ColumnKind ColumnKind => ColumnKind.Numeric;

    /// <inheritdoc />
    [JsonIgnore]
    public override int Width => Indicator ? 2 : 1;

    /// <inheritdoc />
    public override IEnumerable<string> OutputNames() => Indicator ? [Name, Name + "_missing"] : [Name];

    /// <inheritdoc />
    public override bool Encode(FeatureColumn column, int row, Span<float> destination)
    {
        float v = ((INumericColumn)column).ValueAt(row);
        bool missing = float.IsNaN(v);
        destination[0] = ((missing ? Median : v) - Mean) / Scale;
        if (Indicator)
        {
            destination[1] = missing ? 1 : 0;
        }

        return false;
    }

    /// <inheritdoc />
    public override void Validate()
    {
        if (!float.IsFinite(Median) || !float.IsFinite(Mean) || !(Scale > 0) || !float.IsFinite(Scale))
        {
            throw new InvalidDataException($"column '{Name}': the median, mean and scale must be finite and the scale positive.");
        }
    }

    /// <summary>Fits on the training rows.</summary>
    internal static NumericEncoder Fit(INumericColumn column, IReadOnlyList<int> rows, bool standardize)
    {
        (float median, int n) = column is PixelColumn pixels ? (pixels.Median(rows), rows.Count) : SortedMedian(column, rows);
        float mean = 0, scale = 1;
        if (standardize)
        {
            // Over the imputed values of every training row, as the standardiser always did (population std).
            double sum = 0;
            foreach (int r in rows)
            {
                float v = column.ValueAt(r);
                sum += float.IsNaN(v) ? median : v;
            }

            double m = sum / rows.Count, squares = 0;
            foreach (int r in rows)
            {
                float v = column.ValueAt(r);
                double c = (float.IsNaN(v) ? median : v) - m;
                squares += c * c;
            }

            double std = Math.Sqrt(squares / rows.Count);
            mean = (float)m;
            scale = std > 1e-12 ? (float)std : 1f;
        }

        return new NumericEncoder { Name = column.Name, Median = median, Mean = mean, Scale = scale, Indicator = n < rows.Count, Pixels = column is PixelColumn };
    }

    /// <summary>The median of the present values among the rows, and how many are present.</summary>
    private static (float Median, int Present) SortedMedian(INumericColumn column, IReadOnlyList<int> rows)
    {
        var present = new List<float>(rows.Count);
        foreach (int r in rows)
        {
            float v = column.ValueAt(r);
            if (!float.IsNaN(v))
            {
                present.Add(v);
            }
        }

        if (present.Count == 0)
        {
            throw new ArgumentException($"Column '{column.Name}' has no values in the training rows; leave it out with --drop {column.Name}.");
        }

        present.Sort();
        int n = present.Count;
        return (n % 2 == 1 ? present[n / 2] : (float)((present[(n / 2) - 1] + (double)present[n / 2]) / 2), n);
    }
}
