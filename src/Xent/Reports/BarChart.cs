using System.Globalization;
using System.Text;

namespace Xent.Reports;

/// <summary>
/// Grouped bars: one group per category, one bar per series (for example per-class recall of several runs). With more
/// than <see cref="MaxCategories"/> categories it draws only the lowest and the highest ones by their mean over the
/// series, and says so in <see cref="Caption"/>; the CSV keeps every category. Crowded labels are drawn upright (rotated a quarter turn).
/// </summary>
public sealed class BarChart : IChart
{
    private readonly List<string?> _colors = [];

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

    /// <summary>
    /// The most categories drawn: above it, the lowest half and the highest half by mean value over the series (ties by
    /// category order), lowest first. Default: 30; at least 2.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 2.</exception>
    public int MaxCategories
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 2);
            field = value;
        }
    } = 30;

    /// <summary>What the categories are, in the caption when some are left out. Default: "categories".</summary>
    public string CategoryNoun { get; init; } = "categories";

    /// <summary>A note shown under the chart in the report (and at the foot of the SVG), or null. Default: null.</summary>
    public string? Note { get; init; }

    /// <inheritdoc />
    public string? Caption
    {
        get
        {
            string? selection = Categories.Count > MaxCategories
                ? string.Create(CultureInfo.InvariantCulture, $"Showing the {MaxCategories / 2} lowest and {MaxCategories - (MaxCategories / 2)} highest of {Categories.Count} {CategoryNoun} by {(Series.Count > 1 ? "mean value over the series" : "value")}; the CSV has all {Categories.Count}.")
                : null;
            return Note is null ? selection : selection is null ? Note : Note + " " + selection;
        }
    }

    /// <summary>The series: a name and one value per category.</summary>
    public List<(string Name, double[] Values)> Series { get; } = [];

    /// <summary>The colour series <paramref name="index"/> is drawn in: the one given to <see cref="Add"/>, or the palette's for its position.</summary>
    /// <param name="index">The series' position.</param>
    /// <returns>#rrggbb.</returns>
    public string ColorOf(int index) => (index < _colors.Count ? _colors[index] : null) ?? RunPalette.Color(index);

    /// <inheritdoc />
    public int SeriesCount => Series.Count;

    /// <summary>Adds a series; returns the chart for chaining.</summary>
    /// <param name="name">The legend entry.</param>
    /// <param name="values">One value per category.</param>
    /// <param name="color">The colour (#rrggbb), or null (the default) for <see cref="RunPalette.Color"/> of the series' position.</param>
    /// <returns>This chart.</returns>
    public BarChart Add(string name, IReadOnlyList<double> values, string? color = null)
    {
        if (values.Count != Categories.Count)
        {
            throw new ArgumentException($"Series '{name}' has {values.Count} values for {Categories.Count} categories.", nameof(values));
        }

        Series.Add((name, [.. values]));
        while (_colors.Count < Series.Count - 1)
        {
            _colors.Add(null);
        }

        _colors.Add(color);
        return this;
    }

    /// <summary>
    /// The categories drawn, in drawing order: all of them, or, above <see cref="MaxCategories"/>, the lowest and the
    /// highest by mean value over the series (categories without a finite value rank last), lowest first.
    /// </summary>
    /// <returns>Category indices; when some are left out, -1 marks the break between the lowest and the highest.</returns>
    public int[] DrawnCategories()
    {
        int n = Categories.Count;
        if (n <= MaxCategories)
        {
            return [.. Enumerable.Range(0, n)];
        }

        double Mean(int c)
        {
            double sum = 0;
            int count = 0;
            foreach ((string _, double[] values) in Series)
            {
                if (double.IsFinite(values[c]))
                {
                    sum += values[c];
                    count++;
                }
            }

            return count == 0 ? double.NaN : sum / count;
        }

        double[] means = [.. Enumerable.Range(0, n).Select(Mean)];
        int[] ranked = [.. Enumerable.Range(0, n).Where(c => !double.IsNaN(means[c])).OrderBy(c => means[c]).ThenBy(c => c)];
        int low = MaxCategories / 2, high = MaxCategories - low;
        if (ranked.Length <= MaxCategories)
        {
            // Too few finite means to split: fill up with the categories that have none, in order.
            return [.. ranked.Concat(Enumerable.Range(0, n).Where(c => double.IsNaN(means[c]))).Take(MaxCategories)];
        }

        return [.. ranked.Take(low), -1, .. ranked.Skip(ranked.Length - high)];
    }

    /// <inheritdoc />
    public string ToSvg()
    {
        const double left = 64, top = 34, bottom = 56;
        const int maxLabel = 24;
        double right = SvgText.LegendWidth(Series.Select(s => s.Name));
        (double plotW, int width) = SvgText.Layout(Width, left, right);
        double plotH = Height - top - bottom;
        int[] drawn = DrawnCategories();
        string[] labels = [.. drawn.Select(c => c < 0 ? "…" : Categories[c].Length > maxLabel ? Categories[c][..(maxLabel - 1)] + "…" : Categories[c])];
        double groupW = plotW / Math.Max(1, drawn.Length);
        double labelPx = 7 * labels.Select(l => l.Length).DefaultIfEmpty(0).Max();
        bool upright = labelPx > groupW * 0.95;

        // Upright labels need room below the plot: grow the picture rather than shrink the plot.
        double labelRoom = upright ? 12 + labelPx : 24;
        string[] caption = Caption is string text ? SvgText.Wrap(text, (int)((width - left) / 6)) : [];
        double footY = top + plotH + labelRoom + 24;
        int height = (int)Math.Ceiling(Math.Max(Height, footY + (caption.Length == 0 ? -8 : (14 * caption.Length) + 2)));
        var values = Series.SelectMany(s => drawn.Where(c => c >= 0).Select(c => s.Values[c])).Where(double.IsFinite);
        double max = YRange?.Max ?? Math.Max(1e-12, values.DefaultIfEmpty(1).Max());
        double min = YRange?.Min ?? 0;
        double[] ticks = SvgText.NiceTicks(min, max);
        double hi = Math.Max(ticks[^1], max);
        double Ty(double v) => top + plotH - ((v - min) / (hi - min) * plotH);
        var sb = new StringBuilder();
        SvgText.Header(sb, width, height, Title);
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

        double barW = groupW * 0.8 / Math.Max(1, Series.Count);
        for (int k = 0; k < drawn.Length; k++)
        {
            double cx = left + ((k + 0.5) * groupW), ly = top + plotH + 16;
            string label = SvgText.Escape(labels[k]);
            if (upright && drawn[k] >= 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate({SvgText.N(cx + 4)} {SvgText.N(ly - 8)}) rotate(-90)\" text-anchor=\"end\">{label}</text>");
            }
            else
            {
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(cx)}\" y=\"{SvgText.N(ly)}\" text-anchor=\"middle\">{label}</text>");
            }
        }

        sb.Append("</g>");
        sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(16 {SvgText.N(top + (plotH / 2))}) rotate(-90)\" text-anchor=\"middle\">{SvgText.Escape(YLabel)}</text>");
        for (int k = 0; k < drawn.Length; k++)
        {
            if (drawn[k] < 0)
            {
                double bx = left + ((k + 0.5) * groupW);
                sb.Append(CultureInfo.InvariantCulture, $"<line class=\"break\" x1=\"{SvgText.N(bx)}\" y1=\"{SvgText.N(top)}\" x2=\"{SvgText.N(bx)}\" y2=\"{SvgText.N(top + plotH)}\" stroke=\"#999999\" stroke-dasharray=\"4 4\"/>");
            }
        }

        for (int s = 0; s < Series.Count; s++)
        {
            string color = ColorOf(s);
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-series=\"{SvgText.Escape(Series[s].Name)}\" data-color=\"{color}\" fill=\"{color}\">");
            for (int k = 0; k < drawn.Length; k++)
            {
                int c = drawn[k];
                double v = c < 0 ? double.NaN : Series[s].Values[c];
                if (!double.IsFinite(v))
                {
                    continue;
                }

                double x = left + (k * groupW) + (groupW * 0.1) + (s * barW);
                double y = Ty(Math.Max(v, min)), y0 = Ty(min);
                sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(x)}\" y=\"{SvgText.N(Math.Min(y, y0))}\" width=\"{SvgText.N(Math.Max(1, barW - 1))}\" height=\"{SvgText.N(Math.Max(1, Math.Abs(y0 - y)))}\"><title>{SvgText.Escape($"{Series[s].Name}, {Categories[c]}: {SvgText.Label(v)}")}</title></rect>");
            }

            sb.Append("</g>");
        }

        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(left)}\" y=\"{SvgText.N(top)}\" width=\"{SvgText.N(plotW)}\" height=\"{SvgText.N(plotH)}\" fill=\"none\" stroke=\"#666666\"/>");
        SvgText.Legend(sb, [.. Series.Select((s, i) => new LegendEntry(s.Name, ColorOf(i), Swatch.Box))], left + plotW + 12, top + 12);
        for (int i = 0; i < caption.Length; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"caption\" x=\"{SvgText.N(left)}\" y=\"{SvgText.N(footY + (14 * i))}\" font-size=\"11\" fill=\"#555555\">{SvgText.Escape(caption[i])}</text>");
        }

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
