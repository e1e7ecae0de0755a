using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;
using Xent.Metrics;
using Xent.Reports;
using Xent.Training;

namespace Xent.Cli.Training;

/// <summary>
/// Shows evaluation results as tables, and writes them as metrics.json. Tables never cut a name: a table that is wider
/// than the console is written as plain lines instead (see <see cref="WriteTable"/>).
/// </summary>
internal static class MetricsView
{
    /// <summary>Writes the per-class table, the summary line and the confusion matrix.</summary>
    /// <param name="console">The console.</param>
    /// <param name="e">The evaluation.</param>
    /// <param name="classes">Class names.</param>
    /// <param name="title">The per-class table's title.</param>
    /// <param name="truth">The true class of each evaluated row (for ROC AUC and average precision), or null to leave them out.</param>
    public static void Render(IAnsiConsole console, EvaluationResult e, IReadOnlyList<string> classes, string title, IReadOnlyList<int>? truth = null)
    {
        truth ??= e.Truth;
        ClassificationMetrics m = e.Metrics;
        string total = m.Confusion.Total.ToString(CultureInfo.InvariantCulture);
        var rows = new List<IReadOnlyList<string>>();
        for (int c = 0; c < classes.Count; c++)
        {
            ClassScores s = m.PerClass[c];
            rows.Add([classes[c], F(s.Precision), F(s.Recall), F(s.F1), s.Support.ToString(CultureInfo.InvariantCulture)]);
        }

        rows.Add([]);
        rows.Add(["accuracy", string.Empty, string.Empty, F(m.Accuracy), total]);
        rows.Add(["macro avg", F(m.MacroPrecision), F(m.MacroRecall), F(m.MacroF1), total]);
        rows.Add(["weighted avg", F(m.WeightedPrecision), F(m.WeightedRecall), F(m.WeightedF1), total]);
        WriteTable(console, title, ["class", "precision", "recall", "f1-score", "support"], rows);

        var summary = new List<string> { $"balanced accuracy {F(m.BalancedAccuracy)}", $"log loss {F(e.LogLoss)}", $"ECE {F(e.ExpectedCalibrationError)} ({e.EceBins} bins)" };
        if (TrainingReport.RankingOf(e, classes.Count, truth) is { } ranking)
        {
            summary.AddRange(ranking.IsBinary
                ? [$"ROC AUC {F(ranking.RocAuc)}", $"average precision {F(ranking.AveragePrecision)} (positive class {classes[1]})"]
                : [$"macro ROC AUC {F(ranking.RocAuc)}", $"macro average precision {F(ranking.AveragePrecision)} (one-vs-rest)"]);
        }

        foreach (string line in Pack(summary, console.Profile.Width, string.Empty))
        {
            WriteLine(console, line);
        }
        Confusion(console, m, classes);
    }

    /// <summary>
    /// The confusion matrix: a table when it fits the console; otherwise, up to 30 classes, a plain grid with class
    /// numbers as columns (lines may be long but nothing is cut), and above that the 30 largest confusions.
    /// </summary>
    private static void Confusion(IAnsiConsole console, ClassificationMetrics m, IReadOnlyList<string> classes)
    {
        const string title = "confusion matrix (rows: true, columns: predicted)";
        int c = classes.Count;
        var cm = new Table().Border(TableBorder.Rounded).Title(title);
        cm.AddColumn(new TableColumn(string.Empty).NoWrap());
        foreach (string name in classes)
        {
            cm.AddColumn(new TableColumn(Markup.Escape(name)).RightAligned().NoWrap());
        }

        for (int t = 0; t < c; t++)
        {
            var row = new List<string> { Markup.Escape(classes[t]) };
            for (int p = 0; p < c; p++)
            {
                long count = m.Confusion.Counts[t, p];
                row.Add(t == p ? $"[bold]{count}[/]" : count.ToString(CultureInfo.InvariantCulture));
            }

            cm.AddRow([.. row]);
        }

        if (Fits(console, cm))
        {
            console.Write(cm);
            return;
        }

        TextWriter w = console.Profile.Out.Writer;
        if (c <= TrainingCharts.MaxGridClasses)
        {
            w.WriteLine(title + ", classes by number:");
            int digits = c.ToString(CultureInfo.InvariantCulture).Length;
            for (int k = 0; k < c; k++)
            {
                w.WriteLine($"  {k.ToString(CultureInfo.InvariantCulture).PadLeft(digits)} {classes[k]}");
            }

            int width = Math.Max(digits, Enumerable.Range(0, c).SelectMany(t => Enumerable.Range(0, c).Select(p => m.Confusion.Counts[t, p])).Max().ToString(CultureInfo.InvariantCulture).Length);
            w.WriteLine(string.Empty.PadLeft(digits + 2) + string.Concat(Enumerable.Range(0, c).Select(p => " " + p.ToString(CultureInfo.InvariantCulture).PadLeft(width))));
            for (int t = 0; t < c; t++)
            {
                w.WriteLine("  " + t.ToString(CultureInfo.InvariantCulture).PadLeft(digits) + string.Concat(Enumerable.Range(0, c).Select(p => " " + m.Confusion.Counts[t, p].ToString(CultureInfo.InvariantCulture).PadLeft(width))));
            }

            return;
        }

        Xent.Reports.BarChart top = TrainingCharts.TopConfusions(m, classes);
        w.WriteLine($"largest confusions (true → predicted, rows), {top.Categories.Count} of them; metrics.json has the whole matrix:");
        for (int i = 0; i < top.Categories.Count; i++)
        {
            w.WriteLine($"  {top.Categories[i]}: {top.Series[0].Values[i].ToString(CultureInfo.InvariantCulture)}");
        }
    }

    /// <summary>
    /// Writes a table whose first column holds names (classes, runs): a Spectre table when it fits the console's width,
    /// with no column wrapped or cut; otherwise plain lines, one block per row: the name on a line of its own, then its
    /// "header value" pairs, packed into lines of the console's width. An empty row is a separator.
    /// </summary>
    /// <param name="console">The console.</param>
    /// <param name="title">The title.</param>
    /// <param name="headers">Column headers.</param>
    /// <param name="rows">Rows of plain text (not markup).</param>
    public static void WriteTable(IAnsiConsole console, string title, IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title));
        for (int i = 0; i < headers.Count; i++)
        {
            var column = new TableColumn(Markup.Escape(headers[i])).NoWrap();
            table.AddColumn(i == 0 ? column : column.RightAligned());
        }

        foreach (IReadOnlyList<string> row in rows)
        {
            if (row.Count == 0)
            {
                table.AddEmptyRow();
            }
            else
            {
                table.AddRow([.. row.Select(Markup.Escape)]);
            }
        }

        if (Fits(console, table))
        {
            console.Write(table);
            return;
        }

        TextWriter w = console.Profile.Out.Writer;
        int width = Math.Max(40, console.Profile.Width);
        w.WriteLine(title);
        foreach (IReadOnlyList<string> row in rows)
        {
            if (row.Count == 0)
            {
                w.WriteLine();
                continue;
            }

            w.WriteLine(row[0]);
            IEnumerable<string> items = Enumerable.Range(1, Math.Min(row.Count, headers.Count) - 1).Where(i => row[i].Length > 0).Select(i => headers[i] + " " + row[i]);
            foreach (string line in Pack([.. items], width, "   "))
            {
                w.WriteLine(line);
            }
        }
    }

    /// <summary>Items joined by three spaces into lines of at most <paramref name="width"/> characters (an item longer than that gets a line of its own).</summary>
    private static IEnumerable<string> Pack(IReadOnlyList<string> items, int width, string indent)
    {
        var line = new StringBuilder(indent);
        foreach (string item in items)
        {
            if (line.Length > indent.Length && line.Length + 3 + item.Length > width)
            {
                yield return line.ToString();
                line.Clear().Append(indent);
            }

            line.Append(line.Length > indent.Length ? "   " : string.Empty).Append(item);
        }

        if (line.Length > indent.Length)
        {
            yield return line.ToString();
        }
    }

    /// <summary>Writes a line as it is, without Spectre's wrapping (which would break a long name).</summary>
    public static void WriteLine(IAnsiConsole console, string text) => console.Profile.Out.Writer.WriteLine(text);

    /// <summary>Whether the table, at its natural width, fits the console's width.</summary>
    private static bool Fits(IAnsiConsole console, Table table)
    {
        Measurement measure = ((IRenderable)table).Measure(RenderOptions.Create(console), int.MaxValue);
        return measure.Max <= console.Profile.Width;
    }

    /// <summary>metrics.json: the scores, per class, the confusion matrix, the reliability bins, and ROC AUC and average precision when the true classes are given.</summary>
    /// <param name="e">The evaluation.</param>
    /// <param name="classes">Class names.</param>
    /// <param name="split">The split scored.</param>
    /// <param name="truth">The true class of each evaluated row, or null (then roc_auc and average_precision are null).</param>
    /// <returns>The JSON text.</returns>
    public static string ToJson(EvaluationResult e, IReadOnlyList<string> classes, string split, IReadOnlyList<int>? truth = null)
    {
        truth ??= e.Truth;
        ClassificationMetrics m = e.Metrics;
        RankingMetrics? r = TrainingReport.RankingOf(e, classes.Count, truth);
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
            ece_bins = e.EceBins,
            roc_auc = N(r?.RocAuc),
            average_precision = N(r?.AveragePrecision),
            ranking = r is null ? null : new
            {
                average = r.IsBinary ? "binary" : "macro",
                positive_class = r.IsBinary ? classes[1] : null,
                classes_averaged = r.AveragedClasses,
            },
            per_class = classes.Select((c, i) => new
            {
                @class = c,
                precision = m.PerClass[i].Precision,
                recall = m.PerClass[i].Recall,
                f1 = m.PerClass[i].F1,
                support = m.PerClass[i].Support,
                roc_auc = N(r?.PerClassRocAuc[i]),
                average_precision = N(r?.PerClassAveragePrecision[i]),
            }),
            confusion = Enumerable.Range(0, classes.Count).Select(t => Enumerable.Range(0, classes.Count).Select(p => m.Confusion.Counts[t, p])),
            reliability = e.Reliability.Select(b => new { lower = b.Lower, upper = b.Upper, count = b.Count, confidence = N(b.Confidence), accuracy = N(b.Accuracy) }),
        }, new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>A number for JSON: null when it is missing or not finite.</summary>
    internal static double? N(double? v) => v is double d && double.IsFinite(d) ? d : null;

    private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString("F4", CultureInfo.InvariantCulture);
}
