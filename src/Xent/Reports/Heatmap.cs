using System.Globalization;
using System.Text;

namespace Xent.Reports;

/// <summary>
/// A matrix of values as coloured cells with their numbers (for example a confusion matrix). The colour shows the value
/// (on <see cref="ColorRange"/>, with a scale beside the grid); the number in each cell is the value, or the cell's
/// entry of <see cref="CellLabels"/> (a confusion matrix colours each row's shares and writes the counts). It counts
/// as one series.
/// </summary>
public sealed class Heatmap : IChart
{
    /// <summary>Creates a heatmap.</summary>
    /// <param name="title">The title.</param>
    /// <param name="rowLabels">Row labels (for a confusion matrix: true classes).</param>
    /// <param name="columnLabels">Column labels (predicted classes).</param>
    /// <param name="values">Values[row, column].</param>
    public Heatmap(string title, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, double[,] values)
    {
        if (values.GetLength(0) != rowLabels.Count || values.GetLength(1) != columnLabels.Count)
        {
            throw new ArgumentException($"The values are {values.GetLength(0)}×{values.GetLength(1)} but there are {rowLabels.Count} row and {columnLabels.Count} column labels.", nameof(values));
        }

        Title = title;
        RowLabels = rowLabels;
        ColumnLabels = columnLabels;
        Values = values;
    }

    /// <inheritdoc />
    public string Title { get; }

    /// <summary>Row labels.</summary>
    public IReadOnlyList<string> RowLabels { get; }

    /// <summary>Column labels.</summary>
    public IReadOnlyList<string> ColumnLabels { get; }

    /// <summary>The values.</summary>
    public double[,] Values { get; }

    /// <summary>The row axis title. Default: "true class".</summary>
    public string RowTitle { get; init; } = "true class";

    /// <summary>The column axis title. Default: "predicted class".</summary>
    public string ColumnTitle { get; init; } = "predicted class";

    /// <summary>
    /// The numbers written in the cells (and their tooltips), as many as <see cref="Values"/>, or null (the default) to
    /// write the values. When set, the CSV lists each cell with both: row, column, value and label.
    /// </summary>
    /// <exception cref="ArgumentException">The shape differs from the values'.</exception>
    public double[,]? CellLabels
    {
        get;
        init
        {
            if (value is not null && (value.GetLength(0) != Values.GetLength(0) || value.GetLength(1) != Values.GetLength(1)))
            {
                throw new ArgumentException($"The cell labels are {value.GetLength(0)}×{value.GetLength(1)} but the values are {Values.GetLength(0)}×{Values.GetLength(1)}.", nameof(value));
            }

            field = value;
        }
    }

    /// <summary>The values of the lightest and the darkest colour, or null (the default) for 0 and the largest value.</summary>
    public (double Min, double Max)? ColorRange { get; init; }

    /// <summary>What a value is, in the scale's title and the CSV header (with labels). Default: "value".</summary>
    public string ValueName { get; init; } = "value";

    /// <summary>What a cell label is, in the tooltips and the CSV header. Default: "label".</summary>
    public string LabelName { get; init; } = "label";

    /// <summary>A note shown under the chart in the report, or null. Default: null.</summary>
    public string? Note { get; init; }

    /// <inheritdoc />
    public string? Caption => Note;

    /// <inheritdoc />
    public int SeriesCount => 1;

    /// <inheritdoc />
    public string ToSvg()
    {
        int rows = RowLabels.Count, cols = ColumnLabels.Count;
        double cell = Math.Clamp(420.0 / Math.Max(rows, cols), 18, 64);
        double left = 90, top = 56;
        const double scaleW = 90;
        int width = (int)(left + (cols * cell) + 30 + scaleW), height = (int)(top + Math.Max(rows * cell, 130) + 40);
        double max = 0;
        foreach (double v in Values)
        {
            if (double.IsFinite(v))
            {
                max = Math.Max(max, v);
            }
        }

        (double lo, double hi) = ColorRange ?? (0, max);
        double Shade(double v) => hi > lo && double.IsFinite(v) ? Math.Clamp((v - lo) / (hi - lo), 0, 1) : 0;
        string Fill(double t)
        {
            int shade = (int)Math.Round(255 - (t * 200));
            return string.Create(CultureInfo.InvariantCulture, $"rgb({shade},{Math.Min(255, shade + 20)},255)");
        }

        var sb = new StringBuilder();
        SvgText.Header(sb, width, height, Title);
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left + (cols * cell / 2))}\" y=\"{SvgText.N(top - 22)}\" text-anchor=\"middle\">{SvgText.Escape(ColumnTitle)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(14 {SvgText.N(top + (rows * cell / 2))}) rotate(-90)\" text-anchor=\"middle\">{SvgText.Escape(RowTitle)}</text>");
        sb.Append("<g class=\"series\" data-series=\"cells\">");
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                double v = Values[r, c];
                double t = Shade(v);
                double label = CellLabels is { } labels ? labels[r, c] : v;
                double x = left + (c * cell), y = top + (r * cell);
                string tip = CellLabels is null
                    ? $"{RowLabels[r]} → {ColumnLabels[c]}: {SvgText.Label(v)}"
                    : $"{RowLabels[r]} → {ColumnLabels[c]}: {LabelName} {SvgText.Label(label)}, {ValueName} {(double.IsFinite(v) ? SvgText.Label(v) : "n/a")}";
                sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(x)}\" y=\"{SvgText.N(y)}\" width=\"{SvgText.N(cell - 1)}\" height=\"{SvgText.N(cell - 1)}\" fill=\"{Fill(t)}\"><title>{SvgText.Escape(tip)}</title></rect>");
                if (cell >= 22 && !double.IsNaN(label))
                {
                    sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(x + (cell / 2))}\" y=\"{SvgText.N(y + (cell / 2) + 4)}\" text-anchor=\"middle\" fill=\"{(t > 0.6 ? "#ffffff" : "#000000")}\">{SvgText.Label(label)}</text>");
                }
            }
        }

        sb.Append("</g><g class=\"ticks\">");
        for (int c = 0; c < cols; c++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left + ((c + 0.5) * cell))}\" y=\"{SvgText.N(top - 6)}\" text-anchor=\"middle\">{SvgText.Escape(ColumnLabels[c])}</text>");
        }

        for (int r = 0; r < rows; r++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left - 6)}\" y=\"{SvgText.N(top + ((r + 0.5) * cell) + 4)}\" text-anchor=\"end\">{SvgText.Escape(RowLabels[r])}</text>");
        }

        sb.Append("</g>");

        // The colour scale: six swatches from the lightest (lo) to the darkest (hi).
        double sx = left + (cols * cell) + 24, sy = top + 14;
        sb.Append(CultureInfo.InvariantCulture, $"<g class=\"scale\"><text x=\"{SvgText.N(sx)}\" y=\"{SvgText.N(sy - 6)}\" font-size=\"11\">{SvgText.Escape(ValueName)}</text>");
        for (int i = 0; i <= 5; i++)
        {
            double v = lo + ((hi - lo) * i / 5);
            double y = sy + (i * 18);
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(sx)}\" y=\"{SvgText.N(y)}\" width=\"14\" height=\"16\" fill=\"{Fill(i / 5.0)}\" stroke=\"#cccccc\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(sx + 18)}\" y=\"{SvgText.N(y + 12)}\" font-size=\"11\">{SvgText.Label(v)}</text>");
        }

        sb.Append("</g></svg>");
        return sb.ToString();
    }

    /// <inheritdoc />
    public string ToCsv()
    {
        if (CellLabels is { } labels)
        {
            var cells = new StringBuilder(string.Join(",", new[] { RowTitle, ColumnTitle, ValueName, LabelName }.Select(SvgText.Csv)) + "\n");
            for (int r = 0; r < RowLabels.Count; r++)
            {
                for (int c = 0; c < ColumnLabels.Count; c++)
                {
                    cells.Append(SvgText.Csv(RowLabels[r])).Append(',').Append(SvgText.Csv(ColumnLabels[c])).Append(',')
                         .Append(SvgText.Csv(Values[r, c])).Append(',').Append(SvgText.Csv(labels[r, c])).Append('\n');
                }
            }

            return cells.ToString();
        }

        var sb = new StringBuilder("row," + string.Join(",", ColumnLabels.Select(SvgText.Csv)) + "\n");
        for (int r = 0; r < RowLabels.Count; r++)
        {
            sb.Append(SvgText.Csv(RowLabels[r]));
            for (int c = 0; c < ColumnLabels.Count; c++)
            {
                sb.Append(',').Append(SvgText.Csv(Values[r, c]));
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }
}
