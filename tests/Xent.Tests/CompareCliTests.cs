using System.Text.Json;
using Xent.Cli;

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
        Assert.Contains("Ranked by log_loss", output);
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        var runs = summary.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, runs.Count);
        double first = runs[0].GetProperty("metrics").GetProperty("log_loss").GetProperty("mean").GetDouble();
        double second = runs[1].GetProperty("metrics").GetProperty("log_loss").GetProperty("mean").GetDouble();
        Assert.True(first <= second, "lower log loss ranks first");
        Assert.Equal(2, runs[0].GetProperty("metrics").GetProperty("accuracy").GetProperty("values").GetArrayLength());
        string loss = File.ReadAllText(Path.Combine(dir, "loss.svg"));
        Assert.Contains("data-series=\"ce train\"", loss);
        Assert.Contains("data-series=\"smooth validation\"", loss);
        Assert.True(File.Exists(Path.Combine(dir, "summary.csv")));
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
        foreach (string name in new[] { "conflicting-labels", "kdim-weights", "soft-vs-hard", "imbalance-weights" })
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
    public void Early_stopping_checks_its_metric_and_patience()
    {
        Assert.Throws<ArgumentException>(() => new Xent.Training.TrainerOptions { EarlyStopping = new Xent.Training.EarlyStopping("val_f1") }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Xent.Training.TrainerOptions { EarlyStopping = new Xent.Training.EarlyStopping("val_loss", 0) }.Validate());
        new Xent.Training.TrainerOptions { EarlyStopping = new Xent.Training.EarlyStopping("val_accuracy", 2) }.Validate();
    }
}
