using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Xent.Metrics;
using Xent.Training;

namespace Xent.Cli.Training;

/// <summary>Shows evaluation results as tables, and writes them as metrics.json.</summary>
internal static class MetricsView
{
    public static void Render(IAnsiConsole console, EvaluationResult e, IReadOnlyList<string> classes, string title)
    {
        ClassificationMetrics m = e.Metrics;
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title));
        table.AddColumns(new TableColumn("class"), new TableColumn("precision").RightAligned(), new TableColumn("recall").RightAligned(), new TableColumn("f1-score").RightAligned(), new TableColumn("support").RightAligned());
        for (int c = 0; c < classes.Count; c++)
        {
            ClassScores s = m.PerClass[c];
            table.AddRow(Markup.Escape(classes[c]), F(s.Precision), F(s.Recall), F(s.F1), s.Support.ToString(CultureInfo.InvariantCulture));
        }

        long total = m.Confusion.Total;
        table.AddEmptyRow();
        table.AddRow("accuracy", string.Empty, string.Empty, F(m.Accuracy), total.ToString(CultureInfo.InvariantCulture));
        table.AddRow("macro avg", F(m.MacroPrecision), F(m.MacroRecall), F(m.MacroF1), total.ToString(CultureInfo.InvariantCulture));
        table.AddRow("weighted avg", F(m.WeightedPrecision), F(m.WeightedRecall), F(m.WeightedF1), total.ToString(CultureInfo.InvariantCulture));
        console.Write(table);
        console.MarkupLine($"balanced accuracy {F(m.BalancedAccuracy)}   log loss {F(e.LogLoss)}   ECE {F(e.ExpectedCalibrationError)}");

        var cm = new Table().Border(TableBorder.Rounded).Title("confusion matrix (rows: true, columns: predicted)");
        cm.AddColumn(new TableColumn(string.Empty));
        foreach (string c in classes)
        {
            cm.AddColumn(new TableColumn(Markup.Escape(c)).RightAligned());
        }

        for (int t = 0; t < classes.Count; t++)
        {
            var row = new List<string> { Markup.Escape(classes[t]) };
            for (int p = 0; p < classes.Count; p++)
            {
                long count = m.Confusion.Counts[t, p];
                row.Add(t == p ? $"[bold]{count}[/]" : count.ToString(CultureInfo.InvariantCulture));
            }

            cm.AddRow([.. row]);
        }

        console.Write(cm);
    }

    public static string ToJson(EvaluationResult e, IReadOnlyList<string> classes, string split)
    {
        ClassificationMetrics m = e.Metrics;
        return JsonSerializer.Serialize(new
        {
            split,
            rows = m.Confusion.Total,
            accuracy = m.Accuracy,
            balanced_accuracy = m.BalancedAccuracy,
            macro_f1 = m.MacroF1,
            weighted_f1 = m.WeightedF1,
            log_loss = e.LogLoss,
            ece = e.ExpectedCalibrationError,
            per_class = classes.Select((c, i) => new { @class = c, precision = m.PerClass[i].Precision, recall = m.PerClass[i].Recall, f1 = m.PerClass[i].F1, support = m.PerClass[i].Support }),
            confusion = Enumerable.Range(0, classes.Count).Select(t => Enumerable.Range(0, classes.Count).Select(p => m.Confusion.Counts[t, p])),
            reliability = e.Reliability.Select(b => new { lower = b.Lower, upper = b.Upper, count = b.Count, confidence = double.IsNaN(b.Confidence) ? (double?)null : b.Confidence, accuracy = double.IsNaN(b.Accuracy) ? (double?)null : b.Accuracy }),
        }, new JsonSerializerOptions { WriteIndented = true });
    }

    private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString("F4", CultureInfo.InvariantCulture);
}
