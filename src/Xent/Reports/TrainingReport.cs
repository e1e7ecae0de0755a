using System.Globalization;
using System.Text.Json;
using Xent.Metrics;
using Xent.Training;

namespace Xent.Reports;

/// <summary>The HTML report of one training run (xent train).</summary>
public static class TrainingReport
{
    /// <summary>
    /// Builds the report. Its size does not grow with the run's length (long curves are decimated, see
    /// <see cref="LineChart.MaxPoints"/>) nor, above <see cref="TrainingCharts.MaxGridClasses"/> classes, with the class
    /// count: the confusion matrix becomes the largest confusions, and the per-class chart and table show the lowest and
    /// highest classes only.
    /// </summary>
    /// <param name="result">The pipeline's result.</param>
    /// <param name="configJson">The options as JSON (config.json).</param>
    /// <param name="dataName">The data file's name.</param>
    /// <returns>The report, ready to write.</returns>
    public static HtmlReport Build(PipelineResult result, string configJson, string dataName)
    {
        ArgumentNullException.ThrowIfNull(result);
        IReadOnlyList<string> classes = result.Info.ClassNames;
        ClassificationMetrics m = result.Evaluation.Metrics;
        var report = new HtmlReport($"Xent training report: {dataName}");
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"Scored on the {result.EvaluatedOn} split ({m.Confusion.Total} rows): accuracy {m.Accuracy:F4}, balanced accuracy {m.BalancedAccuracy:F4}, macro-F1 {m.MacroF1:F4}, log loss {result.Evaluation.LogLoss:F4}, ECE {result.Evaluation.ExpectedCalibrationError:F4}."));
        report.Heading("Curves");
        (string, TrainingHistory)[] runs = [("run", result.Training.History)];
        report.Chart("loss", TrainingCharts.Loss(runs));
        report.Chart("accuracy", TrainingCharts.Accuracy(runs));
        report.Heading("Per class");
        report.Chart("confusion", TrainingCharts.ConfusionChart(m, classes));
        report.Chart("recall", TrainingCharts.Recall([("run", m)], classes));
        report.Chart("reliability", TrainingCharts.Reliability([("run", result.Evaluation.Reliability)]));
        if (classes.Count <= TrainingCharts.MaxGridClasses)
        {
            report.Preformatted(ClassificationReport.Format(m, classes));
        }
        else
        {
            ScoreTable(report, m, classes);
        }

        report.Heading("Configuration");
        using JsonDocument config = JsonDocument.Parse(configJson);
        report.Table("config.json", ["option", "value"], config.RootElement.EnumerateObject().Select(p => (IReadOnlyList<string>)[p.Name, p.Value.ToString()]));
        return report;
    }

    /// <summary>Per-class scores of the 15 classes with the lowest F1 and the 15 with the highest, then the averages.</summary>
    private static void ScoreTable(HtmlReport report, ClassificationMetrics m, IReadOnlyList<string> classes)
    {
        int half = TrainingCharts.MaxGridClasses / 2;
        int[] ranked = [.. Enumerable.Range(0, classes.Count).OrderBy(c => m.PerClass[c].F1).ThenBy(c => c)];
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        IReadOnlyList<string> Row(int c) => [classes[c], F(m.PerClass[c].Precision), F(m.PerClass[c].Recall), F(m.PerClass[c].F1), m.PerClass[c].Support.ToString(CultureInfo.InvariantCulture)];
        string total = m.Confusion.Total.ToString(CultureInfo.InvariantCulture);
        IReadOnlyList<string>[] rows =
        [
            .. ranked.Take(half).Select(Row),
            ["…", "…", "…", "…", "…"],
            .. ranked.Skip(ranked.Length - half).Select(Row),
            ["accuracy", string.Empty, string.Empty, F(m.Accuracy), total],
            ["macro avg", F(m.MacroPrecision), F(m.MacroRecall), F(m.MacroF1), total],
            ["weighted avg", F(m.WeightedPrecision), F(m.WeightedRecall), F(m.WeightedF1), total],
        ];
        report.Table(
            string.Create(CultureInfo.InvariantCulture, $"Per-class scores: the {half} classes with the lowest F1 and the {half} with the highest, of {classes.Count} (report.txt and metrics.json have every class)"),
            ["class", "precision", "recall", "f1-score", "support"],
            rows);
    }
}
