using System.Globalization;
using System.Text.Json;
using Xent.Metrics;
using Xent.Training;

namespace Xent.Reports;

/// <summary>The HTML report of one training run (xent train).</summary>
public static class TrainingReport
{
    /// <summary>Builds the report.</summary>
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
        report.Chart("confusion", TrainingCharts.Confusion(m, classes));
        report.Chart("recall", TrainingCharts.Recall([("run", m)], classes));
        report.Chart("reliability", TrainingCharts.Reliability([("run", result.Evaluation.Reliability)]));
        report.Preformatted(ClassificationReport.Format(m, classes));
        report.Heading("Configuration");
        using JsonDocument config = JsonDocument.Parse(configJson);
        report.Table("config.json", ["option", "value"], config.RootElement.EnumerateObject().Select(p => (IReadOnlyList<string>)[p.Name, p.Value.ToString()]));
        return report;
    }
}
