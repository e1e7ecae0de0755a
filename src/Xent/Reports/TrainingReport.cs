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
    /// <param name="truth">
    /// The true class of each evaluated row, in the order of <see cref="EvaluationResult.Probabilities"/> (see
    /// <see cref="EvaluatedLabels"/>), or null. With them the report has ROC and precision-recall curves, ROC AUC and
    /// average precision (<see cref="RankingMetrics"/>); without them it leaves them out and says so.
    /// </param>
    /// <returns>The report, ready to write.</returns>
    /// <exception cref="ArgumentException"><paramref name="truth"/> does not have one class per evaluated row.</exception>
    public static HtmlReport Build(PipelineResult result, string configJson, string dataName, IReadOnlyList<int>? truth = null)
    {
        truth ??= result.Evaluation.Truth;
        ArgumentNullException.ThrowIfNull(result);
        IReadOnlyList<string> classes = result.Info.ClassNames;
        EvaluationResult e = result.Evaluation;
        ClassificationMetrics m = e.Metrics;
        RankingMetrics? ranking = RankingOf(e, classes.Count, truth);
        var report = new HtmlReport($"Xent training report: {dataName}");
        string auc = ranking is null
            ? " No ROC or precision-recall curves: the report was not given the true classes of the evaluated rows."
            : string.Create(CultureInfo.InvariantCulture, $", {(ranking.IsBinary ? "ROC AUC" : "macro ROC AUC (one-vs-rest)")} {ranking.RocAuc:F4}, {(ranking.IsBinary ? "average precision" : "macro average precision")} {ranking.AveragePrecision:F4}.");
        report.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"Scored on the {result.EvaluatedOn} split ({m.Confusion.Total} rows): accuracy {m.Accuracy:F4}, balanced accuracy {m.BalancedAccuracy:F4}, macro-F1 {m.MacroF1:F4}, log loss {e.LogLoss:F4}, ECE {e.ExpectedCalibrationError:F4} over {e.EceBins} equal-width bins") + (ranking is null ? "." + auc : auc));
        report.Heading("Curves");
        (string, TrainingHistory)[] runs = [("run", result.Training.History)];
        report.Chart("loss", TrainingCharts.Loss(runs));
        report.Chart("loss-epoch", TrainingCharts.EpochLoss(runs));
        report.Chart("accuracy", TrainingCharts.Accuracy(runs));
        report.Chart("accuracy-epoch", TrainingCharts.EpochAccuracy(runs));
        report.Heading("Per class");
        report.Chart("confusion", TrainingCharts.ConfusionChart(m, classes));
        report.Chart("recall", TrainingCharts.Recall([("run", m)], classes));
        report.Heading("Probabilities");
        report.Chart("reliability", TrainingCharts.Reliability([("run", e.Reliability)]));
        if (ranking is not null)
        {
            report.Chart("roc", TrainingCharts.Roc([("run", ranking)], classes));
            report.Chart("pr", TrainingCharts.PrecisionRecall([("run", ranking)], classes));
        }

        report.Heading("Scores");
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

    /// <summary>
    /// The true classes of the rows a pipeline run was scored on, in the order of its probabilities: the labels of the
    /// test split's rows (or the validation or training split's, as <see cref="PipelineResult.EvaluatedOn"/> says).
    /// </summary>
    /// <param name="result">The pipeline's result.</param>
    /// <param name="data">The dataset the pipeline ran on.</param>
    /// <returns>One class per evaluated row.</returns>
    /// <exception cref="ArgumentException">The split does not match the evaluated rows (another dataset).</exception>
    public static int[] EvaluatedLabels(PipelineResult result, Xent.Data.Dataset data)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(data);
        int[] rows = result.EvaluatedOn switch
        {
            "test" => result.Split.Test,
            "validation" => result.Split.Validation,
            _ => result.Split.Train,
        };
        if (rows.Length != result.Evaluation.Predicted.Length || rows.Any(r => (uint)r >= (uint)data.Count))
        {
            throw new ArgumentException($"The {result.EvaluatedOn} split has {rows.Length} rows but {result.Evaluation.Predicted.Length} were evaluated, or it does not index this dataset ({data.Count} rows).", nameof(data));
        }

        return [.. rows.Select(r => data.Labels[r])];
    }

    /// <summary>The ranking metrics (ROC AUC, average precision, curves) of an evaluation, or null when the true classes or the probabilities are missing.</summary>
    /// <param name="e">The evaluation.</param>
    /// <param name="classes">C.</param>
    /// <param name="truth">The true class of each evaluated row, or null.</param>
    /// <returns>The metrics, or null.</returns>
    /// <exception cref="ArgumentException"><paramref name="truth"/> does not have one class per evaluated row.</exception>
    public static RankingMetrics? RankingOf(EvaluationResult e, int classes, IReadOnlyList<int>? truth)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (truth is null || classes < 2 || e.Probabilities.Length == 0)
        {
            return null;
        }

        if (truth.Count != e.Predicted.Length || e.Probabilities.Length != (long)truth.Count * classes)
        {
            throw new ArgumentException($"{truth.Count} true labels for {e.Predicted.Length} evaluated rows of {classes} classes ({e.Probabilities.Length} probabilities).", nameof(truth));
        }

        return RankingMetrics.Compute([.. truth], e.Probabilities, classes);
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
