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

    /// <summary>
    /// The colour (#rrggbb), or null (the default) for <see cref="RunPalette.Color"/> of the series' position. Charts
    /// that show several runs set it from the run's position, so that a run has one colour in every chart.
    /// </summary>
    public string? Color { get; init; }

    /// <summary>Draw a dot at each point (for short series such as one point per epoch). Default: false.</summary>
    public bool Markers { get; init; }

    /// <summary>The legend's text, or null (the default) for <see cref="Name"/>; the SVG group keeps the name.</summary>
    public string? Legend { get; init; }
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

    /// <summary>Fixed x range, or null (the default) to fit the data.</summary>
    public (double Min, double Max)? XRange { get; init; }

    /// <summary>A note shown under the chart in the report (before any note on decimation), or null. Default: null.</summary>
    public string? Note { get; init; }

    /// <summary>The series.</summary>
    public List<Series> Series { get; } = [];

    /// <summary>Horizontal reference lines (for example a loss floor), drawn grey and dashed.</summary>
    public List<(double Y, string Label)> ReferenceLines { get; } = [];

    /// <summary>Reference segments from (X1, Y1) to (X2, Y2) (for example the chance diagonal of a ROC curve), drawn grey and dashed, labelled beside their middle.</summary>
    public List<(double X1, double Y1, double X2, double Y2, string Label)> ReferenceSegments { get; } = [];

    /// <inheritdoc />
    public int SeriesCount => Series.Count;

    /// <inheritdoc />
    public string? Caption
    {
        get
        {
            string? decimated = Series.Any(s => s.X.Count > MaxPoints)
                ? string.Create(CultureInfo.InvariantCulture, $"Lines longer than {MaxPoints} points are drawn through their first, last, lowest and highest points per x bucket (min-max decimation); the CSV has every point.")
                : null;
            return Note is null ? decimated : decimated is null ? Note : Note + " " + decimated;
        }
    }

    /// <summary>The colour series <paramref name="index"/> is drawn in: its own, or the palette's for its position.</summary>
    /// <param name="index">The series' position.</param>
    /// <returns>#rrggbb.</returns>
    public string ColorOf(int index) => Series[index].Color ?? RunPalette.Color(index);

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
        double right = SvgText.LegendWidth(Series.Select(s => s.Legend ?? s.Name));
        (double plotW, int width) = SvgText.Layout(Width, left, right);
        double plotH = Height - top - bottom;
        bool Usable(double y) => double.IsFinite(y) && (!LogY || y > 0);
        var xs = Series.SelectMany(s => s.X).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        var ys = Series.SelectMany(s => s.Y).Where(Usable).Concat(ReferenceLines.Select(r => r.Y).Where(Usable)).DefaultIfEmpty(LogY ? 1 : 0).ToArray();
        double xMin = XRange?.Min ?? xs.Min(), xMax = XRange?.Max ?? xs.Max();
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
        SvgText.Header(sb, width, Height, Title);
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
                sb.Append(CultureInfo.InvariantCulture, $"<g class=\"reference\"><line x1=\"{SvgText.N(left)}\" y1=\"{SvgText.N(yy)}\" x2=\"{SvgText.N(left + plotW)}\" y2=\"{SvgText.N(yy)}\" stroke=\"{RunPalette.Reference}\" stroke-dasharray=\"6 4\"/>");
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left + plotW - 4)}\" y=\"{SvgText.N(yy - 4)}\" text-anchor=\"end\" fill=\"{RunPalette.Reference}\">{SvgText.Escape(label)}</text></g>");
            }
        }

        foreach ((double sx1, double sy1, double sx2, double sy2, string label) in ReferenceSegments)
        {
            if (Usable(sy1) && Usable(sy2))
            {
                sb.Append(CultureInfo.InvariantCulture, $"<g class=\"reference\"><line x1=\"{SvgText.N(Tx(sx1))}\" y1=\"{SvgText.N(ty(sy1))}\" x2=\"{SvgText.N(Tx(sx2))}\" y2=\"{SvgText.N(ty(sy2))}\" stroke=\"{RunPalette.Reference}\" stroke-dasharray=\"6 4\"/>");
                double mx = (Tx(sx1) + Tx(sx2)) / 2, my = (ty(sy1) + ty(sy2)) / 2;
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(mx + 8)}\" y=\"{SvgText.N(my + 14)}\" fill=\"{RunPalette.Reference}\">{SvgText.Escape(label)}</text></g>");
            }
        }

        string clip = "clip-" + SvgText.StableId(Title + "|" + string.Join("|", Series.Select(x => x.Name)) + "|" + Width + "x" + Height);
        sb.Append(CultureInfo.InvariantCulture, $"<clipPath id=\"{clip}\"><rect x=\"{SvgText.N(left)}\" y=\"{SvgText.N(top)}\" width=\"{SvgText.N(plotW)}\" height=\"{SvgText.N(plotH)}\"/></clipPath>");
        for (int i = 0; i < Series.Count; i++)
        {
            Series s = Series[i];
            string color = ColorOf(i);
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-series=\"{SvgText.Escape(s.Name)}\" data-color=\"{color}\" clip-path=\"url(#{clip})\">");
            if (s.Smoothing > 0)
            {
                Polyline(sb, s.X, s.Y, MaxPoints, Tx, ty, Usable, color, 1, 0.25, false, false);
                Polyline(sb, s.X, Smooth(s.Y, s.Smoothing), MaxPoints, Tx, ty, Usable, color, 2.2, 1, s.Dashed, s.Markers);
            }
            else
            {
                Polyline(sb, s.X, s.Y, MaxPoints, Tx, ty, Usable, color, 2, 1, s.Dashed, s.Markers);
            }

            sb.Append("</g>");
        }

        SvgText.Legend(sb, [.. Series.Select((s, i) => new LegendEntry(s.Legend ?? s.Name, ColorOf(i), s.Dashed ? Swatch.Dashed : Swatch.Line))], left + plotW + 12, top + 12);
        sb.Append("</svg>");
        return sb.ToString();
    }

    private static void Polyline(StringBuilder sb, IReadOnlyList<double> xs, IReadOnlyList<double> ys, int maxPoints, Func<double, double> tx, Func<double, double> ty, Func<double, bool> usable, string color, double width, double opacity, bool dashed, bool markers)
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
        var dots = markers ? new StringBuilder() : null;
        foreach (int i in Downsampler.Select(xs, ys, maxPoints, usable))
        {
            if (!usable(ys[i]) || !double.IsFinite(xs[i]))
            {
                Flush();
                continue;
            }

            points.Append(SvgText.N(tx(xs[i]))).Append(',').Append(SvgText.N(ty(ys[i]))).Append(' ');
            dots?.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{SvgText.N(tx(xs[i]))}\" cy=\"{SvgText.N(ty(ys[i]))}\" r=\"2.5\" fill=\"{color}\"/>");
            count++;
        }

        if (dots is not null && count > 1)
        {
            sb.Append(dots);
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
