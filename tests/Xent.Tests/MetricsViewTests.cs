using System.Text.Json;
using Spectre.Console;
using Xent.Cli;
using Xent.Cli.Training;
using Xent.Data;
using Xent.Metrics;
using Xent.Reports;
using Xent.Training;

namespace Xent.Tests;

/// <summary>metrics.json and the console tables of evaluation results: names are never cut, whatever the console's width.</summary>
public sealed class MetricsViewTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string LongName = "a-class-name-far-too-long-for-any-table-column-on-an-eighty-column-console-xyz";

    /// <summary>A console that writes to <paramref name="writer"/>, <paramref name="width"/> columns wide, as the CLI makes it.</summary>
    internal static CliContext Console(StringWriter writer, int width)
    {
        var context = new CliContext(writer, new StringWriter());
        context.Console.Profile.Width = width;
        return context;
    }

    private static (PipelineResult Result, Dataset Data, int[] Truth) Train(string file, int epochs)
    {
        Dataset data = CsvDatasetReader.Read(DataTests.RepoFile("data", file));
        PipelineResult result = TrainingPipeline.Run(data, new PipelineOptions { Trainer = new TrainerOptions { Epochs = epochs } });
        return (result, data, TrainingReport.EvaluatedLabels(result, data));
    }

    private static EvaluationResult Evaluation(int[] truth, int[] predicted, float[] proba, int classes) =>
        new(proba, predicted, ClassificationMetrics.Compute(truth, predicted, classes), 0.4, 0.05, Calibration.Reliability(truth, proba, classes));

    [Fact]
    public void Metrics_json_has_roc_auc_average_precision_and_the_bin_count()
    {
        (PipelineResult result, Dataset data, int[] truth) = Train("iris.csv", epochs: 2);
        RankingMetrics ranking = RankingMetrics.Compute(truth, result.Evaluation.Probabilities, 3);
        using JsonDocument json = JsonDocument.Parse(Xent.Cli.Training.MetricsView.ToJson(result.Evaluation, data.ClassNames, "test", truth));
        JsonElement root = json.RootElement;
        Assert.Equal(ranking.RocAuc, root.GetProperty("roc_auc").GetDouble());
        Assert.Equal(ranking.AveragePrecision, root.GetProperty("average_precision").GetDouble());
        Assert.Equal(15, root.GetProperty("ece_bins").GetInt32());
        Assert.Equal("macro", root.GetProperty("ranking").GetProperty("average").GetString());
        Assert.Equal(3, root.GetProperty("ranking").GetProperty("classes_averaged").GetInt32());
        Assert.Equal(ranking.PerClassRocAuc[2], root.GetProperty("per_class")[2].GetProperty("roc_auc").GetDouble());

        // The evaluation carries its rows' classes; without them there is no ranking metric.
        Assert.Equal(root.GetProperty("roc_auc").GetDouble(), JsonDocument.Parse(Xent.Cli.Training.MetricsView.ToJson(result.Evaluation, data.ClassNames, "test")).RootElement.GetProperty("roc_auc").GetDouble());
        using JsonDocument bare = JsonDocument.Parse(Xent.Cli.Training.MetricsView.ToJson(result.Evaluation with { Truth = null }, data.ClassNames, "test"));
        Assert.Equal(JsonValueKind.Null, bare.RootElement.GetProperty("roc_auc").ValueKind);
        Assert.Equal(JsonValueKind.Null, bare.RootElement.GetProperty("ranking").ValueKind);
    }
    [Fact]
    public void The_per_class_table_never_cuts_a_class_name_on_an_80_column_console()
    {
        int[] truth = [0, 0, 1, 1, 0, 1];
        int[] predicted = [0, 1, 1, 1, 0, 0];
        float[] proba = [0.8f, 0.2f, 0.4f, 0.6f, 0.3f, 0.7f, 0.1f, 0.9f, 0.6f, 0.4f, 0.55f, 0.45f];
        EvaluationResult e = Evaluation(truth, predicted, proba, 2);

        var writer = new StringWriter();
        MetricsView.Render(Console(writer, 80).Console, e, ["short", LongName], "test split (6 rows)", truth);
        string text = writer.ToString();
        output.WriteLine(text);
        string[] lines = text.Split('\n');
        Assert.Contains(lines, l => l.TrimEnd() == LongName);
        Assert.DoesNotContain("…", text);
        Assert.All(lines.Where(l => !l.Contains(LongName, StringComparison.Ordinal) && l.Length > 0), l => Assert.True(l.TrimEnd().Length <= 80, $"line longer than the console: '{l}'"));
        RankingMetrics ranking = RankingMetrics.Compute(truth, proba, 2);
        Assert.Contains(FormattableString.Invariant($"ROC AUC {ranking.RocAuc:F4}"), text);
        Assert.Contains(lines, l => l.TrimEnd() == FormattableString.Invariant($"average precision {ranking.AveragePrecision:F4} (positive class {LongName})"));
        Assert.Contains("ECE 0.0500 (15 bins)", text);

        // With short names the same results are tables, which fit.
        var narrow = new StringWriter();
        MetricsView.Render(Console(narrow, 80).Console, e, ["a", "b"], "test split (6 rows)");
        Assert.Contains("╭", narrow.ToString());
        Assert.DoesNotContain("ROC AUC", narrow.ToString()); // no true classes given
        Assert.All(narrow.ToString().Split('\n'), l => Assert.True(l.TrimEnd().Length <= 80, $"line longer than the console: '{l}'"));
    }

    [Fact]
    public void A_table_that_fits_is_drawn_with_borders_and_one_that_does_not_is_written_as_plain_lines()
    {
        IReadOnlyList<string>[] rows = [["1. " + LongName, "0.9000 ± 0.0100", "0.8000 ± 0.0200"], [], ["2. b", "0.7000 ± 0.0000", "-"]];
        var wide = new StringWriter();
        MetricsView.WriteTable(Console(wide, 200).Console, "Ranked", ["run", "accuracy", "macro_f1"], rows);
        Assert.Contains("╭", wide.ToString());
        Assert.Contains("1. " + LongName + " ", wide.ToString());

        var narrow = new StringWriter();
        MetricsView.WriteTable(Console(narrow, 80).Console, "Ranked", ["run", "accuracy", "macro_f1"], rows);
        Assert.Equal(
            "Ranked\n1. " + LongName + "\n   accuracy 0.9000 ± 0.0100   macro_f1 0.8000 ± 0.0200\n\n2. b\n   accuracy 0.7000 ± 0.0000   macro_f1 -\n",
            narrow.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_confusion_matrix_too_wide_for_the_console_is_a_numbered_grid_or_the_largest_confusions()
    {
        string[] twelve = [.. Enumerable.Range(0, 12).Select(c => $"class-number-{c}")];
        int[] truth = [.. Enumerable.Range(0, 120).Select(i => i % 12)];
        int[] predicted = [.. truth.Select((t, i) => i % 5 == 0 ? (t + 1) % 12 : t)];
        float[] proba = [.. truth.SelectMany((_, i) => Enumerable.Range(0, 12).Select(c => c == predicted[i] ? 0.89f : 0.01f))];
        var writer = new StringWriter();
        MetricsView.Render(Console(writer, 80).Console, Evaluation(truth, predicted, proba, 12), twelve, "12 classes");
        string text = writer.ToString();
        output.WriteLine(text);
        Assert.Contains("confusion matrix (rows: true, columns: predicted), classes by number:", text);
        Assert.Contains("  11 class-number-11", text);
        Assert.DoesNotContain("…", text);

        string[] forty = [.. Enumerable.Range(0, 40).Select(c => $"c{c}")];
        int[] t40 = [.. Enumerable.Range(0, 400).Select(i => i % 40)];
        int[] p40 = [.. t40.Select((t, i) => i < 40 ? (t + 1) % 40 : t)];
        float[] q40 = [.. t40.SelectMany((_, i) => Enumerable.Range(0, 40).Select(c => c == p40[i] ? 0.61f : 0.01f))];
        var many = new StringWriter();
        MetricsView.Render(Console(many, 80).Console, Evaluation(t40, p40, q40, 40), forty, "40 classes");
        Assert.Contains("largest confusions (true → predicted, rows), 30 of them", many.ToString());
        Assert.Contains("  c0 → c1: 1", many.ToString());
    }
}
