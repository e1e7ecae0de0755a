using System.Diagnostics;
using System.Globalization;
using System.Xml.Linq;
using Xent.Cli;
using Xent.Reports;
using Xunit.Abstractions;

namespace Xent.Tests;

/// <summary>Runs only when Chromium is installed; otherwise skipped with the reason.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Path is null)
        {
            Skip = "Chromium is not installed (apt-get install chromium): the rendering test is skipped.";
        }
    }
}

internal static class Chromium
{
    public static readonly string? Path = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    /// <summary>Renders a page or SVG file to a PNG with headless Chromium.</summary>
    public static Png Screenshot(string file, int width, int height, string workDir)
    {
        string png = System.IO.Path.Combine(workDir, System.IO.Path.GetFileNameWithoutExtension(file) + "-" + Guid.NewGuid().ToString("N")[..8] + ".png");
        var start = new ProcessStartInfo(Path!,
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars", $"--user-data-dir={System.IO.Path.Combine(workDir, "profile")}",
            $"--window-size={width},{height}", $"--screenshot={png}", "file://" + file,
        ])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using Process p = Process.Start(start)!;
        p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"Chromium did not finish rendering {file} within 60 s.");
        }

        Assert.True(File.Exists(png), $"Chromium wrote no screenshot of {file} (exit code {p.ExitCode}).");
        return Png.Decode(File.ReadAllBytes(png));
    }
}

public sealed class ReportTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int SeriesIn(string svg) => XDocument.Parse(svg).Descendants().Count(e => e.Name.LocalName == "g" && (string?)e.Attribute("class") == "series");

    [Fact]
    public void Charts_are_valid_svg_with_one_group_per_series()
    {
        double[] x = [1, 2, 3, 4];
        var line = new LineChart("loss & <accuracy>", "step", "loss") { LogY = true };
        line.Add(new Series("train", x, [1.0, 0.5, 0.2, 0.1]) { Smoothing = 0.3 }).Add(new Series("val", x, [1.2, double.NaN, 0.3, 0.25]) { Dashed = true }).Add(new Series("single", [2.0], [0.4]));
        line.ReferenceLines.Add((0.05, "floor"));
        var bars = new BarChart("recall", ["cat", "dog"], "recall").Add("a", [0.9, 0.4]).Add("b", [0.8, 0.7]);
        var heat = new Heatmap("confusion", ["a", "b"], ["a", "b"], new double[,] { { 5, 1 }, { 2, 7 } });
        foreach (IChart chart in new IChart[] { line, bars, heat })
        {
            string svg = chart.ToSvg();
            Assert.Equal(chart.SeriesCount, SeriesIn(svg));
            Assert.DoesNotContain("NaN", svg);
            Assert.Contains("<title>", svg);
        }

        Assert.Equal(3, line.SeriesCount);
        Assert.Contains("loss &amp; &lt;accuracy&gt;", line.ToSvg());
        Assert.StartsWith("series,x,y\ntrain,1,1\n", line.ToCsv());
        Assert.Contains("val,2,\n", line.ToCsv()); // NaN is an empty cell
        Assert.Throws<ArgumentException>(() => bars.Add("c", [1.0]));
    }

    [Fact]
    public void The_html_report_is_self_contained_and_writes_each_chart_as_svg_and_csv()
    {
        var report = new HtmlReport("test <report>");
        report.Paragraph("text").Table("t", ["a", "b"], [["1", "2"]]).Chart("curve", new LineChart("c", "x", "y").Add(new Series("s", [0.0, 1.0], [1.0, 0.0])));
        string html = System.IO.File.ReadAllText(report.Write(_dir));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href=", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("test &lt;report&gt;", html);
        Assert.Equal(1, SeriesIn(File.ReadAllText(Path.Combine(_dir, "curve.svg"))));
        Assert.True(File.Exists(Path.Combine(_dir, "curve.csv")));
        Assert.Throws<ArgumentException>(() => report.Chart("curve", new BarChart("x", ["a"], "y")));
        Assert.Throws<ArgumentException>(() => report.Chart("../evil", new BarChart("x", ["a"], "y")));
    }

    [Fact]
    public void The_conflicting_labels_experiment_learns_the_label_frequencies_and_reaches_the_floor()
    {
        for (ulong seed = 0; seed < 5; seed++)
        {
            var o = Xent.Cli.Demos.ConflictingLabelsDemo.Train(seed, doubleSoftmax: false);
            Assert.InRange(o.P1, 0.59, 0.61);
            Assert.InRange(o.P2, 0.49, 0.51);
            Assert.InRange(o.Loss, Xent.Cli.Demos.ConflictingLabelsDemo.Floor, Xent.Cli.Demos.ConflictingLabelsDemo.Floor + 0.005);
            Assert.Empty(o.Diagnostics);
        }

        var bug = Xent.Cli.Demos.ConflictingLabelsDemo.Train(0, doubleSoftmax: true);
        Assert.InRange(bug.P1, 0.69, 0.71);
        Assert.Equal(Xent.Diagnostics.DiagnosticCodes.InputLooksLikeProbabilities, Assert.Single(bug.Diagnostics).Code);
    }

    [ChromiumFact]
    public void The_demo_report_renders_in_headless_chromium_with_every_chart_and_series()
    {
        var writer = new StringWriter();
        Assert.Equal(0, XentApp.Run(["demo", "--out", Path.Combine(_dir, "demo")], writer, new StringWriter()));
        string demo = Path.Combine(_dir, "demo");
        Png page = Chromium.Screenshot(Path.Combine(demo, "report.html"), 1200, 2400, _dir);
        double ink = page.InkFraction();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"report.html: {page.Width}x{page.Height}, {ink:P1} ink"));
        Assert.InRange(ink, 0.02, 0.9);

        string[] svgs = Directory.GetFiles(demo, "*.svg");
        Assert.Equal(10, svgs.Length);
        foreach (string svg in svgs)
        {
            XDocument doc = XDocument.Parse(File.ReadAllText(svg));
            var series = doc.Descendants().Where(e => e.Name.LocalName == "g" && (string?)e.Attribute("class") == "series").ToList();
            Assert.NotEmpty(series);
            int width = int.Parse((string)doc.Root!.Attribute("width")!, CultureInfo.InvariantCulture);
            int height = int.Parse((string)doc.Root!.Attribute("height")!, CultureInfo.InvariantCulture);
            Png image = Chromium.Screenshot(svg, width, height, _dir);
            Assert.True(image.InkFraction() > 0.01, $"{Path.GetFileName(svg)} rendered blank");
            if ((string?)series[0].Attribute("data-series") == "cells")
            {
                continue; // a heatmap's colours vary with the values
            }

            // Count only the plot area: the legend's swatches (to its right) would show every colour anyway.
            XElement legend = doc.Descendants().Single(e => e.Name.LocalName == "g" && (string?)e.Attribute("class") == "legend");
            int legendX = (int)double.Parse((string)legend.Elements().First().Attribute("x")!, CultureInfo.InvariantCulture) - 4;
            for (int i = 0; i < series.Count; i++)
            {
                string hex = i < 10 ? new[] { "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac" }[i] : "#000000";
                byte r = Convert.ToByte(hex[1..3], 16), g = Convert.ToByte(hex[3..5], 16), b = Convert.ToByte(hex[5..7], 16);
                int pixels = image.Count(r, g, b, legendX);
                output.WriteLine($"{Path.GetFileName(svg)} series '{series[i].Attribute("data-series")?.Value}' {hex}: {pixels} pixels");
                Assert.True(pixels > 20, $"{Path.GetFileName(svg)}: series '{series[i].Attribute("data-series")?.Value}' ({hex}) is not visible in the rendered chart");
            }
        }
    }
}
