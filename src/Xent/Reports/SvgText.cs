using System.Globalization;
using System.Text;

namespace Xent.Reports;

/// <summary>Shared pieces of Xent's SVG writer: escaping, number formatting, the palette and axis ticks.</summary>
internal static class SvgText
{
    /// <summary>A short identifier that depends only on the text (FNV-1a), so that output is reproducible.</summary>
    public static string StableId(string text)
    {
        uint hash = 2166136261;
        foreach (char ch in text)
        {
            hash = (hash ^ ch) * 16777619;
        }

        return hash.ToString("x8", CultureInfo.InvariantCulture);
    }

    public static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);

    public static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    public static string Label(double v)
    {
        double a = Math.Abs(v);
        return a != 0 && (a < 1e-3 || a >= 1e5) ? v.ToString("0.#E+0", CultureInfo.InvariantCulture) : v.ToString("0.####", CultureInfo.InvariantCulture);
    }

    public static string Csv(string text) => text.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;

    public static string Csv(double v) => double.IsNaN(v) ? string.Empty : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>About <paramref name="count"/> round tick values covering [min, max] (1, 2 or 5 × 10^k steps).</summary>
    public static double[] NiceTicks(double min, double max, int count = 6)
    {
        if (!(max > min))
        {
            (min, max) = (min - 1, max + 1);
        }

        double raw = (max - min) / Math.Max(1, count - 1);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        double first = Math.Floor(min / step) * step;
        var ticks = new List<double>();
        for (double t = first; t <= max + (step * 0.5); t += step)
        {
            ticks.Add(Math.Round(t / step) * step);
        }

        return [.. ticks];
    }

    /// <summary>Splits text at spaces into lines of at most <paramref name="width"/> characters (a longer word gets a line of its own).</summary>
    public static string[] Wrap(string text, int width)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear();
            }

            line.Append(line.Length > 0 ? " " : string.Empty).Append(word);
        }

        if (line.Length > 0)
        {
            lines.Add(line.ToString());
        }

        return [.. lines];
    }

    public static void Header(StringBuilder sb, int width, int height, string title)
    {
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">");
        sb.Append("<title>").Append(Escape(title)).Append("</title>");
        sb.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>");
    }

    /// <summary>The narrowest plot area a chart keeps beside its legend: 360 pixels.</summary>
    public const double MinPlotWidth = 360;

    /// <summary>
    /// Room for the legend beside the plot: about 7 pixels per character of the longest entry (at least 120). Names are
    /// never cut: a chart whose legend leaves less than <see cref="MinPlotWidth"/> for the plot grows wider instead
    /// (<see cref="Layout"/>).
    /// </summary>
    public static double LegendWidth(IEnumerable<string> names) => Math.Max(120, 40 + (7 * names.Select(n => n.Length).DefaultIfEmpty(0).Max()));

    /// <summary>The plot width and the picture's width for a chart of the given width, left margin and legend.</summary>
    public static (double PlotWidth, int Width) Layout(int width, double left, double legend)
    {
        double plot = Math.Max(width - left - legend, MinPlotWidth);
        return (plot, Math.Max(width, (int)Math.Ceiling(left + plot + legend)));
    }

    /// <summary>
    /// The legend: one entry per line, each with a swatch in its colour (a box for bars, a short line for lines, a
    /// broken one for dashed lines). Every swatch is built of rectangles, so its left edge is an <c>x</c> attribute.
    /// </summary>
    public static void Legend(StringBuilder sb, IReadOnlyList<LegendEntry> entries, double x, double y)
    {
        sb.Append("<g class=\"legend\">");
        for (int i = 0; i < entries.Count; i++)
        {
            (string text, string color, Swatch swatch) = entries[i];
            double yy = y + (i * 16);
            switch (swatch)
            {
                case Swatch.Box:
                    sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{N(x)}\" y=\"{N(yy - 9)}\" width=\"12\" height=\"10\" fill=\"{color}\"/>");
                    break;
                case Swatch.Line:
                    sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{N(x)}\" y=\"{N(yy - 5.5)}\" width=\"14\" height=\"3\" fill=\"{color}\"/>");
                    break;
                default:
                    sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{N(x)}\" y=\"{N(yy - 5.5)}\" width=\"4\" height=\"3\" fill=\"{color}\"/><rect x=\"{N(x + 6)}\" y=\"{N(yy - 5.5)}\" width=\"4\" height=\"3\" fill=\"{color}\"/><rect x=\"{N(x + 12)}\" y=\"{N(yy - 5.5)}\" width=\"3\" height=\"3\" fill=\"{color}\"/>");
                    break;
            }

            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{N(x + 18)}\" y=\"{N(yy)}\">{Escape(text)}</text>");
        }

        sb.Append("</g>");
    }
}

/// <summary>How a legend entry's swatch looks.</summary>
internal enum Swatch
{
    /// <summary>A filled box (bars, cells).</summary>
    Box,

    /// <summary>A solid line.</summary>
    Line,

    /// <summary>A dashed line.</summary>
    Dashed,
}

/// <summary>One legend entry.</summary>
/// <param name="Text">The label.</param>
/// <param name="Color">The colour.</param>
/// <param name="Swatch">The swatch.</param>
internal readonly record struct LegendEntry(string Text, string Color, Swatch Swatch);
