using System.Text;
using Xent.Data;

namespace Xent.Reports;

/// <summary>
/// A self-contained HTML report: headings, text, tables and charts as inline SVG, with its styles inline and no
/// scripts or network requests. <see cref="Write"/> also writes every chart as its own <c>.svg</c> file and the data
/// behind it as <c>.csv</c>, each atomically.
/// </summary>
public sealed class HtmlReport
{
    private readonly StringBuilder _body = new();
    private readonly List<(string Stem, IChart Chart)> _charts = [];

    /// <summary>Creates a report.</summary>
    /// <param name="title">The page title.</param>
    public HtmlReport(string title) => Title = title;

    /// <summary>The page title.</summary>
    public string Title { get; }

    /// <summary>The charts added so far, by file stem.</summary>
    public IReadOnlyList<(string Stem, IChart Chart)> Charts => _charts;

    /// <summary>Adds a section heading.</summary>
    /// <param name="text">The heading.</param>
    /// <returns>This report.</returns>
    public HtmlReport Heading(string text)
    {
        _body.Append("<h2>").Append(SvgText.Escape(text)).Append("</h2>\n");
        return this;
    }

    /// <summary>Adds a paragraph of plain text.</summary>
    /// <param name="text">The text.</param>
    /// <returns>This report.</returns>
    public HtmlReport Paragraph(string text)
    {
        _body.Append("<p>").Append(SvgText.Escape(text)).Append("</p>\n");
        return this;
    }

    /// <summary>Adds preformatted text (for example a classification report).</summary>
    /// <param name="text">The text.</param>
    /// <returns>This report.</returns>
    public HtmlReport Preformatted(string text)
    {
        _body.Append("<pre>").Append(SvgText.Escape(text)).Append("</pre>\n");
        return this;
    }

    /// <summary>Adds a table.</summary>
    /// <param name="caption">The caption.</param>
    /// <param name="headers">Column headers.</param>
    /// <param name="rows">Rows of cells.</param>
    /// <returns>This report.</returns>
    public HtmlReport Table(string caption, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        _body.Append("<table><caption>").Append(SvgText.Escape(caption)).Append("</caption><thead><tr>");
        foreach (string h in headers)
        {
            _body.Append("<th>").Append(SvgText.Escape(h)).Append("</th>");
        }

        _body.Append("</tr></thead><tbody>");
        foreach (IReadOnlyList<string> row in rows)
        {
            _body.Append("<tr>");
            foreach (string cell in row)
            {
                _body.Append("<td>").Append(SvgText.Escape(cell)).Append("</td>");
            }

            _body.Append("</tr>");
        }

        _body.Append("</tbody></table>\n");
        return this;
    }

    /// <summary>Adds a chart; it is inlined and also written as <paramref name="stem"/>.svg and .csv.</summary>
    /// <param name="stem">The file name without extension (letters, digits, '-' and '_').</param>
    /// <param name="chart">The chart.</param>
    /// <returns>This report.</returns>
    /// <exception cref="ArgumentException">The stem is not a plain file name or is used twice.</exception>
    public HtmlReport Chart(string stem, IChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        if (string.IsNullOrEmpty(stem) || stem.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) || _charts.Any(c => c.Stem == stem))
        {
            throw new ArgumentException($"Chart file stem '{stem}' must be unique and use only letters, digits, '-' and '_'.", nameof(stem));
        }

        _charts.Add((stem, chart));
        _body.Append("<figure class=\"chart\" id=\"").Append(stem).Append("\">").Append(chart.ToSvg())
             .Append("<figcaption>").Append(SvgText.Escape(chart.Title)).Append(" (data: ").Append(stem).Append(".csv)");
        if (chart.Caption is string caption)
        {
            _body.Append("<br>").Append(SvgText.Escape(caption));
        }

        _body.Append("</figcaption></figure>\n");
        return this;
    }

    /// <summary>The whole page.</summary>
    /// <returns>The HTML text.</returns>
    public string ToHtml() => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>{{SvgText.Escape(Title)}}</title>
        <style>
        body { font-family: sans-serif; margin: 24px auto; max-width: 1340px; color: #222; }
        h1 { font-size: 24px; } h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #ddd; }
        figure.chart { display: inline-block; margin: 8px; vertical-align: top; }
        figcaption { font-size: 12px; color: #666; max-width: 640px; }
        table { border-collapse: collapse; margin: 12px 0; font-size: 13px; }
        caption { text-align: left; font-weight: bold; padding: 4px 0; }
        th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        pre { background: #f6f6f6; padding: 8px; font-size: 12px; }
        </style></head>
        <body><h1>{{SvgText.Escape(Title)}}</h1>
        {{_body}}</body></html>
        """;

    /// <summary>Writes report.html, and each chart's .svg and .csv, into a folder (atomically, file by file).</summary>
    /// <param name="directory">The folder (created if missing).</param>
    /// <param name="fileName">The page's file name. Default: report.html.</param>
    /// <returns>The page's path.</returns>
    public string Write(string directory, string fileName = "report.html")
    {
        Directory.CreateDirectory(directory);
        foreach ((string stem, IChart chart) in _charts)
        {
            AtomicFile.WriteAllText(Path.Combine(directory, stem + ".svg"), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + chart.ToSvg());
            AtomicFile.WriteAllText(Path.Combine(directory, stem + ".csv"), chart.ToCsv());
        }

        string path = Path.Combine(directory, fileName);
        AtomicFile.WriteAllText(path, ToHtml());
        return path;
    }
}
