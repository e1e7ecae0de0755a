using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Xent.Cli.LossCases;
using Xent.Cli.Training;
using Xent.Data;
using Xent.Metrics;
using Xent.Reports;
using Xent.Training;
using YamlDotNet.Serialization;

namespace Xent.Cli.Commands;

/// <summary>
/// <c>xent compare</c>: trains several runs (each a set of <c>xent train</c> options) on the same split, seed and batch
/// order, overlays their curves (each run in one colour in every chart), tabulates their final metrics (mean ± std over
/// repeats) and ranks them; summary.csv has one row per run with a numeric column per mean and per std.
/// </summary>
internal static class CompareCommand
{
    /// <summary>The metrics compared, in column order; roc_auc and average_precision are macro one-vs-rest for multi-class data.</summary>
    internal static readonly string[] Metrics = ["accuracy", "balanced_accuracy", "macro_f1", "log_loss", "ece", "roc_auc", "average_precision"];

    /// <summary>Per-class recall is tabulated on the console up to this many classes (report.html and summary.csv have every class).</summary>
    internal const int MaxConsoleClasses = 10;

    internal sealed record RunSpec(string Name, PipelineOptions Options, string Text);

    /// <summary>One repeat of a run: the pipeline's result and the ranking metrics of its evaluated rows.</summary>
    internal sealed record Repeat(PipelineResult Result, RankingMetrics Ranking);

    internal sealed record RunResult(RunSpec Spec, IReadOnlyList<Repeat> Repeats)
    {
        public double[] Values(string metric) => [.. Repeats.Select(r => Metric(r, metric))];
    }

    internal static double Metric(Repeat r, string metric) => metric switch
    {
        "accuracy" => r.Result.Evaluation.Metrics.Accuracy,
        "balanced_accuracy" => r.Result.Evaluation.Metrics.BalancedAccuracy,
        "macro_f1" => r.Result.Evaluation.Metrics.MacroF1,
        "log_loss" => r.Result.Evaluation.LogLoss,
        "ece" => r.Result.Evaluation.ExpectedCalibrationError,
        "roc_auc" => r.Ranking.RocAuc,
        "average_precision" => r.Ranking.AveragePrecision,
        _ => throw new InputException($"--rank-by: unknown metric '{metric}'; choose one of {string.Join(", ", Metrics)}."),
    };

    public static Command Create(CliContext context)
    {
        var data = new Option<FileInfo>("--data") { Description = "The CSV to train on.", Required = true };
        var testData = new Option<FileInfo?>("--test-data") { Description = "A separate test CSV (same columns), for example a balanced one for long-tailed training data: every run is scored on it." };
        var reading = new DataOptionSet();
        var run = new Option<string[]>("--run") { Description = "A run: NAME=OPTIONS, the options of xent train, e.g. smooth=\"--label-smoothing 0.1\". Repeat for each run.", AllowMultipleArgumentsPerToken = false };
        var runs = new Option<FileInfo?>("--runs") { Description = "A JSON or YAML file: {runs: [{name: ..., options: ...}]}." };
        var common = new Option<string>("--common") { Description = "Options given to every run (before its own), e.g. \"--epochs 20 --hidden 32\".", DefaultValueFactory = _ => string.Empty };
        var repeats = new Option<int>("--repeats") { Description = "Repeat every run over this many seeds and report mean ± std.", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { Description = "The first seed (repeat r uses seed + r); every run shares it." };
        var rankBy = new Option<string>("--rank-by") { Description = "accuracy, balanced_accuracy, macro_f1, log_loss, ece, roc_auc or average_precision (macro one-vs-rest for multi-class data).", DefaultValueFactory = _ => "balanced_accuracy" };
        var output = new Option<string?>("--out") { Description = "Folder for report.html, summary.csv and summary.json (default: a new folder under runs/)." };
        var force = new Option<bool>("--force") { Description = "Write into a non-empty --out folder." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the final ranking, one line per run, and the report's path (no progress or tables)." };
        var command = new Command("compare", "Train several option sets on the same split and batches, and compare their curves and metrics.") { data, testData, run, runs, common, repeats, seed, rankBy, output, force, quiet };
        reading.AddTo(command);
        command.SetAction(parse =>
        {
            string metric = parse.GetRequiredValue(rankBy);
            if (!Metrics.Contains(metric))
            {
                throw new InputException($"--rank-by: unknown metric '{metric}'; choose one of {string.Join(", ", Metrics)}.");
            }

            int k = parse.GetValue(repeats);
            if (k < 1)
            {
                throw new InputException($"--repeats must be at least 1, got {k}.");
            }

            var texts = new List<(string Name, string Options)>();
            foreach (string r in parse.GetValue(run) ?? [])
            {
                int eq = r.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new InputException($"--run '{r}': expected NAME=OPTIONS, for example ce= or smooth=\"--label-smoothing 0.1\".");
                }

                texts.Add((r[..eq].Trim(), r[(eq + 1)..]));
            }

            if (parse.GetValue(runs) is { } file)
            {
                texts.AddRange(ReadRunsFile(file.FullName));
            }

            if (texts.Count == 0)
            {
                throw new InputException("compare needs at least one --run NAME=OPTIONS or a --runs file.");
            }

            string commonText = parse.GetRequiredValue(common);
            var specs = texts.Select(t => Parse(t.Name, commonText + " " + t.Options)).ToList();
            if (specs.Select(s => s.Name).Distinct(StringComparer.Ordinal).Count() != specs.Count)
            {
                throw new InputException("Run names must be unique.");
            }

            TableReadOptions read = reading.Read(parse);
            DataTable dataset = DataOptionSet.ReadTable(parse.GetRequiredValue(data).FullName, read);
            DataTable? test = parse.GetValue(testData) is { } t
                ? DataOptionSet.ReadTable(t.FullName, read with { Schema = dataset.Schema, ClassNames = dataset.ClassNames, Drop = [], Categorical = [], Numeric = [] })
                : null;
            specs = [.. specs.Select(s => s with { Options = s.Options with { MissingTokens = read.MissingTokens } })];
            string dir = OutputDirectory.Prepare(parse.GetValue(output) ?? OutputDirectory.Default("compare"), parse.GetValue(force));
            return Run(context, dataset, specs, k, parse.GetValue(seed), metric, dir, parse.GetRequiredValue(data).Name, parse.GetValue(quiet), test);
        });
        return command;
    }

    /// <summary>Parses one run's options with the same option set as xent train.</summary>
    internal static RunSpec Parse(string name, string options)
    {
        if (name.Length == 0 || name.Any(char.IsControl))
        {
            throw new InputException($"Run name '{name}' is empty or has control characters.");
        }

        var set = new TrainOptionSet();
        var command = new Command("run");
        set.AddTo(command);
        string[] tokens = [.. CommandLineParser.SplitCommandLine(options)];
        if (tokens.Contains("--seed"))
        {
            throw new InputException($"Run '{name}': runs share the split, initialisation and batch order; set the seed with compare --seed, not per run.");
        }

        ParseResult parse = command.Parse(tokens);
        if (parse.Errors.Count > 0)
        {
            throw new InputException($"Run '{name}': {parse.Errors[0].Message}");
        }

        try
        {
            return new RunSpec(name, set.Read(parse), options.Trim());
        }
        catch (InputException e)
        {
            throw new InputException($"Run '{name}': {e.Message}", e);
        }
    }

    private sealed class RunsFile
    {
        public List<RunEntry>? Runs { get; set; }
    }

    private sealed class RunEntry
    {
        public string? Name { get; set; }

        public string? Options { get; set; }
    }

    internal static IEnumerable<(string, string)> ReadRunsFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new InputException($"--runs {path}: file not found.");
        }

        RunsFile? file;
        try
        {
            file = new DeserializerBuilder().WithCaseInsensitivePropertyMatching().Build().Deserialize<RunsFile>(File.ReadAllText(path));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InputException($"{Path.GetFileName(path)}:{e.Start.Line}:{e.Start.Column}: {e.Message.Split('\n')[0]} (expected {{runs: [{{name: ..., options: ...}}]}})", e);
        }

        if (file?.Runs is not { Count: > 0 } entries)
        {
            throw new InputException($"{Path.GetFileName(path)}: no runs; expected {{runs: [{{name: ..., options: ...}}]}}.");
        }

        int i = 0;
        foreach (RunEntry e in entries)
        {
            i++;
            yield return (e.Name ?? throw new InputException($"{Path.GetFileName(path)}: run {i} has no name."), e.Options ?? string.Empty);
        }
    }

    internal static int Run(CliContext context, DataTable dataset, IReadOnlyList<RunSpec> specs, int repeats, ulong seed, string rankBy, string dir, string dataName, bool quiet = false, DataTable? test = null)
    {
        IAnsiConsole console = context.Console;
        if (!quiet)
        {
            console.WriteLine($"{dataset.Count} rows, {dataset.ClassCount} classes; {specs.Count} run(s) × {repeats} repeat(s) on the same splits and batches (seeds {seed}..{seed + (ulong)repeats - 1}).");
        }

        // Results stay in the order the runs were given: that order sets each run's colour in every chart.
        var results = new List<RunResult>();
        foreach (RunSpec spec in specs)
        {
            var repeatsList = new List<Repeat>();
            for (int r = 0; r < repeats; r++)
            {
                PipelineOptions options = spec.Options with { Trainer = spec.Options.Trainer with { Seed = seed + (ulong)r } };
                int steps = options.Trainer.Epochs * BatchOrder.BatchCount(Math.Max(1, (int)(dataset.Count * (1 - options.ValidationFraction - options.TestFraction))), options.Trainer.BatchSize);
                try
                {
                    PipelineResult result = quiet
                        ? TrainingPipeline.Run(dataset, options, test: test)
                        : TrainingProgressView.Run(context, $"{spec.Name} #{r + 1}", steps, p => TrainingPipeline.Run(dataset, options, p, test: test));
                    int[] truth = [.. result.Evaluation.Truth!];
                    repeatsList.Add(new Repeat(result, RankingMetrics.Compute(truth, result.Evaluation.Probabilities, dataset.ClassCount)));
                }
                catch (ArgumentException e)
                {
                    throw new InputException($"Run '{spec.Name}': {e.Message}", e);
                }
            }

            results.Add(new RunResult(spec, repeatsList));
        }

        bool higherIsBetter = rankBy is not ("log_loss" or "ece");
        var ranked = results.OrderBy(r => SortKey(r.Values(rankBy).Average(), higherIsBetter)).ToList();
        string[] headers = ["rank", "run", .. Metrics];
        var rows = ranked.Select((r, i) => (string[])[(i + 1).ToString(CultureInfo.InvariantCulture), r.Spec.Name, .. Metrics.Select(m => MeanStd(r.Values(m)))]).ToList();
        string title = $"Ranked by {rankBy} (mean ± std over {repeats} repeat(s), {EvaluatedOn(results)} split)";
        string[] recallHeaders = ["rank", "run", .. dataset.ClassNames];
        var recallRows = ranked.Select((r, i) => (string[])[(i + 1).ToString(CultureInfo.InvariantCulture), r.Spec.Name, .. dataset.ClassNames.Select((_, c) => MeanStd(Recall(r, c)))]).ToList();
        if (!quiet)
        {
            MetricsView.WriteTable(console, title, headers[1..], [.. rows.Select(row => (IReadOnlyList<string>)[$"{row[0]}. {row[1]}", .. row[2..]])]);
            if (dataset.ClassCount <= MaxConsoleClasses)
            {
                MetricsView.WriteTable(console, "Per-class recall (mean ± std)", recallHeaders[1..], [.. recallRows.Select(row => (IReadOnlyList<string>)[$"{row[0]}. {row[1]}", .. row[2..]])]);
            }
            else
            {
                MetricsView.WriteLine(console, $"Per-class recall of the {dataset.ClassCount} classes: summary.csv and report.html.");
            }
        }

        var report = new HtmlReport($"Xent comparison: {dataName}");
        report.Paragraph($"{specs.Count} runs × {repeats} repeats on {dataName} ({dataset.Count} rows). Every run of a repeat shares the split, initialisation seed and batch order. Ranked by {rankBy}; metrics on the {EvaluatedOn(results)} split, mean ± std over repeats. ROC AUC and average precision are {(dataset.ClassCount == 2 ? $"of the positive class {dataset.ClassNames[1]}" : "macro averages of one class against the rest")}; ECE over {results[0].Repeats[0].Result.Evaluation.EceBins} bins. Each run has one colour in every chart (by the order the runs were given): solid for training, dashed for validation.");
        report.Table("Results", headers, rows);
        report.Table("Per-class recall (mean ± std)", recallHeaders, recallRows);
        var histories = results.Select(r => (r.Spec.Name, r.Repeats[0].Result.Training.History)).ToList();
        report.Heading("Curves (first repeat)");
        report.Chart("loss", TrainingCharts.Loss(histories));
        report.Chart("loss-epoch", TrainingCharts.EpochLoss(histories));
        report.Chart("accuracy", TrainingCharts.Accuracy(histories));
        report.Chart("accuracy-epoch", TrainingCharts.EpochAccuracy(histories));
        report.Heading("Per class");
        report.Chart("recall", TrainingCharts.MeanRecall([.. results.Select(r => (r.Spec.Name, (IReadOnlyList<ClassificationMetrics>)[.. r.Repeats.Select(p => p.Result.Evaluation.Metrics)]))], dataset.ClassNames));
        report.Heading("Probabilities (first repeat)");
        report.Chart("reliability", TrainingCharts.Reliability([.. results.Select(r => (r.Spec.Name, r.Repeats[0].Result.Evaluation.Reliability))]));
        var rankings = results.Select(r => (r.Spec.Name, r.Repeats[0].Ranking)).ToList();
        report.Chart("roc", TrainingCharts.Roc(rankings, dataset.ClassNames));
        report.Chart("pr", TrainingCharts.PrecisionRecall(rankings, dataset.ClassNames));
        report.Heading("Runs");
        report.Table("Options of each run", ["run", "options", "config"], results.Select(r => (IReadOnlyList<string>)[r.Spec.Name, r.Spec.Text, TrainingPipeline.Describe(r.Spec.Options).ReplaceLineEndings(" ")]));
        string html = report.Write(dir);

        AtomicFile.WriteAllText(Path.Combine(dir, "summary.csv"), SummaryCsv(ranked, dataset.ClassNames));
        AtomicFile.WriteAllText(Path.Combine(dir, "summary.json"), JsonSerializer.Serialize(ranked.Select((r, i) => new
        {
            rank = i + 1,
            run = r.Spec.Name,
            options = r.Spec.Text,
            metrics = Metrics.ToDictionary(m => m, m => new { mean = MetricsView.N(r.Values(m).Average()), std = MetricsView.N(Std(r.Values(m))), values = r.Values(m).Select(v => MetricsView.N(v)) }),
            recall = dataset.ClassNames.Select((c, k) => new { @class = c, mean = MetricsView.N(Recall(r, k).Average()), std = MetricsView.N(Std(Recall(r, k))) }),
        }), new JsonSerializerOptions { WriteIndented = true }));

        if (quiet)
        {
            foreach (string[] row in rows)
            {
                MetricsView.WriteLine(console, $"{row[0]}. {row[1]}: {rankBy} {row[2 + Array.IndexOf(Metrics, rankBy)]}");
            }
        }

        MetricsView.WriteLine(console, $"Report: {html}");
        return ExitCodes.Success;
    }

    /// <summary>
    /// summary.csv: one row per run, in rank order: rank, run, repeats, then each metric's mean and std as numeric
    /// columns (accuracy_mean, accuracy_std, …), then each class's recall (recall_CLASS_mean, recall_CLASS_std). Numbers
    /// are written in full precision with a dot; an undefined value is an empty cell.
    /// </summary>
    internal static string SummaryCsv(IReadOnlyList<RunResult> ranked, IReadOnlyList<string> classes)
    {
        string[] headers =
        [
            "rank", "run", "repeats",
            .. Metrics.SelectMany(m => new[] { m + "_mean", m + "_std" }),
            .. classes.SelectMany(c => new[] { $"recall_{c}_mean", $"recall_{c}_std" }),
        ];
        var csv = new StringBuilder(string.Join(",", headers.Select(CsvText.Escape)) + "\n");
        for (int i = 0; i < ranked.Count; i++)
        {
            RunResult r = ranked[i];
            IEnumerable<string> cells =
            [
                (i + 1).ToString(CultureInfo.InvariantCulture), CsvText.Escape(r.Spec.Name), r.Repeats.Count.ToString(CultureInfo.InvariantCulture),
                .. Metrics.SelectMany(m => new[] { Number(r.Values(m).Average()), Number(Std(r.Values(m))) }),
                .. classes.Select((_, c) => Recall(r, c)).SelectMany(v => new[] { Number(v.Average()), Number(Std(v)) }),
            ];
            csv.Append(string.Join(",", cells)).Append('\n');
        }

        return csv.ToString();
    }

    private static double[] Recall(RunResult r, int c) => [.. r.Repeats.Select(p => p.Result.Evaluation.Metrics.PerClass[c].Recall)];

    private static string EvaluatedOn(IReadOnlyList<RunResult> results)
    {
        string[] splits = [.. results.SelectMany(r => r.Repeats).Select(p => p.Result.EvaluatedOn).Distinct()];
        return string.Join(" or ", splits);
    }

    /// <summary>Best first; an undefined mean (NaN) last.</summary>
    private static double SortKey(double mean, bool higherIsBetter) => double.IsNaN(mean) ? double.PositiveInfinity : higherIsBetter ? -mean : mean;

    private static string Number(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : string.Empty;

    private static double Std(double[] v) => v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - v.Average()) * (x - v.Average())) / (v.Length - 1)) : 0;

    private static string MeanStd(double[] v) => double.IsNaN(v.Average()) ? "-" : string.Create(CultureInfo.InvariantCulture, $"{v.Average():F4} ± {Std(v):F4}");
}
