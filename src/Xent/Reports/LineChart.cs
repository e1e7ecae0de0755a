using System.Globalization;
using System.Text;

namespace Xent.Reports;

/// <summary>One line of a <see cref="LineChart"/>.</summary>
/// <param name="Name">The legend entry.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values (NaN leaves a gap).</param>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)
{
    /// <summary>Draw dashed. Default: false.</summary>
    public bool Dashed { get; init; }

    /// <summary>Also draw the raw values faintly under an exponential moving average with this factor (0 for none, the default).</summary>
    public double Smoothing { get; init; }
}

/// <summary>
/// Several series against shared axes, with ticks, axis labels, a legend, optional horizontal reference lines and an
/// optional logarithmic y axis. Series may be smoothed (the raw values stay visible, faint). A line with more than
/// <see cref="MaxPoints"/> points is drawn through a min-max decimation of them (<see cref="Downsampler"/>), so that
/// the SVG stays small however long the run; the CSV keeps every point.
/// </summary>
public sealed class LineChart : IChart
{
    /// <summary>Creates a chart.</summary>
    /// <param name="title">The title.</param>
    /// <param name="xLabel">The x-axis label.</param>
    /// <param name="yLabel">The y-axis label.</param>
    public LineChart(string title, string xLabel, string yLabel)
    {
        Title = title;
        XLabel = xLabel;
        YLabel = yLabel;
    }

    /// <inheritdoc />
    public string Title { get; }

    /// <summary>The x-axis label.</summary>
    public string XLabel { get; }

    /// <summary>The y-axis label.</summary>
    public string YLabel { get; }

    /// <summary>A logarithmic y axis (non-positive values are skipped). Default: false.</summary>
    public bool LogY { get; init; }

    /// <summary>Width in pixels. Default: 640.</summary>
    public int Width { get; init; } = 640;

    /// <summary>Height in pixels. Default: 360.</summary>
    public int Height { get; init; } = 360;

    /// <summary>
    /// The most points drawn per line (a smoothed series draws two lines: raw and smoothed). Longer lines are decimated
    /// with <see cref="Downsampler.Select"/>, which keeps each x bucket's first, last, lowest and highest points.
    /// Default: <see cref="Downsampler.DefaultMaxPoints"/> (2000); at least <see cref="Downsampler.MinMaxPoints"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below <see cref="Downsampler.MinMaxPoints"/>.</exception>
    public int MaxPoints
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, Downsampler.MinMaxPoints);
            field = value;
        }
    } = Downsampler.DefaultMaxPoints;

    /// <summary>Fixed y range, or null (the default) to fit the data.</summary>
    public (double Min, double Max)? YRange { get; init; }

    /// <summary>The series.</summary>
    public List<Series> Series { get; } = [];

    /// <summary>Horizontal reference lines (for example a loss floor), drawn grey and dashed.</summary>
    public List<(double Y, string Label)> ReferenceLines { get; } = [];

    /// <inheritdoc />
    public int SeriesCount => Series.Count;

    /// <inheritdoc />
    public string? Caption => Series.Any(s => s.X.Count > MaxPoints)
        ? string.Create(CultureInfo.InvariantCulture, $"Lines longer than {MaxPoints} points are drawn through their first, last, lowest and highest points per x bucket (min-max decimation); the CSV has every point.")
        : null;

    /// <summary>Adds a series; returns the chart for chaining.</summary>
    /// <param name="series">The series.</param>
    /// <returns>This chart.</returns>
    public LineChart Add(Series series)
    {
        if (series.X.Count != series.Y.Count)
        {
            throw new ArgumentException($"Series '{series.Name}' has {series.X.Count} x values and {series.Y.Count} y values.", nameof(series));
        }

        Series.Add(series);
        return this;
    }

    /// <summary>Exponential moving average: s_t = α·y_t + (1 − α)·s_(t−1), skipping NaN.</summary>
    /// <param name="values">The values.</param>
    /// <param name="alpha">α in (0, 1].</param>
    /// <returns>The smoothed values.</returns>
    public static double[] Smooth(IReadOnlyList<double> values, double alpha)
    {
        var result = new double[values.Count];
        double s = double.NaN;
        for (int i = 0; i < values.Count; i++)
        {
            double v = values[i];
            if (!double.IsNaN(v))
            {
                s = double.IsNaN(s) ? v : (alpha * v) + ((1 - alpha) * s);
            }

            result[i] = double.IsNaN(v) ? double.NaN : s;
        }

        return result;
    }

    /// <inheritdoc />
    public string ToSvg()
    {
        const double left = 64, top = 34, bottom = 48;
        double right = SvgText.LegendWidth(Series.Select(s => s.Name));
        double plotW = Width - left - right, plotH = Height - top - bottom;
        bool Usable(double y) => double.IsFinite(y) && (!LogY || y > 0);
        var xs = Series.SelectMany(s => s.X).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        var ys = Series.SelectMany(s => s.Y).Where(Usable).Concat(ReferenceLines.Select(r => r.Y).Where(Usable)).DefaultIfEmpty(LogY ? 1 : 0).ToArray();
        double xMin = xs.Min(), xMax = xs.Max();
        double yMin = YRange?.Min ?? ys.Min(), yMax = YRange?.Max ?? ys.Max();
        double[] xTicks = SvgText.NiceTicks(xMin, xMax);
        double[] yTicks;
        Func<double, double> ty;
        if (LogY)
        {
            double lo = Math.Floor(Math.Log10(yMin)), hi = Math.Ceiling(Math.Log10(yMax));
            if (hi <= lo)
            {
                hi = lo + 1;
            }

            yTicks = [.. Enumerable.Range((int)lo, (int)(hi - lo) + 1).Select(e => Math.Pow(10, e))];
            ty = y => top + plotH - ((Math.Log10(y) - lo) / (hi - lo) * plotH);
        }
        else
        {
            yTicks = SvgText.NiceTicks(yMin, yMax);
            double lo = Math.Min(yTicks[0], yMin), hi = Math.Max(yTicks[^1], yMax);
            ty = y => top + plotH - ((y - lo) / (hi - lo) * plotH);
        }

        double x0 = Math.Min(xTicks[0], xMin), x1 = Math.Max(xTicks[^1], xMax);
        if (x1 <= x0)
        {
            x1 = x0 + 1;
        }

        double Tx(double x) => left + ((x - x0) / (x1 - x0) * plotW);
        var sb = new StringBuilder();
        SvgText.Header(sb, Width, Height, Title);
        sb.Append("<g class=\"axes\" stroke=\"#cccccc\" stroke-width=\"1\">");
        foreach (double t in yTicks)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{SvgText.N(left)}\" y1=\"{SvgText.N(ty(t))}\" x2=\"{SvgText.N(left + plotW)}\" y2=\"{SvgText.N(ty(t))}\"/>");
        }

        sb.Append("</g><g class=\"ticks\" fill=\"#333333\">");
        foreach (double t in yTicks)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left - 6)}\" y=\"{SvgText.N(ty(t) + 4)}\" text-anchor=\"end\">{SvgText.Label(t)}</text>");
        }

        foreach (double t in xTicks)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(Tx(t))}\" y=\"{SvgText.N(top + plotH + 16)}\" text-anchor=\"middle\">{SvgText.Label(t)}</text>");
        }

        sb.Append("</g>");
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(left)}\" y=\"{SvgText.N(top)}\" width=\"{SvgText.N(plotW)}\" height=\"{SvgText.N(plotH)}\" fill=\"none\" stroke=\"#666666\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left + (plotW / 2))}\" y=\"{Height - 10}\" text-anchor=\"middle\">{SvgText.Escape(XLabel)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(16 {SvgText.N(top + (plotH / 2))}) rotate(-90)\" text-anchor=\"middle\">{SvgText.Escape(YLabel + (LogY ? " (log scale)" : string.Empty))}</text>");
        foreach ((double y, string label) in ReferenceLines)
        {
            if (Usable(y))
            {
                double yy = ty(y);
                sb.Append(CultureInfo.InvariantCulture, $"<g class=\"reference\"><line x1=\"{SvgText.N(left)}\" y1=\"{SvgText.N(yy)}\" x2=\"{SvgText.N(left + plotW)}\" y2=\"{SvgText.N(yy)}\" stroke=\"#555555\" stroke-dasharray=\"6 4\"/>");
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left + plotW - 4)}\" y=\"{SvgText.N(yy - 4)}\" text-anchor=\"end\" fill=\"#555555\">{SvgText.Escape(label)}</text></g>");
            }
        }

        string clip = "clip-" + SvgText.StableId(Title + "|" + string.Join("|", Series.Select(x => x.Name)) + "|" + Width + "x" + Height);
        sb.Append(CultureInfo.InvariantCulture, $"<clipPath id=\"{clip}\"><rect x=\"{SvgText.N(left)}\" y=\"{SvgText.N(top)}\" width=\"{SvgText.N(plotW)}\" height=\"{SvgText.N(plotH)}\"/></clipPath>");
        for (int i = 0; i < Series.Count; i++)
        {
            Series s = Series[i];
            string color = SvgText.Palette[i % SvgText.Palette.Length];
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-series=\"{SvgText.Escape(s.Name)}\" clip-path=\"url(#{clip})\">");
            if (s.Smoothing > 0)
            {
                Polyline(sb, s.X, s.Y, MaxPoints, Tx, ty, Usable, color, 1, 0.25, false);
                Polyline(sb, s.X, Smooth(s.Y, s.Smoothing), MaxPoints, Tx, ty, Usable, color, 2.2, 1, s.Dashed);
            }
            else
            {
                Polyline(sb, s.X, s.Y, MaxPoints, Tx, ty, Usable, color, 2, 1, s.Dashed);
            }

            sb.Append("</g>");
        }

        SvgText.Legend(sb, [.. Series.Select(s => s.Name)], left + plotW + 12, top + 12);
        sb.Append("</svg>");
        return sb.ToString();
    }

    private static void Polyline(StringBuilder sb, IReadOnlyList<double> xs, IReadOnlyList<double> ys, int maxPoints, Func<double, double> tx, Func<double, double> ty, Func<double, bool> usable, string color, double width, double opacity, bool dashed)
    {
        var points = new StringBuilder();
        void Flush()
        {
            if (points.Length > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{SvgText.N(width)}\" stroke-opacity=\"{SvgText.N(opacity)}\"{(dashed ? " stroke-dasharray=\"7 4\"" : string.Empty)} points=\"{points.ToString().TrimEnd()}\"/>");
                points.Clear();
            }
        }

        int count = 0;
        foreach (int i in Downsampler.Select(xs, ys, maxPoints, usable))
        {
            if (!usable(ys[i]) || !double.IsFinite(xs[i]))
            {
                Flush();
                continue;
            }

            points.Append(SvgText.N(tx(xs[i]))).Append(',').Append(SvgText.N(ty(ys[i]))).Append(' ');
            count++;
        }

        if (count == 1)
        {
            // A single point: draw it as a dot so the series stays visible.
            string[] p = points.ToString().Trim().Split(',');
            sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{p[0]}\" cy=\"{p[1]}\" r=\"3\" fill=\"{color}\"/>");
            points.Clear();
        }

        Flush();
    }

    /// <inheritdoc />
    public string ToCsv()
    {
        var sb = new StringBuilder("series,x,y\n");
        foreach (Series s in Series)
        {
            for (int i = 0; i < s.X.Count; i++)
            {
                sb.Append(SvgText.Csv(s.Name)).Append(',').Append(SvgText.Csv(s.X[i])).Append(',').Append(SvgText.Csv(s.Y[i])).Append('\n');
            }
        }

        return sb.ToString();
    }
}
