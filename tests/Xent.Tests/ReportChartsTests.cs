using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using Xent.Data;
using Xent.Metrics;
using Xent.Reports;
using Xent.Training;

namespace Xent.Tests;

/// <summary>What each chart of a report shows (issue #9): epoch curves, run colours, the row-normalised confusion matrix, bin counts, ROC and PR.</summary>
public sealed class ReportChartsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-report-charts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static XElement[] Groups(string svg) =>
        [.. XDocument.Parse(svg).Descendants().Where(e => e.Name.LocalName == "g" && (string?)e.Attribute("class") == "series")];

    private static IEnumerable<XElement> Named(XElement root, string name) => root.Descendants().Where(e => e.Name.LocalName == name);

    /// <summary>A short training run on a data file, with the true classes of its evaluated rows.</summary>
    private static (PipelineResult Result, Dataset Data, int[] Truth) Train(string file, int epochs = 4)
    {
        Dataset data = CsvDatasetReader.Read(DataTests.RepoFile("data", file));
        PipelineResult result = TrainingPipeline.Run(data, new PipelineOptions { Trainer = new TrainerOptions { Epochs = epochs } });
        return (result, data, TrainingReport.EvaluatedLabels(result, data));
    }

    private static TrainingHistory History(int epochs, int stepsPerEpoch, bool validation)
    {
        var h = new TrainingHistory();
        for (int e = 0; e < epochs; e++)
        {
            for (int s = 1; s <= stepsPerEpoch; s++)
            {
                long step = ((long)e * stepsPerEpoch) + s;
                h.Add(new BatchRecord(e, s, step, 2.0 / Math.Sqrt(step), 1 - (1.0 / Math.Sqrt(step)), 1e-3));
            }

            h.Epochs.Add(new EpochRecord(e, 1.0 / (e + 1), 0.5 + (e * 0.05), validation ? 1.1 / (e + 1) : double.NaN, validation ? 0.45 + (e * 0.05) : double.NaN, 1e-3));
        }

        return h;
    }

    [Fact]
    public void Per_epoch_curves_have_one_point_per_epoch_with_validation_dashed()
    {
        TrainingHistory h = History(epochs: 7, stepsPerEpoch: 10, validation: true);
        LineChart loss = TrainingCharts.EpochLoss([("a", h)]);
        Assert.Equal("Loss per epoch", loss.Title);
        Assert.Equal(new[] { "a train", "a validation" }, loss.Series.Select(s => s.Name));
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6, 7 }, loss.Series[0].X);
        Assert.Equal(h.Epochs.Select(e => e.Loss), loss.Series[0].Y);
        Assert.Equal(h.Epochs.Select(e => e.ValidationLoss), loss.Series[1].Y);
        Assert.False(loss.Series[0].Dashed);
        Assert.True(loss.Series[1].Dashed);

        LineChart accuracy = TrainingCharts.EpochAccuracy([("a", h)]);
        Assert.Equal(h.Epochs.Select(e => e.Accuracy), accuracy.Series[0].Y);
        Assert.Equal(h.Epochs.Select(e => e.ValidationAccuracy), accuracy.Series[1].Y);

        // One dot per epoch on each line; the validation line is dashed, the training line is not.
        XElement[] groups = Groups(loss.ToSvg());
        Assert.All(groups, g => Assert.Equal(7, Named(g, "circle").Count()));
        Assert.Null(Named(groups[0], "polyline").Single().Attribute("stroke-dasharray"));
        Assert.NotNull(Named(groups[1], "polyline").Single().Attribute("stroke-dasharray"));

        // Without a validation split there is no validation line.
        Assert.Single(TrainingCharts.EpochLoss([("a", History(3, 5, validation: false))]).Series);
    }

    [Fact]
    public void Per_step_curves_are_smoothed_more_the_longer_the_run_and_decimated()
    {
        Assert.Equal(0.1, TrainingCharts.SmoothingFor(50));
        Assert.Equal(0.1, TrainingCharts.SmoothingFor(2000));
        Assert.Equal(0.001, TrainingCharts.SmoothingFor(200_000), 12);

        TrainingHistory shortRun = History(2, 100, validation: false), longRun = History(10, 2000, validation: false);
        LineChart chart = TrainingCharts.Loss([("short", shortRun), ("long", longRun)]);
        Assert.Equal(0.1, chart.Series[0].Smoothing);
        Assert.Equal(TrainingCharts.SmoothingFor(longRun.Batches.Count), chart.Series[1].Smoothing);
        Assert.True(chart.Series[1].Smoothing < 0.1);
        Assert.Contains("exponential moving average", chart.Caption);
        Assert.Contains("min-max decimation", chart.Caption);

        // The long run's raw and smoothed lines are each drawn with at most MaxPoints points.
        XElement longGroup = Groups(chart.ToSvg()).Single(g => (string?)g.Attribute("data-series") == "long train");
        Assert.All(Named(longGroup, "polyline"), p => Assert.InRange(((string)p.Attribute("points")!).Split(' ').Length, 2, chart.MaxPoints));

        // A history thinned in memory says so.
        TrainingHistory huge = History(1, TrainingHistory.BatchCapacity + 10, validation: false);
        Assert.True(huge.IsDownsampled);
        Assert.Contains("history.csv has every step", TrainingCharts.Accuracy([("x", huge)]).Caption);
    }

    [Fact]
    public void Each_run_has_one_colour_in_every_chart_solid_for_training_and_dashed_for_validation()
    {
        string[] names = ["first", "second", "third"];
        TrainingHistory[] histories = [History(3, 10, true), History(3, 10, true), History(3, 10, false)];
        var runs = names.Zip(histories).Select(p => (p.First, p.Second)).ToList();
        int[] truth = [0, 1, 2, 0, 1, 2, 0, 1, 2];
        var random = new Random(2);
        float[] Proba() => [.. Enumerable.Range(0, 27).Select(_ => (float)random.NextDouble())];
        var metrics = names.Select(_ => ClassificationMetrics.Compute(truth, [0, 1, 2, 0, 1, 1, 0, 2, 2], 3)).ToList();
        var rankings = names.Select(_ => RankingMetrics.Compute(truth, Proba(), 3)).ToList();
        ReliabilityBin[] bins = [.. Enumerable.Range(0, 15).Select(b => new ReliabilityBin(b / 15.0, (b + 1) / 15.0, b, (b + 0.5) / 15, (b + 0.3) / 15))];
        string[] classes = ["x", "y", "z"];
        IChart[] charts =
        [
            TrainingCharts.Loss(runs), TrainingCharts.EpochLoss(runs), TrainingCharts.Accuracy(runs), TrainingCharts.EpochAccuracy(runs),
            TrainingCharts.Recall([.. names.Zip(metrics)], classes),
            TrainingCharts.MeanRecall([.. names.Select((n, i) => (n, (IReadOnlyList<ClassificationMetrics>)[metrics[i]]))], classes),
            TrainingCharts.Reliability([.. names.Select(n => (n, bins))]),
            TrainingCharts.Roc([.. names.Zip(rankings)], classes), TrainingCharts.PrecisionRecall([.. names.Zip(rankings)], classes),
        ];

        foreach (IChart chart in charts)
        {
            XElement[] groups = Groups(chart.ToSvg());
            Assert.Equal(chart.SeriesCount, groups.Length);
            foreach (XElement g in groups)
            {
                string series = (string)g.Attribute("data-series")!;
                int run = Array.FindIndex(names, n => series == n || series.StartsWith(n + " ", StringComparison.Ordinal));
                Assert.True(run >= 0, $"{chart.Title}: series '{series}' belongs to no run");
                string color = RunPalette.Color(run);
                Assert.Equal(color, (string?)g.Attribute("data-color"));

                // Everything the group draws is in the run's colour.
                foreach (XElement mark in g.Descendants().Where(e => e.Name.LocalName is "polyline" or "circle" or "rect"))
                {
                    string? paint = (string?)mark.Attribute("stroke") ?? (string?)mark.Attribute("fill") ?? (string?)g.Attribute("fill");
                    Assert.True(paint == color, $"{chart.Title}: series '{series}' draws a {mark.Name.LocalName} in {paint}, not {color}");
                }

                bool dashed = Named(g, "polyline").Any(p => p.Attribute("stroke-dasharray") is not null);
                Assert.Equal(series.EndsWith(" validation", StringComparison.Ordinal), dashed);
            }
        }

        // The palette: Tableau 10 first, then a distinct colour for every further index.
        Assert.Equal(RunPalette.Base, Enumerable.Range(0, 10).Select(RunPalette.Color));
        string[] hundred = [.. Enumerable.Range(0, 100).Select(RunPalette.Color)];
        Assert.Equal(100, hundred.Distinct().Count());
        Assert.All(hundred, c => Assert.Matches("^#[0-9a-f]{6}$", c));
        Assert.DoesNotContain(RunPalette.Reference, hundred);
    }

    [Fact]
    public void A_legend_with_long_run_names_widens_the_chart_instead_of_cutting_the_names()
    {
        string name = "a-run-name-that-is-much-longer-than-a-legend-usually-is-" + new string('x', 40);
        var chart = new LineChart("t", "x", "y").Add(new Series(name + " validation", [0.0, 1.0], [1.0, 0.0]) { Dashed = true });
        XDocument doc = XDocument.Parse(chart.ToSvg());
        Assert.Contains(Named(doc.Root!, "text"), t => t.Value == name + " validation");
        int width = int.Parse((string)doc.Root!.Attribute("width")!, CultureInfo.InvariantCulture);
        Assert.True(width >= 64 + SvgText.MinPlotWidth + (7 * (name.Length + 11)), $"the chart is {width} pixels wide");
        XElement frame = Named(doc.Root!, "rect").Single(r => (string?)r.Attribute("stroke") == "#666666");
        Assert.True(double.Parse((string)frame.Attribute("width")!, CultureInfo.InvariantCulture) >= SvgText.MinPlotWidth);
    }

    [Fact]
    public void The_confusion_matrix_is_row_normalised_with_the_counts_as_labels()
    {
        // true:      0 0 0 0 1 1 2 (class 3 has no rows)
        // predicted: 0 0 0 1 1 0 3
        ClassificationMetrics m = ClassificationMetrics.Compute([0, 0, 0, 0, 1, 1, 2], [0, 0, 0, 1, 1, 0, 3], 4);
        Heatmap heat = TrainingCharts.Confusion(m, ["a", "b", "c", "d"]);
        Assert.Equal(0.75, heat.Values[0, 0]);
        Assert.Equal(0.25, heat.Values[0, 1]);
        Assert.Equal(0.5, heat.Values[1, 0]);
        Assert.Equal(1.0, heat.Values[2, 3]);
        for (int t = 0; t < 3; t++)
        {
            Assert.Equal(1.0, Enumerable.Range(0, 4).Sum(p => heat.Values[t, p]), 12);
        }

        Assert.True(double.IsNaN(heat.Values[3, 0]), "a class without rows has no shares");
        Assert.Equal(3.0, heat.CellLabels![0, 0]);
        Assert.Equal((0.0, 1.0), heat.ColorRange);

        string svg = heat.ToSvg();
        Assert.DoesNotContain("NaN", svg);
        XElement cells = Groups(svg).Single();
        string[] labels = [.. Named(cells, "text").Select(t => t.Value)];
        Assert.Equal(16, labels.Length);
        Assert.Equal(new[] { "3", "1", "0", "0" }, labels[..4]); // counts, not shares
        Assert.Contains(Named(cells, "title"), t => t.Value == "a → b: count 1, share of row 0.25");

        // The darkest cell is a full row (share 1), not the largest count.
        string Fill(int r, int c) => (string)Named(cells, "rect").ElementAt((r * 4) + c).Attribute("fill")!;
        Assert.Equal("rgb(55,75,255)", Fill(2, 3));
        Assert.NotEqual(Fill(2, 3), Fill(0, 0));

        string[] csv = heat.ToCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("true class,predicted class,share of row,count", csv[0]);
        Assert.Equal("a,a,0.75,3", csv[1]);
        Assert.Equal("d,a,,0", csv[13]);
        Assert.Contains("share of each true class", heat.Caption);
    }

    [Fact]
    public void The_reliability_diagram_shows_each_bins_count_and_names_the_bin_count()
    {
        ReliabilityBin[] bins = [.. Enumerable.Range(0, 15).Select(b => new ReliabilityBin(b / 15.0, (b + 1) / 15.0, b == 3 ? 0 : 10 + (b * 7), (b + 0.5) / 15, (b + 0.2) / 15))];
        ReliabilityChart chart = TrainingCharts.Reliability([("run", bins)]);
        Assert.Equal("Reliability diagram (15 bins)", chart.Title);
        Assert.Equal(15, chart.BinCount);
        Assert.StartsWith("15 equal-width bins", chart.Caption);
        XElement g = Groups(chart.ToSvg()).Single();
        string[] counts = [.. Named(g, "text").Where(t => (string?)t.Attribute("class") == "count").Select(t => t.Value)];
        Assert.Equal(bins.Select(b => b.Count.ToString(CultureInfo.InvariantCulture)), counts);
        Assert.Equal(15, Named(g, "rect").Count(r => (string?)r.Attribute("class") == "count"));
        Assert.Equal(14, Named(g, "circle").Count()); // the empty bin has no dot
        Assert.Equal("series,lower,upper,count,confidence,accuracy", chart.ToCsv().Split('\n')[0]);
        Assert.Equal(1 + 15, chart.ToCsv().Count(c => c == '\n'));

        // Several runs: bars side by side, counts in the tooltips.
        ReliabilityChart two = TrainingCharts.Reliability([("a", bins), ("b", bins)]);
        Assert.All(Groups(two.ToSvg()), grp => Assert.Contains(Named(grp, "title"), t => t.Value.EndsWith(": 24 rows", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_binary_training_report_has_roc_and_pr_curves_with_the_auc_and_names_the_bins()
    {
        (PipelineResult result, Dataset data, int[] truth) = Train("breast_cancer.csv");
        Assert.Equal(result.Split.Test.Select(r => data.Labels[r]), truth);
        RankingMetrics ranking = RankingMetrics.Compute(truth, result.Evaluation.Probabilities, 2);
        Assert.Equal(ranking.RocAuc, TrainingReport.RankingOf(result.Evaluation, 2, truth)!.RocAuc);

        HtmlReport report = TrainingReport.Build(result, "{}", "breast_cancer.csv", truth);
        Assert.Equal(new[] { "loss", "loss-epoch", "accuracy", "accuracy-epoch", "confusion", "recall", "reliability", "roc", "pr" }, report.Charts.Select(c => c.Stem));
        string html = File.ReadAllText(report.Write(_dir));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"ROC AUC {ranking.RocAuc:F4}, average precision {ranking.AveragePrecision:F4}"), html);
        Assert.Contains("over 15 equal-width bins", html);
        Assert.Contains("Reliability diagram (15 bins)", html);

        var roc = (LineChart)report.Charts.Single(c => c.Stem == "roc").Chart;
        Assert.Contains($"positive class: {data.ClassNames[1]}", roc.Title);
        Assert.Equal(ranking.Roc.X, roc.Series.Single().X);
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"run (AUC {ranking.RocAuc:F4})"), roc.Series.Single().Legend);
        Assert.Contains("chance", File.ReadAllText(Path.Combine(_dir, "roc.svg")));
        var pr = (LineChart)report.Charts.Single(c => c.Stem == "pr").Chart;
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"run (AP {ranking.AveragePrecision:F4})"), pr.Series.Single().Legend);
        Assert.Equal(ranking.ChanceAveragePrecision, pr.ReferenceLines.Single().Y);
        Assert.Equal((double)truth.Count(t => t == 1) / truth.Length, ranking.ChanceAveragePrecision, 12);
    }

    [Fact]
    public void A_multi_class_training_report_has_macro_curves_and_without_labels_says_why_it_has_none()
    {
        (PipelineResult result, Dataset _, int[] truth) = Train("iris.csv");
        HtmlReport report = TrainingReport.Build(result, "{}", "iris.csv", truth);
        var roc = (LineChart)report.Charts.Single(c => c.Stem == "roc").Chart;
        Assert.Contains("macro average, one-vs-rest", roc.Title);
        Assert.Equal(RankingMetrics.MacroGridPoints + 1, roc.Series.Single().X.Count);
        string html = report.ToHtml();
        RankingMetrics ranking = RankingMetrics.Compute(truth, result.Evaluation.Probabilities, 3);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"macro ROC AUC (one-vs-rest) {ranking.RocAuc:F4}"), html);

        HtmlReport without = TrainingReport.Build(result with { Evaluation = result.Evaluation with { Truth = null } }, "{}", "iris.csv");
        Assert.DoesNotContain(without.Charts, c => c.Stem is "roc" or "pr");
        Assert.Contains("No ROC or precision-recall curves", without.ToHtml());

        Assert.Throws<ArgumentException>(() => TrainingReport.Build(result, "{}", "iris.csv", [0, 1]));
        Assert.Throws<ArgumentException>(() => TrainingReport.EvaluatedLabels(result, CsvDatasetReader.Read(DataTests.RepoFile("data", "breast_cancer.csv")).Subset([0, 1, 2])));
    }
}
