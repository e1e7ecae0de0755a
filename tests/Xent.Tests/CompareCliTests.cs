using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using Xent.Cli;
using Xent.Cli.Commands;
using Xent.Cli.Training;
using Xent.Data;
using Xent.Reports;

namespace Xent.Tests;

public sealed class CompareCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-compare-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Cli.Run(args);

    [Fact]
    public void Compare_ranks_runs_and_writes_a_report_with_overlaid_curves()
    {
        string dir = Path.Combine(_dir, "cmp");
        var (code, output, error) = Run("compare", "--data", DataTests.RepoFile("data", "iris.csv"), "--run", "ce=", "--run", "smooth=--label-smoothing 0.1",
            "--common", "--epochs 15", "--repeats", "2", "--rank-by", "log_loss", "--out", dir);
        Assert.True(code == 0, error);
        Assert.Contains("Ranked by log_loss against ce", output);
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        var runs = summary.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, runs.Count);
        Assert.Equal("ce", runs.Single(r => r.GetProperty("is_baseline").GetBoolean()).GetProperty("run").GetString());

        // smooth ranks apart from the baseline exactly when the paired t-test on log loss says p < 0.05, on the side its mean says.
        JsonElement smooth = runs.Single(r => r.GetProperty("run").GetString() == "smooth"), ce = runs.Single(r => r.GetProperty("run").GetString() == "ce");
        JsonElement logLoss = smooth.GetProperty("metrics").GetProperty("log_loss");
        double p = logLoss.GetProperty("p_value").GetDouble();
        int expected = p >= 0.05 ? 1 : logLoss.GetProperty("diff_mean").GetDouble() < 0 ? 1 : 2;
        Assert.Equal(expected, smooth.GetProperty("rank").GetInt32());
        Assert.Equal(p < 0.05 && logLoss.GetProperty("diff_mean").GetDouble() < 0 ? 2 : 1, ce.GetProperty("rank").GetInt32());
        Assert.Equal(2, runs[0].GetProperty("metrics").GetProperty("accuracy").GetProperty("values").GetArrayLength());
        string loss = File.ReadAllText(Path.Combine(dir, "loss.svg"));
        Assert.Contains("data-series=\"ce train\"", loss);
        Assert.Contains("data-series=\"smooth validation\"", loss);
        Assert.True(File.Exists(Path.Combine(dir, "summary.csv")));
    }

    [Fact]
    public void Runs_rank_apart_from_the_baseline_only_where_a_paired_t_test_says_so()
    {
        // same: the baseline's options (a default spelled out), so identical results; slow: a 1-unit network at a tiny
        // learning rate, far worse on every repeat.
        string dir = Path.Combine(_dir, "paired");
        string[] common = ["compare", "--data", DataTests.RepoFile("data", "iris.csv"), "--run", "ce=", "--run", "same=--batch-size 32", "--run", "slow=--hidden 1 --lr 0.00001",
            "--common", "--epochs 15", "--repeats", "5", "--quiet"];
        var (code, output, error) = Run([.. common, "--out", dir]);
        Assert.True(code == 0, error);
        string[] lines = output.ReplaceLineEndings("\n").TrimEnd().Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Matches(@"^1\. ce: balanced_accuracy \d\.\d{4} ± \d\.\d{4} \(baseline\)$", lines[0]);
        Assert.Matches(@"^1\. same: balanced_accuracy \d\.\d{4} ± \d\.\d{4}; 0\.0000 ± 0\.0000 against ce, no significant difference \(p = 1, identical results\)$", lines[1]);
        Assert.Matches(@"^2\. slow: balanced_accuracy \d\.\d{4} ± \d\.\d{4}; −\d\.\d{4} ± \d\.\d{4} against ce, worse \(p = 0\.0\d+\)$", lines[2]);

        // summary.csv: the verdict, and per metric the paired difference and the p-value (empty for the baseline).
        string[] csv = File.ReadAllLines(Path.Combine(dir, "summary.csv"));
        string[] header = csv[0].Split(',');
        Assert.Equal(["rank", "run", "repeats", "baseline", "verdict"], header[..5]);
        string[][] rows = [.. csv[1..].Select(l => l.Split(','))];
        Assert.Equal(["1", "ce", "5", "ce", "baseline"], rows[0][..5]);
        Assert.Equal(["1", "same", "5", "ce", "no significant difference"], rows[1][..5]);
        Assert.Equal(["2", "slow", "5", "ce", "worse"], rows[2][..5]);
        int pColumn = Array.IndexOf(header, "balanced_accuracy_p_value");
        Assert.Equal(string.Empty, rows[0][pColumn]);
        Assert.Equal("1", rows[1][pColumn]);
        Assert.Equal("0", rows[1][Array.IndexOf(header, "balanced_accuracy_diff_mean")]);

        // The p-value is the paired t-test of the runs' values, repeat by repeat.
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        double[] Values(int run) => [.. summary.RootElement[run].GetProperty("metrics").GetProperty("balanced_accuracy").GetProperty("values").EnumerateArray().Select(v => v.GetDouble())];
        Xent.Metrics.PairedTTestResult test = Xent.Metrics.PairedTTest.Compute(Values(2), Values(0));
        Assert.Equal(test.PValue, double.Parse(rows[2][pColumn], CultureInfo.InvariantCulture));
        Assert.True(test.PValue < 0.05 && test.MeanDifference < 0);
        Assert.Equal(test.MeanDifference, summary.RootElement[2].GetProperty("metrics").GetProperty("balanced_accuracy").GetProperty("diff_mean").GetDouble());
        Assert.Equal("worse", summary.RootElement[2].GetProperty("verdict").GetString());
        Assert.Equal("identical results", summary.RootElement[1].GetProperty("metrics").GetProperty("accuracy").GetProperty("test").GetString());
        Assert.Equal(JsonValueKind.Null, summary.RootElement[0].GetProperty("metrics").GetProperty("accuracy").GetProperty("p_value").ValueKind);

        // The report says the same, in the same words.
        string html = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.Contains("no significant difference (p = 1, identical results)", html);
        Assert.Contains($"worse ({CompareCommand.P(test.PValue)})", html);
        Assert.Contains("paired t-test", html);

        // Against slow as the baseline, ce and same are better with the same p-value; the words follow the baseline.
        var (code2, output2, _) = Run([.. common, "--baseline", "slow", "--out", Path.Combine(_dir, "paired-slow")]);
        Assert.Equal(0, code2);
        string[] lines2 = output2.ReplaceLineEndings("\n").TrimEnd().Split('\n');
        Assert.StartsWith("1. ce: ", lines2[0]);
        Assert.EndsWith($"against slow, better ({CompareCommand.P(test.PValue)})", lines2[0]);
        Assert.StartsWith("1. same: ", lines2[1]);
        Assert.Matches(@"^2\. slow: .* \(baseline\)$", lines2[2]);
        Assert.DoesNotContain("better", output);
        Assert.DoesNotContain("worse", output2);
    }

    [Fact]
    public void A_run_can_score_its_models_with_post_hoc_logit_adjustment()
    {
        // The same training as ce (same options and seeds); only the decision rule moves towards the rare class.
        string data = TrainCliTests.WriteImbalanced(Path.Combine(_dir, "cats-dogs.csv"));
        string dir = Path.Combine(_dir, "posthoc");
        var (code, _, error) = Run("compare", "--data", data, "--run", "ce=", "--run", "posthoc=--logit-adjust 1", "--common", "--epochs 5 --hidden 16",
            "--repeats", "3", "--quiet", "--out", dir);
        Assert.True(code == 0, error);
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        JsonElement Run_(string name) => summary.RootElement.EnumerateArray().Single(r => r.GetProperty("run").GetString() == name);
        double DogRecall(string name) => Run_(name).GetProperty("recall").EnumerateArray().Single(c => c.GetProperty("class").GetString() == "dog").GetProperty("mean").GetDouble();
        Assert.True(DogRecall("posthoc") > DogRecall("ce"), $"dog recall: ce {DogRecall("ce")}, post-hoc {DogRecall("posthoc")}");
        double[] ce = [.. Run_("ce").GetProperty("metrics").GetProperty("balanced_accuracy").GetProperty("values").EnumerateArray().Select(v => v.GetDouble())];
        double[] adjusted = [.. Run_("posthoc").GetProperty("metrics").GetProperty("balanced_accuracy").GetProperty("values").EnumerateArray().Select(v => v.GetDouble())];
        Assert.All(Enumerable.Range(0, 3), r => Assert.True(adjusted[r] >= ce[r], $"repeat {r}: {adjusted[r]} < {ce[r]}"));
        Assert.Contains("post-hoc logit adjustment τ = 1", File.ReadAllText(Path.Combine(dir, "report.html")));
    }

    [Theory]
    [InlineData(0.42, "p = 0.42")]
    [InlineData(0.0496, "p = 0.0496")]
    [InlineData(0.04996, "p = 0.04996")]
    [InlineData(0.0500001, "p = 0.05")]
    [InlineData(0.0123456, "p = 0.012")]
    [InlineData(0.0004, "p < 0.001")]
    [InlineData(0.0, "p = 0")]
    [InlineData(1.0, "p = 1")]
    public void P_values_print_on_the_same_side_of_0_05_as_their_value(double p, string text) => Assert.Equal(text, CompareCommand.P(p));

    /// <summary>
    /// Checks every chart of a compare report: each series belongs to one run (its name, or the name and " train" or
    /// " validation"), is drawn in that run's colour (by the order the runs were given) and only in it, and is dashed
    /// exactly when it is a validation series.
    /// </summary>
    internal static void AssertOneColourPerRun(string dir, IReadOnlyList<string> runs)
    {
        string[] svgs = Directory.GetFiles(dir, "*.svg");
        Assert.Equal(8, svgs.Length);
        foreach (string file in svgs)
        {
            XDocument doc = XDocument.Parse(File.ReadAllText(file));
            var groups = doc.Descendants().Where(e => e.Name.LocalName == "g" && (string?)e.Attribute("class") == "series").ToList();
            Assert.NotEmpty(groups);
            foreach (XElement g in groups)
            {
                string series = (string)g.Attribute("data-series")!;
                int run = runs.Select((name, i) => (name, i)).Where(r => series == r.name || series == r.name + " train" || series == r.name + " validation").Select(r => r.i).DefaultIfEmpty(-1).Single();
                Assert.True(run >= 0, $"{Path.GetFileName(file)}: series '{series}' belongs to no run");
                string color = RunPalette.Color(run);
                Assert.Equal(color, (string?)g.Attribute("data-color"));
                foreach (XElement mark in g.Descendants().Where(e => e.Name.LocalName is "polyline" or "circle" or "rect"))
                {
                    string? paint = (string?)mark.Attribute("stroke") ?? (string?)mark.Attribute("fill") ?? (string?)g.Attribute("fill");
                    Assert.True(paint == color, $"{Path.GetFileName(file)}: series '{series}' has a {mark.Name.LocalName} in {paint}, not {color}");
                }

                bool dashed = g.Descendants().Any(e => e.Name.LocalName == "polyline" && e.Attribute("stroke-dasharray") is not null);
                Assert.Equal(series.EndsWith(" validation", StringComparison.Ordinal), dashed);
            }

            // Every run appears in every chart, in its colour.
            Assert.All(runs.Select((_, i) => RunPalette.Color(i)), c => Assert.Contains(groups, g => (string?)g.Attribute("data-color") == c));
        }
    }

    [Fact]
    public void Summary_csv_has_numeric_mean_and_std_columns_and_every_chart_keeps_one_colour_per_run()
    {
        string dir = Path.Combine(_dir, "csv");
        string[] names = ["ce", "smooth", "weighted"];
        var (code, _, error) = Run("compare", "--data", DataTests.RepoFile("data", "iris.csv"), "--run", "ce=", "--run", "smooth=--label-smoothing 0.1",
            "--run", "weighted=--class-weights balanced --hidden 8", "--common", "--epochs 6", "--repeats", "2", "--out", dir);
        Assert.True(code == 0, error);
        string[] lines = File.ReadAllLines(Path.Combine(dir, "summary.csv"));
        string[] header = lines[0].Split(',');
        Assert.Equal(["rank", "run", "repeats", "baseline", "verdict"], header[..5]);
        foreach (string metric in CompareCommand.Metrics)
        {
            Assert.Equal([metric + "_mean", metric + "_std", metric + "_diff_mean", metric + "_diff_std", metric + "_p_value"], header.Skip(Array.IndexOf(header, metric + "_mean")).Take(5));
        }

        Assert.Equal(["recall_setosa_mean", "recall_setosa_std"], header[^6..^4]);
        Assert.Equal(1 + 3, lines.Length); // one row per run
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        for (int r = 1; r < lines.Length; r++)
        {
            string[] cells = lines[r].Split(',');
            Assert.Equal(header.Length, cells.Length);
            JsonElement run = summary.RootElement[r - 1];
            Assert.Equal(run.GetProperty("rank").GetInt32().ToString(CultureInfo.InvariantCulture), cells[0]);
            Assert.Contains(cells[1], names);
            Assert.Equal("2", cells[2]);
            Assert.Equal("ce", cells[3]);
            Assert.Equal(run.GetProperty("verdict").GetString(), cells[4]);
            double Number(string column) => double.Parse(cells[Array.IndexOf(header, column)], NumberStyles.Float, CultureInfo.InvariantCulture);
            Assert.Equal(cells[1], run.GetProperty("run").GetString());
            Assert.Equal(run.GetProperty("metrics").GetProperty("roc_auc").GetProperty("mean").GetDouble(), Number("roc_auc_mean"));
            Assert.Equal(run.GetProperty("metrics").GetProperty("accuracy").GetProperty("std").GetDouble(), Number("accuracy_std"));
            Assert.InRange(Number("average_precision_mean"), 0, 1);
            if (cells[1] == "ce")
            {
                Assert.Equal("baseline", cells[4]);
                Assert.All(CompareCommand.Metrics, m => Assert.Equal(string.Empty, cells[Array.IndexOf(header, m + "_p_value")]));
            }
            else
            {
                Assert.Equal(run.GetProperty("metrics").GetProperty("macro_f1").GetProperty("diff_mean").GetDouble(), Number("macro_f1_diff_mean"));
                Assert.InRange(Number("log_loss_p_value"), 0, 1);
            }
        }

        AssertOneColourPerRun(dir, names);
    }

    [Fact]
    public void Quiet_prints_only_the_final_ranking_and_the_report()
    {
        string dir = Path.Combine(_dir, "quiet");
        var (code, output, error) = Run("compare", "--data", DataTests.RepoFile("data", "iris.csv"), "--run", "ce=", "--run", "smooth=--label-smoothing 0.1",
            "--common", "--epochs 3", "--repeats", "2", "--rank-by", "roc_auc", "--quiet", "--out", dir);
        Assert.True(code == 0, error);
        string[] lines = output.ReplaceLineEndings("\n").TrimEnd().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^1\. ce: roc_auc \d\.\d{4} ± \d\.\d{4} \(baseline\)$", lines[0]);
        Assert.Matches(@"^[12]\. smooth: roc_auc \d\.\d{4} ± \d\.\d{4}; [+−]?\d\.\d{4} ± \d\.\d{4} against ce, (better|worse|no significant difference) \(p [=<] [\d.]+\)$", lines[1]);
        Assert.Equal($"Report: {Path.Combine(dir, "report.html")}", lines[2]);
        Assert.True(File.Exists(Path.Combine(dir, "summary.csv")));

        // Without --quiet: progress for every repeat, and the tables.
        var (_, loud, _) = Run("compare", "--data", DataTests.RepoFile("data", "iris.csv"), "--run", "ce=", "--common", "--epochs 3", "--repeats", "2", "--out", Path.Combine(_dir, "loud"));
        Assert.Contains("ce #2 epoch 3/3", loud);
        Assert.Contains("Ranked by balanced_accuracy against ce", loud);
        Assert.Contains("no test (one repeat)", Run("compare", "--data", DataTests.RepoFile("data", "iris.csv"), "--run", "ce=", "--run", "b=--hidden 8", "--common", "--epochs 2", "--repeats", "1", "--quiet", "--out", Path.Combine(_dir, "one")).Out);
        Assert.Contains("Per-class recall", loud);
    }

    [Fact]
    public void Console_tables_never_cut_a_long_run_name_on_an_80_column_console()
    {
        const string longName = "label-smoothing-0.1-with-balanced-class-weights-and-a-very-long-description";
        Dataset iris = CsvDatasetReader.Read(DataTests.RepoFile("data", "iris.csv"));
        CompareCommand.RunSpec[] specs = [CompareCommand.Parse("ce", "--epochs 2"), CompareCommand.Parse(longName, "--epochs 2 --label-smoothing 0.1 --class-weights balanced")];
        var writer = new StringWriter();
        Xent.Cli.CliContext context = MetricsViewTests.Console(writer, 80);
        Assert.Equal(0, CompareCommand.Run(context, DataTable.FromDataset(iris), specs, 1, 0, "accuracy", OutputDirectory.Prepare(Path.Combine(_dir, "narrow"), false), "iris.csv"));
        string text = writer.ToString();
        Assert.DoesNotContain("…", text);
        string[] lines = text.Split('\n');
        Assert.Contains(lines, l => l.TrimEnd().EndsWith(". " + longName, StringComparison.Ordinal));
        foreach (string metric in CompareCommand.Metrics)
        {
            Assert.Contains(metric + " ", text);
        }

        Assert.All(lines.Where(l => !l.Contains(longName, StringComparison.Ordinal)), l => Assert.True(l.TrimEnd().Length <= 80, $"line longer than the console: '{l}'"));
    }

    [Fact]
    public void Runs_can_come_from_a_yaml_or_json_file()
    {
        string yaml = Path.Combine(_dir, "runs.yaml");
        File.WriteAllText(yaml, "runs:\n  - name: a\n    options: \"--epochs 3\"\n  - name: b\n    options: \"--epochs 3 --class-weights balanced\"\n");
        string json = Path.Combine(_dir, "runs.json");
        File.WriteAllText(json, """{"runs": [{"name": "a", "options": "--epochs 3"}]}""");
        Assert.Equal(0, Run("compare", "--data", DataTests.RepoFile("data", "iris.csv"), "--runs", yaml, "--out", Path.Combine(_dir, "y")).Code);
        Assert.Equal(0, Run("compare", "--data", DataTests.RepoFile("data", "iris.csv"), "--runs", json, "--out", Path.Combine(_dir, "j")).Code);
    }

    [Theory]
    [InlineData("bad", "expected NAME=OPTIONS")]
    [InlineData("x=--hidden 0", "Run 'x': --hidden")]
    [InlineData("x=--seed 3", "set the seed with compare --seed")]
    [InlineData("x=--frobnicate", "Run 'x':")]
    [InlineData("x=--logit-adjust", "Run 'x': --logit-adjust needs a value")]
    [InlineData("x=--logit-adjust NaN", "Run 'x': --logit-adjust must be a finite number")]
    public void Bad_runs_exit_2_and_name_the_run(string run, string message)
    {
        var (code, _, error) = Run("compare", "--data", DataTests.RepoFile("data", "iris.csv"), "--run", run, "--out", Path.Combine(_dir, "bad"));
        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }

    [Fact]
    public void Inspect_reports_the_conflicting_label_floor()
    {
        string csv = Path.Combine(_dir, "conflicts.csv");
        File.WriteAllText(csv, "a,b,c,label\n1,2,7,x\n1,2,7,y\n1,2,7,x\n3,4,7,y\n5,NaN,7,x\n");
        var (code, output, _) = Run("inspect", "--data", csv);
        Assert.Equal(0, code);
        // One group of 3 rows with labels 2:1 → (3/5)·H(2/3) = 0.6·0.6365 = 0.3819 nats.
        Assert.Contains("0.3819 nats", output);
        Assert.Contains("Constant columns: c", output);
        // NaN is a missing value, which training imputes: the columns table counts it.
        Assert.Matches(@"│ b\s+│ numeric\s+│\s+1 │", output);
    }

    [Fact]
    public void Training_warns_at_start_about_conflicting_labels()
    {
        string csv = Path.Combine(_dir, "dup.csv");
        File.WriteAllText(csv, "a,b,label\n" + string.Concat(Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? "1,1,x\n" : $"{i},{i % 3},y\n")) + "1,1,y\n1,1,y\n");
        var (code, output, _) = Run("train", "--data", csv, "--out", Path.Combine(_dir, "t"), "--epochs", "2");
        Assert.Equal(0, code);
        Assert.Contains("XENT0004", output);
    }

    [Fact]
    public void Demo_lists_its_experiments_and_rejects_unknown_ones()
    {
        var (code, output, _) = Run("demo", "--list");
        Assert.Equal(0, code);
        foreach (string name in new[] { "conflicting-labels", "kdim-weights", "kdim-conv1d", "soft-vs-hard", "imbalance-weights" })
        {
            Assert.Contains(name, output);
        }

        Assert.Equal(2, Run("demo", "nope", "--out", Path.Combine(_dir, "d")).Code);
    }
}

public class OptionValidationTests
{
    [Fact]
    public void An_unknown_rank_by_metric_exits_2()
    {
        var (code, _, error) = Cli.Run("compare", "--data", DataTests.RepoFile("data", "iris.csv"), "--run", "a=", "--rank-by", "f2", "--out", Path.Combine(Path.GetTempPath(), "xent-never-written"));
        Assert.Equal(2, code);
        Assert.Contains("--rank-by: unknown metric 'f2'", error);
    }

    [Fact]
    public void A_baseline_that_is_not_a_run_exits_2()
    {
        var (code, _, error) = Cli.Run("compare", "--data", DataTests.RepoFile("data", "iris.csv"), "--run", "a=", "--run", "b=--hidden 8", "--baseline", "c", "--out", Path.Combine(Path.GetTempPath(), "xent-never-written"));
        Assert.Equal(2, code);
        Assert.Contains("--baseline 'c' is not a run; the runs are a, b.", error);
    }

    [Fact]
    public void Early_stopping_checks_its_metric_and_patience()
    {
        Assert.Throws<ArgumentException>(() => new Xent.Training.TrainerOptions { EarlyStopping = new Xent.Training.EarlyStopping("val_f1") }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Xent.Training.TrainerOptions { EarlyStopping = new Xent.Training.EarlyStopping("val_loss", 0) }.Validate());
        new Xent.Training.TrainerOptions { EarlyStopping = new Xent.Training.EarlyStopping("val_accuracy", 2) }.Validate();
    }
}
