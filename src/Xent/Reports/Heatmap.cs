using System.Globalization;
using System.Text;

namespace Xent.Reports;

/// <summary>A matrix of values as coloured cells with their numbers (for example a confusion matrix). It counts as one series.</summary>
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

    /// <inheritdoc />
    public int SeriesCount => 1;

    /// <inheritdoc />
    public string ToSvg()
    {
        int rows = RowLabels.Count, cols = ColumnLabels.Count;
        double cell = Math.Clamp(420.0 / Math.Max(rows, cols), 18, 64);
        double left = 90, top = 56;
        int width = (int)(left + (cols * cell) + 30), height = (int)(top + (rows * cell) + 40);
        double max = 0;
        foreach (double v in Values)
        {
            if (double.IsFinite(v))
            {
                max = Math.Max(max, v);
            }
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
                double t = max > 0 && double.IsFinite(v) ? v / max : 0;
                int shade = (int)Math.Round(255 - (t * 200));
                string fill = string.Create(CultureInfo.InvariantCulture, $"rgb({shade},{Math.Min(255, shade + 20)},255)");
                double x = left + (c * cell), y = top + (r * cell);
                sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(x)}\" y=\"{SvgText.N(y)}\" width=\"{SvgText.N(cell - 1)}\" height=\"{SvgText.N(cell - 1)}\" fill=\"{fill}\"/>");
                if (cell >= 22)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(x + (cell / 2))}\" y=\"{SvgText.N(y + (cell / 2) + 4)}\" text-anchor=\"middle\" fill=\"{(t > 0.6 ? "#ffffff" : "#000000")}\">{SvgText.Label(v)}</text>");
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

        sb.Append("</g></svg>");
        return sb.ToString();
    }

    /// <inheritdoc />
    public string ToCsv()
    {
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
