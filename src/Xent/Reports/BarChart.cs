using System.Globalization;
using System.Text;

namespace Xent.Reports;

/// <summary>Grouped bars: one group per category, one bar per series (for example per-class recall of several runs).</summary>
public sealed class BarChart : IChart
{
    /// <summary>Creates a chart.</summary>
    /// <param name="title">The title.</param>
    /// <param name="categories">The groups, in order (for example class names).</param>
    /// <param name="yLabel">The y-axis label.</param>
    public BarChart(string title, IReadOnlyList<string> categories, string yLabel)
    {
        Title = title;
        Categories = categories;
        YLabel = yLabel;
    }

    /// <inheritdoc />
    public string Title { get; }

    /// <summary>The groups.</summary>
    public IReadOnlyList<string> Categories { get; }

    /// <summary>The y-axis label.</summary>
    public string YLabel { get; }

    /// <summary>Fixed y range, or null to fit the data (from 0). Default: null.</summary>
    public (double Min, double Max)? YRange { get; init; }

    /// <summary>Width in pixels. Default: 640.</summary>
    public int Width { get; init; } = 640;

    /// <summary>Height in pixels. Default: 360.</summary>
    public int Height { get; init; } = 360;

    /// <summary>The series: a name and one value per category.</summary>
    public List<(string Name, double[] Values)> Series { get; } = [];

    /// <inheritdoc />
    public int SeriesCount => Series.Count;

    /// <summary>Adds a series; returns the chart for chaining.</summary>
    /// <param name="name">The legend entry.</param>
    /// <param name="values">One value per category.</param>
    /// <returns>This chart.</returns>
    public BarChart Add(string name, IReadOnlyList<double> values)
    {
        if (values.Count != Categories.Count)
        {
            throw new ArgumentException($"Series '{name}' has {values.Count} values for {Categories.Count} categories.", nameof(values));
        }

        Series.Add((name, [.. values]));
        return this;
    }

    /// <inheritdoc />
    public string ToSvg()
    {
        const double left = 64, top = 34, bottom = 56;
        double right = SvgText.LegendWidth(Series.Select(s => s.Name));
        double plotW = Width - left - right, plotH = Height - top - bottom;
        double max = YRange?.Max ?? Math.Max(1e-12, Series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(1).Max());
        double min = YRange?.Min ?? 0;
        double[] ticks = SvgText.NiceTicks(min, max);
        double hi = Math.Max(ticks[^1], max);
        double Ty(double v) => top + plotH - ((v - min) / (hi - min) * plotH);
        var sb = new StringBuilder();
        SvgText.Header(sb, Width, Height, Title);
        sb.Append("<g class=\"axes\" stroke=\"#cccccc\">");
        foreach (double t in ticks)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{SvgText.N(left)}\" y1=\"{SvgText.N(Ty(t))}\" x2=\"{SvgText.N(left + plotW)}\" y2=\"{SvgText.N(Ty(t))}\"/>");
        }

        sb.Append("</g><g class=\"ticks\" fill=\"#333333\">");
        foreach (double t in ticks)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left - 6)}\" y=\"{SvgText.N(Ty(t) + 4)}\" text-anchor=\"end\">{SvgText.Label(t)}</text>");
        }

        double groupW = plotW / Math.Max(1, Categories.Count);
        double barW = groupW * 0.8 / Math.Max(1, Series.Count);
        for (int c = 0; c < Categories.Count; c++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left + ((c + 0.5) * groupW))}\" y=\"{SvgText.N(top + plotH + 16)}\" text-anchor=\"middle\">{SvgText.Escape(Categories[c])}</text>");
        }

        sb.Append("</g>");
        sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(16 {SvgText.N(top + (plotH / 2))}) rotate(-90)\" text-anchor=\"middle\">{SvgText.Escape(YLabel)}</text>");
        for (int s = 0; s < Series.Count; s++)
        {
            string color = SvgText.Palette[s % SvgText.Palette.Length];
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-series=\"{SvgText.Escape(Series[s].Name)}\" fill=\"{color}\">");
            for (int c = 0; c < Categories.Count; c++)
            {
                double v = Series[s].Values[c];
                if (!double.IsFinite(v))
                {
                    continue;
                }

                double x = left + (c * groupW) + (groupW * 0.1) + (s * barW);
                double y = Ty(Math.Max(v, min)), y0 = Ty(min);
                sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(x)}\" y=\"{SvgText.N(Math.Min(y, y0))}\" width=\"{SvgText.N(Math.Max(1, barW - 1))}\" height=\"{SvgText.N(Math.Max(1, Math.Abs(y0 - y)))}\"><title>{SvgText.Escape($"{Series[s].Name}, {Categories[c]}: {SvgText.Label(v)}")}</title></rect>");
            }

            sb.Append("</g>");
        }

        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(left)}\" y=\"{SvgText.N(top)}\" width=\"{SvgText.N(plotW)}\" height=\"{SvgText.N(plotH)}\" fill=\"none\" stroke=\"#666666\"/>");
        SvgText.Legend(sb, [.. Series.Select(s => s.Name)], left + plotW + 12, top + 12);
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <inheritdoc />
    public string ToCsv()
    {
        var sb = new StringBuilder("series,category,value\n");
        foreach ((string name, double[] values) in Series)
        {
            for (int c = 0; c < Categories.Count; c++)
            {
                sb.Append(SvgText.Csv(name)).Append(',').Append(SvgText.Csv(Categories[c])).Append(',').Append(SvgText.Csv(values[c])).Append('\n');
            }
        }

        return sb.ToString();
    }
}
