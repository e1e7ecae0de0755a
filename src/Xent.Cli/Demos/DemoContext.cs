using System.Globalization;
using Spectre.Console;
using Xent.Reports;

namespace Xent.Cli.Demos;

/// <summary>What a demo experiment writes to: the console and the shared HTML report.</summary>
internal sealed record DemoContext(IAnsiConsole Console, HtmlReport Report, string OutputDirectory)
{
    public static string F(double v, int digits = 4) => v.ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public static string MeanStd(IReadOnlyList<double> values, int digits = 4)
    {
        double mean = values.Average();
        double std = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return $"{F(mean, digits)} ± {F(std, digits)}";
    }

    public void Table(string title, string[] headers, IEnumerable<string[]> rows)
    {
        var list = rows.ToList();
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title));
        foreach (string h in headers)
        {
            table.AddColumn(new TableColumn(Markup.Escape(h)));
        }

        foreach (string[] row in list)
        {
            table.AddRow([.. row.Select(Markup.Escape)]);
        }

        Console.Write(table);
        Report.Table(title, headers, list);
    }

    public void Say(string text)
    {
        Console.WriteLine(text);
        Report.Paragraph(text);
    }

    public void Chart(string stem, IChart chart)
    {
        Report.Chart(stem, chart);
        Console.WriteLine($"  chart: {Path.Combine(OutputDirectory, stem + ".svg")}");
    }
}
