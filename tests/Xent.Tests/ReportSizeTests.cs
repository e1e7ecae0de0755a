using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xent.Data;
using Xent.Kernels;
using Xent.Metrics;
using Xent.Nn;
using Xent.Reports;
using Xent.Training;

namespace Xent.Tests;

/// <summary>Reports stay small and readable however long the run and however many classes (issue #8).</summary>
public sealed class ReportSizeTests : IDisposable
{
    private const long MaxReportBytes = 2 * 1024 * 1024;
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-report-size-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static IEnumerable<XElement> Elements(string svg, string name) => XDocument.Parse(svg).Descendants().Where(e => e.Name.LocalName == name);

    private static List<(double X, double Y)> Points(XElement polyline) =>
        [.. ((string)polyline.Attribute("points")!).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split(','))
            .Select(p => (double.Parse(p[0], CultureInfo.InvariantCulture), double.Parse(p[1], CultureInfo.InvariantCulture)))];

    /// <summary>Noise in [0.2, 0.8] with one dip to exactly 0 and one spike to exactly 1, at steps 1..n.</summary>
    private static (double[] X, double[] Y) Spiky(int n, int dip, int spike)
    {
        var random = new Random(8);
        double[] x = new double[n], y = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = i + 1;
            y[i] = 0.2 + (0.6 * random.NextDouble());
        }

        y[dip] = 0;
        y[spike] = 1;
        return (x, y);
    }

    [Fact]
    public void A_million_point_series_is_drawn_with_at_most_the_cap_and_keeps_its_min_and_max()
    {
        const int n = 1_000_000, dip = 123_457, spike = 876_543;
        (double[] x, double[] y) = Spiky(n, dip, spike);
        var chart = new LineChart("long", "step", "value") { YRange = (0, 1) };
        chart.Add(new Series("raw", x, y)).Add(new Series("smoothed", x, y) { Smoothing = 0.1 });
        string svg = chart.ToSvg();
        Assert.True(svg.Length < 300_000, $"The SVG has {svg.Length} characters.");

        // The plot frame: with the range fixed to [0, 1] (ticks 0 … 1), y = 1 is its top edge and y = 0 its bottom edge.
        XElement frame = Elements(svg, "rect").Single(r => (string?)r.Attribute("stroke") == "#666666");
        double top = double.Parse((string)frame.Attribute("y")!, CultureInfo.InvariantCulture);
        double bottom = top + double.Parse((string)frame.Attribute("height")!, CultureInfo.InvariantCulture);
        XElement[] groups = [.. Elements(svg, "g").Where(g => (string?)g.Attribute("class") == "series")];
        Assert.Equal(2, groups.Length);
        foreach (XElement group in groups)
        {
            XElement[] lines = [.. group.Elements().Where(e => e.Name.LocalName == "polyline")];
            Assert.Equal((string?)group.Attribute("data-series") == "raw" ? 1 : 2, lines.Length);
            foreach (XElement line in lines)
            {
                List<(double X, double Y)> points = Points(line);
                Assert.InRange(points.Count, 2, Downsampler.DefaultMaxPoints);
                Assert.True(points.Zip(points.Skip(1)).All(p => p.First.X <= p.Second.X), "the points are not in x order");
            }

            // The raw line (the faint one of a smoothed series) reaches both extremes.
            List<(double X, double Y)> raw = Points(lines[0]);
            Assert.Contains(raw, p => p.Y == top);
            Assert.Contains(raw, p => p.Y == bottom);
        }

        Assert.Contains("min-max decimation", chart.Caption);
        Assert.Equal(svg, chart.ToSvg()); // deterministic

        // Every point is still in the data behind the chart.
        Assert.Equal(1 + (2 * n), chart.ToCsv().Count(c => c == '\n'));
    }

    [Fact]
    public void The_downsampler_keeps_first_last_min_and_max_in_order_and_is_deterministic()
    {
        const int n = 250_000, dip = 77_777, spike = 200_003;
        (double[] x, double[] y) = Spiky(n, dip, spike);
        int[] kept = Downsampler.Select(x, y, 1000);
        Assert.InRange(kept.Length, 500, 1000);
        Assert.True(kept.Zip(kept.Skip(1)).All(p => p.First < p.Second), "indices are not strictly ascending");
        Assert.Contains(dip, kept);
        Assert.Contains(spike, kept);
        Assert.Equal(0, kept[0]);
        Assert.Equal(n - 1, kept[^1]);
        Assert.Equal(kept, Downsampler.Select(x, y, 1000));

        // Without monotonic x the buckets are runs of indices; the extremes still survive.
        double[] shuffledX = [.. x.Select(v => (v * 7919) % n)];
        int[] byIndex = Downsampler.Select(shuffledX, y, 1000);
        Assert.InRange(byIndex.Length, 1, 1000);
        Assert.Contains(dip, byIndex);
        Assert.Contains(spike, byIndex);

        // A run of NaN stays a gap in the drawn line.
        double[] gappy = [.. y];
        Array.Fill(gappy, double.NaN, 100_000, 50_000);
        int[] withGap = Downsampler.Select(x, gappy, 1000);
        Assert.Contains(withGap, i => double.IsNaN(gappy[i]));
        var chart = new LineChart("gap", "step", "value").Add(new Series("s", x, gappy));
        Assert.Equal(2, Elements(chart.ToSvg(), "polyline").Count());

        // A logarithmic chart skips non-positive values, so its lowest kept point is the lowest positive one.
        double[] withZeros = [.. y];
        withZeros[dip] = 0;
        withZeros[dip + 1] = 1e-6;
        Assert.Contains(dip + 1, Downsampler.Select(x, withZeros, 1000, v => double.IsFinite(v) && v > 0));

        Assert.Throws<ArgumentOutOfRangeException>(() => Downsampler.Select(x, y, Downsampler.MinMaxPoints - 1));
        Assert.Throws<ArgumentException>(() => Downsampler.Select(x, [1.0], 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LineChart("t", "x", "y") { MaxPoints = 1 });
    }

    [Fact]
    public void A_short_series_is_drawn_unchanged()
    {
        (double[] x, double[] y) = Spiky(500, 10, 20);
        Assert.Equal(Enumerable.Range(0, 500), Downsampler.Select(x, y));
        var chart = new LineChart("short", "step", "value").Add(new Series("s", x, y) { Smoothing = 0.2 });
        string svg = chart.ToSvg();
        Assert.All(Elements(svg, "polyline"), line => Assert.Equal(500, Points(line).Count));
        Assert.Null(chart.Caption);

        // Exactly at the cap: still every point.
        var capped = new LineChart("short", "step", "value") { MaxPoints = 500 }.Add(new Series("s", x, y) { Smoothing = 0.2 });
        Assert.Equal(svg, capped.ToSvg());
    }

    [Fact]
    public void A_bar_chart_with_many_categories_draws_the_lowest_and_highest_and_says_so()
    {
        string[] categories = [.. Enumerable.Range(0, 100).Select(c => $"c{c}")];
        double[] values = [.. Enumerable.Range(0, 100).Select(c => ((c * 37) % 100) / 100.0)];
        var chart = new BarChart("many", categories, "value") { CategoryNoun = "classes" }.Add("a", values).Add("b", values);
        int[] drawn = chart.DrawnCategories();
        Assert.Equal(31, drawn.Length);
        Assert.Equal(-1, drawn[15]);
        Assert.Equal(Enumerable.Range(0, 15).Select(v => v / 100.0), drawn[..15].Select(c => values[c]));
        Assert.Equal(Enumerable.Range(85, 15).Select(v => v / 100.0), drawn[16..].Select(c => values[c]));
        Assert.Equal("Showing the 15 lowest and 15 highest of 100 classes by mean value over the series; the CSV has all 100.", chart.Caption);
        string svg = chart.ToSvg();
        Assert.Equal(60, Elements(svg, "rect").Count(r => r.Elements().Any(e => e.Name.LocalName == "title")));
        Assert.Contains("Showing the 15 lowest", svg);
        Assert.Equal(1 + 200, chart.ToCsv().Count(c => c == '\n'));

        var few = new BarChart("few", ["a", "b"], "value").Add("s", [1.0, 2.0]);
        Assert.Equal(new[] { 0, 1 }, few.DrawnCategories());
        Assert.Null(few.Caption);
    }

    [Fact]
    public void The_largest_confusions_come_first_with_ties_in_class_order()
    {
        // true:      0  0  0  1  1  2  2  2  2  3
        // predicted: 1  1  2  0  0  3  3  0  2  3
        int[] truth = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3];
        int[] predicted = [1, 1, 2, 0, 0, 3, 3, 0, 2, 3];
        var metrics = ClassificationMetrics.Compute(truth, predicted, 4);
        BarChart top = TrainingCharts.TopConfusions(metrics, ["a", "b", "c", "d"], 3);
        Assert.Equal(new[] { "a → b", "b → a", "c → d" }, top.Categories);
        Assert.Equal(new[] { 2.0, 2, 2 }, top.Series.Single().Values);
        Assert.Contains("The 3 largest of 5 off-diagonal", top.Caption);
        Assert.IsType<Heatmap>(TrainingCharts.ConfusionChart(metrics, ["a", "b", "c", "d"]));

        var perfect = ClassificationMetrics.Compute([0, 1], [0, 1], 2);
        Assert.Empty(TrainingCharts.TopConfusions(perfect, ["a", "b"]).Categories);
        Assert.Equal(1, Elements(TrainingCharts.TopConfusions(perfect, ["a", "b"]).ToSvg(), "g").Count(g => (string?)g.Attribute("class") == "series"));

        int[] t31 = [.. Enumerable.Range(0, 62).Select(i => i % 31)];
        int[] p31 = [.. t31.Select((t, i) => i < 31 ? t : (t + 1) % 31)];
        Assert.IsType<BarChart>(TrainingCharts.ConfusionChart(ClassificationMetrics.Compute(t31, p31, 31), [.. Enumerable.Range(0, 31).Select(c => $"k{c}")]));
    }

    [Fact]
    public void The_report_of_a_run_with_half_a_million_steps_stays_under_two_megabytes()
    {
        const int epochs = 10, perEpoch = 50_000;
        var history = new TrainingHistory();
        var random = new Random(1);
        for (int e = 0; e < epochs; e++)
        {
            for (int s = 1; s <= perEpoch; s++)
            {
                long step = ((long)e * perEpoch) + s;
                double loss = (2.0 / Math.Sqrt(step)) + (0.1 * random.NextDouble());
                bool validated = step % 100 == 0; // 5000 validation points: decimated too
                history.Add(new BatchRecord(e, s, step, loss, 1 - (loss / 3), 1e-3, validated ? loss + 0.05 : double.NaN, validated ? 0.9 : double.NaN));
            }

            history.Epochs.Add(new EpochRecord(e, 0.1, 0.9, 0.15, 0.88, 1e-3));
        }

        Assert.Equal(500_000, history.BatchCount);
        int[] truth = [.. Enumerable.Range(0, 3000).Select(i => i % 3)];
        int[] predicted = [.. truth.Select((t, i) => i % 7 == 0 ? (t + 1) % 3 : t)];
        AssertSmallWithEveryChart(Result(history, 3, truth, predicted));
    }

    [Fact]
    public void The_report_of_an_evaluation_with_a_thousand_classes_stays_under_two_megabytes()
    {
        const int classes = 1000;
        var history = new TrainingHistory();
        for (int s = 1; s <= 50; s++)
        {
            history.Add(new BatchRecord(0, s, s, 7.0 / s, s / 60.0, 1e-3));
        }

        history.Epochs.Add(new EpochRecord(0, 1, 0.5, 1.2, 0.45, 1e-3));

        // 50 rows per class; a class-dependent share of them confused with up to 3 neighbours.
        int[] truth = [.. Enumerable.Range(0, 50 * classes).Select(i => i % classes)];
        int[] predicted = [.. truth.Select((t, i) => (i / classes) < t % 40 ? (t + 1 + (i % 3)) % classes : t)];
        string html = AssertSmallWithEveryChart(Result(history, classes, truth, predicted));

        // No 1000 × 1000 grid, no 1000 bars, no 1000-row table.
        Assert.DoesNotContain("data-series=\"cells\"", html);
        Assert.Contains("Largest confusions", html);
        Assert.Contains("The 30 largest of", html);
        Assert.Contains("Showing the 15 lowest and 15 highest of 1000 classes", html);
        Assert.Contains("of 1000 (report.txt and metrics.json have every class)", html);
        Assert.True(Regex.Count(html, "<tr>") < 60, "the per-class table is not bounded");
    }

    [Fact]
    public void The_report_of_a_binary_evaluation_of_300000_rows_with_roc_and_pr_curves_stays_under_two_megabytes()
    {
        const int n = 300_000;
        var history = new TrainingHistory();
        for (int s = 1; s <= 20; s++)
        {
            history.Add(new BatchRecord(0, s, s, 1.0 / s, 0.5 + (s / 50.0), 1e-3));
        }

        history.Epochs.Add(new EpochRecord(0, 0.3, 0.8, 0.35, 0.78, 1e-3));
        var random = new Random(5);
        int[] truth = [.. Enumerable.Range(0, n).Select(i => i % 3 == 0 ? 1 : 0)];
        float[] proba = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            float p = (float)Math.Clamp((0.3 + (0.35 * truth[i])) + ((random.NextDouble() - 0.5) * 0.6), 0, 1);
            proba[(2 * i) + 1] = p;
            proba[2 * i] = 1 - p;
        }

        int[] predicted = [.. Enumerable.Range(0, n).Select(i => proba[(2 * i) + 1] > 0.5f ? 1 : 0)];
        string html = AssertSmallWithEveryChart(Result(history, 2, truth, predicted, proba), truth);

        // Every distinct score is a point of the exact curves: far more than a chart draws, so both are decimated.
        RankingMetrics ranking = RankingMetrics.Compute(truth, proba, 2);
        Assert.True(ranking.Roc.X.Length > Downsampler.DefaultMaxPoints);
        Assert.Contains("min-max decimation", html);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"ROC AUC {ranking.RocAuc:F4}"), html);
        foreach (string stem in new[] { "roc", "pr" })
        {
            string svg = File.ReadAllText(Path.Combine(_dir, stem + ".svg"));
            Assert.All(Elements(svg, "polyline").Where(p => p.Parent?.Attribute("class")?.Value == "series"), line => Assert.InRange(Points(line).Count, 2, Downsampler.DefaultMaxPoints));
        }
    }

    private static PipelineResult Result(TrainingHistory history, int classes, int[] truth, int[] predicted, float[]? probabilities = null)
    {
        string[] names = [.. Enumerable.Range(0, classes).Select(c => $"class_{c:D4}")];
        ClassificationMetrics metrics = ClassificationMetrics.Compute(truth, predicted, classes);
        ReliabilityBin[] bins = [.. Enumerable.Range(0, 10).Select(b => new ReliabilityBin(b / 10.0, (b + 1) / 10.0, 100, (b + 0.5) / 10, (b + 0.4) / 10))];
        var evaluation = new EvaluationResult(probabilities ?? [], predicted, metrics, 0.5, 0.02, bins);
        Sequential model = Mlp.Create(2, [], classes, XentRandom.ForStream(0, 0));
        var info = new ModelInfo { ClassNames = names, FeatureNames = ["a", "b"] };
        return new PipelineResult(model, info, new TrainingResult(history, false, 0, false), evaluation, "test", new SplitIndices([], [], []), null);
    }

    private string AssertSmallWithEveryChart(PipelineResult result, int[]? truth = null)
    {
        HtmlReport report = TrainingReport.Build(result, """{"epochs": 10, "batch_size": 32}""", "synthetic.csv", truth);
        string path = report.Write(_dir);
        long bytes = new FileInfo(path).Length;
        Assert.True(bytes < MaxReportBytes, $"report.html is {bytes} bytes.");
        string html = File.ReadAllText(path);
        string[] stems = [.. report.Charts.Select(c => c.Stem)];
        string[] expected = ["loss", "loss-epoch", "accuracy", "accuracy-epoch", "confusion", "recall", "reliability", .. truth is null ? Array.Empty<string>() : ["roc", "pr"]];
        Assert.Equal(expected, stems);
        foreach ((string stem, IChart chart) in report.Charts)
        {
            Assert.Contains($"<figure class=\"chart\" id=\"{stem}\"><svg", html);
            string svg = File.ReadAllText(Path.Combine(_dir, stem + ".svg"));
            int series = XDocument.Parse(svg).Descendants().Count(e => e.Name.LocalName == "g" && (string?)e.Attribute("class") == "series");
            Assert.Equal(chart.SeriesCount, series);
            Assert.True(chart.SeriesCount > 0, $"{stem} draws nothing");
        }

        return html;
    }
}
