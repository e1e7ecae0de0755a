using System.Globalization;
using System.Text;
using Xent.Metrics;

namespace Xent.Reports;

/// <summary>
/// A reliability diagram: for each bin of the top probability, the accuracy against the mean confidence (a dot per
/// non-empty bin, joined by a line, with the grey diagonal of perfect calibration), and under it, on the same x axis,
/// a bar per bin with the number of predictions in it. With one run each bar is labelled with its count; with several,
/// the runs' bars stand side by side in their colours and the counts are in the bars' tooltips and the CSV.
/// </summary>
public sealed class ReliabilityChart : IChart
{
    private readonly List<(string Name, ReliabilityBin[] Bins, string? Color)> _runs = [];

    /// <summary>Creates a chart.</summary>
    /// <param name="title">The title.</param>
    public ReliabilityChart(string title) => Title = title;

    /// <inheritdoc />
    public string Title { get; }

    /// <summary>Width in pixels. Default: 640.</summary>
    public int Width { get; init; } = 640;

    /// <summary>Height in pixels. Default: 440.</summary>
    public int Height { get; init; } = 440;

    /// <summary>The runs: name, bins and colour (null for the palette's colour of the run's position).</summary>
    public IReadOnlyList<(string Name, ReliabilityBin[] Bins, string? Color)> Runs => _runs;

    /// <inheritdoc />
    public int SeriesCount => _runs.Count;

    /// <summary>The bin count of the first run (all runs of a report share it), or 0 without runs.</summary>
    public int BinCount => _runs.Count == 0 ? 0 : _runs[0].Bins.Length;

    /// <inheritdoc />
    public string? Caption => _runs.Count == 0 ? null : string.Create(CultureInfo.InvariantCulture,
        $"{DescribeBins()} equal-width bins of the top probability; each dot is a bin's mean confidence and accuracy (empty bins are left out). Bars below: predictions per bin{(_runs.Count == 1 ? ", labelled with the count" : " (counts in the tooltips and the CSV)")}.");

    /// <summary>Adds a run; returns the chart for chaining.</summary>
    /// <param name="name">The legend entry.</param>
    /// <param name="bins">The bins, in order, covering [0, 1].</param>
    /// <param name="color">The colour (#rrggbb), or null (the default) for <see cref="RunPalette.Color"/> of the run's position.</param>
    /// <returns>This chart.</returns>
    public ReliabilityChart Add(string name, ReliabilityBin[] bins, string? color = null)
    {
        ArgumentNullException.ThrowIfNull(bins);
        _runs.Add((name, bins, color));
        return this;
    }

    /// <summary>The colour run <paramref name="index"/> is drawn in.</summary>
    /// <param name="index">The run's position.</param>
    /// <returns>#rrggbb.</returns>
    public string ColorOf(int index) => _runs[index].Color ?? RunPalette.Color(index);

    private string DescribeBins()
    {
        int[] counts = [.. _runs.Select(r => r.Bins.Length).Distinct()];
        return counts.Length == 1 ? counts[0].ToString(CultureInfo.InvariantCulture) : string.Join(" or ", counts);
    }

    /// <inheritdoc />
    public string ToSvg()
    {
        const double left = 64, top = 34, gap = 30, countH = 80, bottom = 40;
        double right = SvgText.LegendWidth(_runs.Select(r => r.Name).Append("perfect calibration"));
        (double plotW, int width) = SvgText.Layout(Width, left, right);
        double plotH = Height - top - gap - countH - bottom;
        double countTop = top + plotH + gap;
        double Tx(double x) => left + (Math.Clamp(x, 0, 1) * plotW);
        double Ty(double y) => top + plotH - (Math.Clamp(y, 0, 1) * plotH);
        long maxCount = Math.Max(1, _runs.SelectMany(r => r.Bins).Select(b => b.Count).DefaultIfEmpty(0).Max());
        double Tc(long c) => countTop + countH - ((double)c / maxCount * countH);
        double[] ticks = [0, 0.2, 0.4, 0.6, 0.8, 1];

        var sb = new StringBuilder();
        SvgText.Header(sb, width, Height, Title);
        sb.Append("<g class=\"axes\" stroke=\"#cccccc\" stroke-width=\"1\">");
        foreach (double t in ticks)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{SvgText.N(left)}\" y1=\"{SvgText.N(Ty(t))}\" x2=\"{SvgText.N(left + plotW)}\" y2=\"{SvgText.N(Ty(t))}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{SvgText.N(Tx(t))}\" y1=\"{SvgText.N(top)}\" x2=\"{SvgText.N(Tx(t))}\" y2=\"{SvgText.N(top + plotH)}\"/>");
        }

        sb.Append("</g><g class=\"ticks\" fill=\"#333333\">");
        foreach (double t in ticks)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left - 6)}\" y=\"{SvgText.N(Ty(t) + 4)}\" text-anchor=\"end\">{SvgText.Label(t)}</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(Tx(t))}\" y=\"{SvgText.N(countTop + countH + 16)}\" text-anchor=\"middle\">{SvgText.Label(t)}</text>");
        }

        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left - 6)}\" y=\"{SvgText.N(countTop + 8)}\" text-anchor=\"end\">{maxCount.ToString(CultureInfo.InvariantCulture)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left - 6)}\" y=\"{SvgText.N(countTop + countH)}\" text-anchor=\"end\">0</text>");
        sb.Append("</g>");
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(left)}\" y=\"{SvgText.N(top)}\" width=\"{SvgText.N(plotW)}\" height=\"{SvgText.N(plotH)}\" fill=\"none\" stroke=\"#666666\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{SvgText.N(left)}\" y1=\"{SvgText.N(countTop + countH)}\" x2=\"{SvgText.N(left + plotW)}\" y2=\"{SvgText.N(countTop + countH)}\" stroke=\"#666666\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left + (plotW / 2))}\" y=\"{Height - 8}\" text-anchor=\"middle\">confidence (top probability)</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(16 {SvgText.N(top + (plotH / 2))}) rotate(-90)\" text-anchor=\"middle\">accuracy</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(16 {SvgText.N(countTop + (countH / 2))}) rotate(-90)\" text-anchor=\"middle\">rows</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<g class=\"reference\"><line x1=\"{SvgText.N(Tx(0))}\" y1=\"{SvgText.N(Ty(0))}\" x2=\"{SvgText.N(Tx(1))}\" y2=\"{SvgText.N(Ty(1))}\" stroke=\"{RunPalette.Reference}\" stroke-dasharray=\"6 4\"/></g>");

        int runs = _runs.Count;
        for (int s = 0; s < runs; s++)
        {
            (string name, ReliabilityBin[] bins, _) = _runs[s];
            string color = ColorOf(s);
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-series=\"{SvgText.Escape(name)}\" data-color=\"{color}\">");
            var filled = bins.Where(b => b.Count > 0 && double.IsFinite(b.Confidence) && double.IsFinite(b.Accuracy)).ToList();
            if (filled.Count > 1)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(" ", filled.Select(b => SvgText.N(Tx(b.Confidence)) + "," + SvgText.N(Ty(b.Accuracy))))}\"/>");
            }

            foreach (ReliabilityBin b in filled)
            {
                string tip = string.Create(CultureInfo.InvariantCulture, $"{name}, ({SvgText.Label(b.Lower)}, {SvgText.Label(b.Upper)}]: {b.Count} rows, confidence {b.Confidence:F3}, accuracy {b.Accuracy:F3}");
                sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{SvgText.N(Tx(b.Confidence))}\" cy=\"{SvgText.N(Ty(b.Accuracy))}\" r=\"3.5\" fill=\"{color}\"><title>{SvgText.Escape(tip)}</title></circle>");
            }

            // The count bars: each bin's slot split between the runs.
            foreach (ReliabilityBin b in bins)
            {
                double x0 = Tx(b.Lower), x1 = Tx(b.Upper), slot = (x1 - x0) * 0.8 / runs;
                double x = x0 + ((x1 - x0) * 0.1) + (s * slot);
                double y = b.Count > 0 ? Math.Min(Tc(b.Count), countTop + countH - 1) : countTop + countH;
                string tip = string.Create(CultureInfo.InvariantCulture, $"{name}, ({SvgText.Label(b.Lower)}, {SvgText.Label(b.Upper)}]: {b.Count} rows");
                sb.Append(CultureInfo.InvariantCulture, $"<rect class=\"count\" x=\"{SvgText.N(x)}\" y=\"{SvgText.N(y)}\" width=\"{SvgText.N(Math.Max(1, slot - 1))}\" height=\"{SvgText.N(countTop + countH - y)}\" fill=\"{color}\"><title>{SvgText.Escape(tip)}</title></rect>");
                if (runs == 1)
                {
                    string text = b.Count.ToString(CultureInfo.InvariantCulture);
                    double size = Math.Min(10, Math.Max(6, (x1 - x0) / Math.Max(1, text.Length) * 1.6));
                    sb.Append(CultureInfo.InvariantCulture, $"<text class=\"count\" x=\"{SvgText.N((x0 + x1) / 2)}\" y=\"{SvgText.N(y - 3)}\" text-anchor=\"middle\" font-size=\"{SvgText.N(size)}\" fill=\"#333333\">{text}</text>");
                }
            }

            sb.Append("</g>");
        }

        SvgText.Legend(sb, [.. _runs.Select((r, i) => new LegendEntry(r.Name, ColorOf(i), Swatch.Line)), new LegendEntry("perfect calibration", RunPalette.Reference, Swatch.Dashed)], left + plotW + 12, top + 12);
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <inheritdoc />
    public string ToCsv()
    {
        var sb = new StringBuilder("series,lower,upper,count,confidence,accuracy\n");
        foreach ((string name, ReliabilityBin[] bins, _) in _runs)
        {
            foreach (ReliabilityBin b in bins)
            {
                sb.Append(SvgText.Csv(name)).Append(',').Append(SvgText.Csv(b.Lower)).Append(',').Append(SvgText.Csv(b.Upper)).Append(',')
                  .Append(b.Count.ToString(CultureInfo.InvariantCulture)).Append(',').Append(SvgText.Csv(b.Confidence)).Append(',').Append(SvgText.Csv(b.Accuracy)).Append('\n');
            }
        }

        return sb.ToString();
    }
}
