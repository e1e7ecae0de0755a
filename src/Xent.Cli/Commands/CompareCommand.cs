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
/// order, repeated over seeds, overlays their curves (each run in one colour in every chart), tabulates their final
/// metrics (mean ± std over repeats) and compares every run with a baseline run: the paired difference of each metric
/// (same seeds, same splits) and a two-sided paired t-test. A run ranks above or below the baseline, and is called better
/// or worse, only where p &lt; 0.05; otherwise it shares the baseline's rank with "no significant difference (p = …)".
/// </summary>
internal static class CompareCommand
{
    /// <summary>The metrics compared, in column order; roc_auc and average_precision are macro one-vs-rest for multi-class data.</summary>
    internal static readonly string[] Metrics = ["accuracy", "balanced_accuracy", "macro_f1", "log_loss", "ece", "roc_auc", "average_precision"];

    /// <summary>Per-class recall is tabulated on the console up to this many classes (report.html and summary.csv have every class).</summary>
    internal const int MaxConsoleClasses = 10;

    /// <summary>The significance level of the paired t-test: ranks and the words better/worse need p below it.</summary>
    internal const double Alpha = PairedTTest.DefaultAlpha;

    /// <summary>A run: its name, its pipeline options, the options as given, and an optional post-hoc logit adjustment τ (compare only).</summary>
    internal sealed record RunSpec(string Name, PipelineOptions Options, string Text, double? LogitAdjust = null);

    /// <summary>What the paired t-test says about a run against the baseline, on one metric.</summary>
    internal enum Verdict
    {
        Baseline,
        Better,
        Worse,
        NotSignificant,
        NoTest,
    }

    /// <summary>A run with its paired tests against the baseline (one per metric; none for the baseline itself), its verdict on the ranking metric and its rank.</summary>
    internal sealed record Compared(RunResult Run, IReadOnlyDictionary<string, PairedTTestResult>? Tests, Verdict Verdict, int Rank)
    {
        public bool IsBaseline => Tests is null;
    }

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
        var data = new Option<FileInfo>("--data") { Description = "The CSV to train on. Or images: fashion-mnist (Debian's dataset-fashion-mnist), or an IDX file NAME-images-idx3-ubyte[.gz] with NAME-labels-idx1-ubyte[.gz] beside it; runs with --model then see them as (C, H, W).", Required = true };
        var testData = new Option<FileInfo?>("--test-data") { Description = "A separate test CSV (same columns), for example a balanced one for long-tailed training data, or images as for --data (fashion-mnist: its 10,000 test images): every run is scored on it." };
        var maxRows = new Option<int?>("--max-rows") { Description = "Use only the first N rows of --data (a quick run on a subset; Fashion-MNIST's rows are in random order)." };
        var maxTestRows = new Option<int?>("--max-test-rows") { Description = "Use only the first N rows of --test-data." };
        var reading = new DataOptionSet();
        var run = new Option<string[]>("--run") { Description = "A run: NAME=OPTIONS, the options of xent train, e.g. smooth=\"--label-smoothing 0.1\", plus --logit-adjust TAU (score the run's models with post-hoc logit adjustment). Repeat for each run.", AllowMultipleArgumentsPerToken = false };
        var runs = new Option<FileInfo?>("--runs") { Description = "A JSON or YAML file: {runs: [{name: ..., options: ...}]}." };
        var common = new Option<string>("--common") { Description = "Options given to every run (before its own), e.g. \"--epochs 20 --hidden 32\".", DefaultValueFactory = _ => string.Empty };
        var repeats = new Option<int>("--repeats") { Description = "Repeat every run over this many seeds (the same for every run) and report mean ± std and paired t-tests against the baseline.", DefaultValueFactory = _ => 10 };
        var baseline = new Option<string?>("--baseline") { Description = "The run the others are tested against (paired t-test over the repeats; better/worse only where p < 0.05). Default: the first run." };
        var seed = new Option<ulong>("--seed") { Description = "The first seed (repeat r uses seed + r); every run shares it." };
        var rankBy = new Option<string>("--rank-by") { Description = "accuracy, balanced_accuracy, macro_f1, log_loss, ece, roc_auc or average_precision (macro one-vs-rest for multi-class data).", DefaultValueFactory = _ => "balanced_accuracy" };
        var output = new Option<string?>("--out") { Description = "Folder for report.html, summary.csv and summary.json (default: a new folder under runs/)." };
        var force = new Option<bool>("--force") { Description = "Write into a non-empty --out folder." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the final ranking, one line per run, and the report's path (no progress or tables)." };
        var command = new Command("compare", "Train several option sets on the same split and batches, and compare their curves and metrics.") { data, testData, maxRows, maxTestRows, run, runs, common, repeats, baseline, seed, rankBy, output, force, quiet };
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
                string twice = specs.GroupBy(s => s.Name, StringComparer.Ordinal).First(g => g.Count() > 1).Key;
                throw new InputException($"Run names must be unique; '{twice}' is given more than once.");
            }

            string baselineName = parse.GetValue(baseline) ?? specs[0].Name;
            if (!specs.Any(s => s.Name == baselineName))
            {
                throw new InputException($"--baseline '{baselineName}' is not a run; the runs are {string.Join(", ", specs.Select(s => s.Name))}.");
            }

            int? trainRows = parse.GetValue(maxRows), testRows = parse.GetValue(maxTestRows);
            if (trainRows < 1 || testRows < 1)
            {
                throw new InputException($"{(trainRows < 1 ? "--max-rows" : "--max-test-rows")} must be at least 1, got {(trainRows < 1 ? trainRows : testRows)}.");
            }

            if (testRows is not null && parse.GetValue(testData) is null)
            {
                throw new InputException("--max-test-rows cuts --test-data; give --test-data too.");
            }

            TableReadOptions read = reading.Read(parse);
            string dataPath = parse.GetRequiredValue(data).FullName;
            int[]? imageShape = null;
            DataTable dataset = ImageData.Names(dataPath) ? ImageData.Read(dataPath, "--data", test: false, out imageShape, out _) : DataOptionSet.ReadTable(dataPath, read);
            RealValuedLabel.ThrowIfRealValued(dataset, dataPath);
            DataTable? test = null;
            if (parse.GetValue(testData) is { } t)
            {
                if (ImageData.Names(t.FullName))
                {
                    test = ImageData.Read(t.FullName, "--test-data", test: true, out int[] shape, out _);
                    if (imageShape is null || !shape.SequenceEqual(imageShape))
                    {
                        throw new InputException($"--test-data: images of shape {string.Join("x", shape)} do not match --data ({(imageShape is null ? "a CSV file" : "images of shape " + string.Join("x", imageShape))}).");
                    }
                }
                else
                {
                    test = DataOptionSet.ReadTable(t.FullName, read with { Schema = dataset.Schema, ClassNames = dataset.ClassNames, Drop = [], Categorical = [], Numeric = [] });
                }
            }

            dataset = trainRows is int n ? dataset.Head(n) : dataset;
            test = testRows is int m ? test!.Head(m) : test;
            specs = [.. specs.Select(s => s with { Options = s.Options with { MissingTokens = read.MissingTokens } })];
            if (imageShape is not null)
            {
                specs = [.. specs.Select(s => s with { Options = ImageData.Configure(s.Options, imageShape, $"Run '{s.Name}': ") })];
            }
            string dir = OutputDirectory.Prepare(parse.GetValue(output) ?? OutputDirectory.Default("compare"), parse.GetValue(force));
            return Run(context, dataset, specs, k, parse.GetValue(seed), metric, dir, parse.GetRequiredValue(data).Name, parse.GetValue(quiet), test, baselineName);
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

        (tokens, double? logitAdjust) = TakeLogitAdjust(name, tokens);

        ParseResult parse = command.Parse(tokens);
        if (parse.Errors.Count > 0)
        {
            throw new InputException($"Run '{name}': {parse.Errors[0].Message}");
        }

        try
        {
            return new RunSpec(name, set.Read(parse), options.Trim(), logitAdjust);
        }
        catch (InputException e)
        {
            throw new InputException($"Run '{name}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Takes the compare-only run option <c>--logit-adjust TAU</c> (also <c>--logit-adjust=TAU</c>) out of a run's
    /// tokens: the run's models are scored with the post-hoc logit adjustment z − τ·log π (π the training split's class
    /// prior), as <c>xent evaluate --logit-adjust</c> does.
    /// </summary>
    private static (string[] Tokens, double? Tau) TakeLogitAdjust(string name, string[] tokens)
    {
        const string option = "--logit-adjust";
        var rest = new List<string>();
        double? tau = null;
        for (int i = 0; i < tokens.Length; i++)
        {
            string token = tokens[i];
            string? value = null;
            if (token == option)
            {
                value = i + 1 < tokens.Length ? tokens[++i] : throw new InputException($"Run '{name}': {option} needs a value, for example {option} 1.");
            }
            else if (token.StartsWith(option + "=", StringComparison.Ordinal) || token.StartsWith(option + ":", StringComparison.Ordinal))
            {
                value = token[(option.Length + 1)..];
            }
            else
            {
                rest.Add(token);
                continue;
            }

            if (tau is not null)
            {
                throw new InputException($"Run '{name}': {option} is given twice.");
            }

            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double t) || !double.IsFinite(t) || t < 0)
            {
                throw new InputException($"Run '{name}': {option} must be a finite number ≥ 0 (1 is the usual τ), got '{value}'.");
            }

            tau = t;
        }

        return ([.. rest], tau);
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

    internal static int Run(CliContext context, DataTable dataset, IReadOnlyList<RunSpec> specs, int repeats, ulong seed, string rankBy, string dir, string dataName, bool quiet = false, DataTable? test = null, string? baseline = null)
    {
        IAnsiConsole console = context.Console;
        baseline ??= specs[0].Name;
        if (!quiet)
        {
            console.WriteLine($"{dataset.Count} rows, {dataset.ClassCount} classes; {specs.Count} run(s) × {repeats} repeat(s) on the same splits and batches (seeds {seed}..{seed + (ulong)repeats - 1}); baseline {baseline}.");
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
                    if (spec.LogitAdjust is double tau)
                    {
                        result = AdjustLogits(result, tau, dataset, test);
                    }

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

        var ranked = Compare(results, baseline, rankBy);
        string Rank(Compared c) => c.Rank.ToString(CultureInfo.InvariantCulture);
        string on = test is not null ? $"test file ({test.Count} rows)" : EvaluatedOn(results) + " split";
        int metricIndex = Array.IndexOf(Metrics, rankBy);

        string[] rankingHeaders = ["rank", "run", rankBy, $"difference from {baseline}", $"paired t-test against {baseline}"];
        var rankingRows = ranked.Select(c => (string[])[Rank(c), c.Run.Spec.Name, MeanStd(c.Run.Values(rankBy)), c.IsBaseline ? "-" : Difference(c.Tests![rankBy]), VerdictText(c, rankBy)]).ToList();
        string[] headers = ["rank", "run", .. Metrics];
        var rows = ranked.Select(c => (string[])[Rank(c), c.Run.Spec.Name, .. Metrics.Select(m => MeanStd(c.Run.Values(m)))]).ToList();
        var others = ranked.Where(c => !c.IsBaseline).ToList();
        string[] differenceHeaders = ["run", .. Metrics];
        var differenceRows = others.Select(c => (string[])[c.Run.Spec.Name, .. Metrics.Select(m => DifferenceCell(c.Tests![m], m))]).ToList();
        string[] recallHeaders = ["rank", "run", .. dataset.ClassNames];
        var recallRows = ranked.Select(c => (string[])[Rank(c), c.Run.Spec.Name, .. dataset.ClassNames.Select((_, k) => MeanStd(Recall(c.Run, k)))]).ToList();
        if (!quiet)
        {
            static IReadOnlyList<string>[] Named(IEnumerable<string[]> rows) => [.. rows.Select(row => (IReadOnlyList<string>)[$"{row[0]}. {row[1]}", .. row[2..]])];
            MetricsView.WriteTable(console, $"Ranked by {rankBy} against {baseline} (p < {Alpha:0.00} to differ)", rankingHeaders[1..], Named(rankingRows));
            MetricsView.WriteTable(console, $"Metrics (mean ± std over {repeats} repeat(s), {on})", headers[1..], Named(rows));
            if (others.Count > 0)
            {
                MetricsView.WriteTable(console, $"Differences from {baseline} (run − {baseline})", differenceHeaders, [.. differenceRows.Select(r => (IReadOnlyList<string>)r)]);
            }

            if (dataset.ClassCount <= MaxConsoleClasses)
            {
                MetricsView.WriteTable(console, "Per-class recall (mean ± std)", recallHeaders[1..], Named(recallRows));
            }
            else
            {
                MetricsView.WriteLine(console, $"Per-class recall of the {dataset.ClassCount} classes: summary.csv and report.html.");
            }
        }

        var report = new HtmlReport($"Xent comparison: {dataName}");
        report.Paragraph($"{specs.Count} runs × {repeats} repeats on {dataName} ({dataset.Count} rows). Repeat r of every run uses seed {seed} + r: the same split, initialisation and batch order. Metrics on the {on}, mean ± std over repeats. ROC AUC and average precision are {(dataset.ClassCount == 2 ? $"of the positive class {dataset.ClassNames[1]}" : "macro averages of one class against the rest")}; ECE over {results[0].Repeats[0].Result.Evaluation.EceBins} bins. Each run has one colour in every chart (by the order the runs were given): solid for training, dashed for validation.");
        report.Paragraph(Protocol(baseline, rankBy, repeats));
        report.Table($"Ranked by {rankBy} against the baseline {baseline}", rankingHeaders, rankingRows);
        report.Table($"Metrics (mean ± std over {repeats} repeats)", headers, rows);
        if (others.Count > 0)
        {
            report.Table($"Differences from {baseline} (run − {baseline}, mean ± std over the repeats; paired t-test; better or worse only where p < {Alpha:0.00})", differenceHeaders, differenceRows);
        }

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
        report.Table("Options of each run", ["run", "options", "config"], results.Select(r => (IReadOnlyList<string>)[r.Spec.Name, r.Spec.Text, Config(r.Spec)]));
        string html = report.Write(dir);

        AtomicFile.WriteAllText(Path.Combine(dir, "summary.csv"), SummaryCsv(ranked, dataset.ClassNames, baseline));
        AtomicFile.WriteAllText(Path.Combine(dir, "summary.json"), SummaryJson(ranked, dataset.ClassNames, baseline, rankBy));

        if (quiet)
        {
            foreach (Compared c in ranked)
            {
                string line = $"{Rank(c)}. {c.Run.Spec.Name}: {rankBy} {MeanStd(c.Run.Values(rankBy))}";
                MetricsView.WriteLine(console, c.IsBaseline ? line + " (baseline)" : $"{line}; {Difference(c.Tests![rankBy])} against {baseline}, {VerdictText(c, rankBy)}");
            }
        }

        MetricsView.WriteLine(console, $"Report: {html}");
        return ExitCodes.Success;
    }

    /// <summary>The protocol, in words, for the report.</summary>
    internal static string Protocol(string baseline, string rankBy, int repeats) =>
        $"Every run is compared with the baseline {baseline}: for each metric the difference run − {baseline} in each of the {repeats} repeats " +
        $"(same seed, same split), its mean ± std, and a two-sided paired t-test (Student t with {Math.Max(0, repeats - 1)} degrees of freedom). " +
        $"A run ranks above or below {baseline}, and is called better or worse, only where p < {Alpha:0.00} on {rankBy}; otherwise it shares {baseline}'s rank " +
        $"and the table says no significant difference. Runs that share a rank are listed by their mean but were not tested against each other, " +
        $"and the p-values are not corrected for testing several runs and metrics. Identical results give p = 1 (differences within 1e-9 of the values, the rounding of the same computation in another order, count as none); the same non-zero difference in every repeat gives p = 0.";

    /// <summary>
    /// Tests every run against the baseline on every metric and ranks them: runs significantly better on
    /// <paramref name="rankBy"/> first, then the baseline with every run not significantly different (or not testable),
    /// then runs significantly worse. Runs in one group share a rank, and are listed by their mean (the baseline first in its group).
    /// </summary>
    internal static List<Compared> Compare(IReadOnlyList<RunResult> results, string baseline, string rankBy)
    {
        RunResult reference = results.Single(r => r.Spec.Name == baseline);
        var compared = results.Select(r =>
        {
            if (ReferenceEquals(r, reference))
            {
                return new Compared(r, null, Verdict.Baseline, 0);
            }

            var tests = Metrics.ToDictionary(m => m, m => PairedTTest.Compute(r.Values(m), reference.Values(m)));
            return new Compared(r, tests, Classify(tests[rankBy], rankBy), 0);
        }).ToList();
        static int Group(Verdict v) => v switch { Verdict.Better => 0, Verdict.Worse => 2, _ => 1 };
        bool higher = HigherIsBetter(rankBy);
        var ordered = compared.OrderBy(c => Group(c.Verdict)).ThenBy(c => c.IsBaseline ? 0 : 1).ThenBy(c => SortKey(c.Run.Values(rankBy).Average(), higher)).ToList();
        int[] groups = [.. ordered.Select(c => Group(c.Verdict)).Distinct()];
        return [.. ordered.Select(c => c with { Rank = Array.IndexOf(groups, Group(c.Verdict)) + 1 })];
    }

    internal static bool HigherIsBetter(string metric) => metric is not ("log_loss" or "ece");

    /// <summary>Better or worse (by the metric's direction) only where p &lt; 0.05; no test where the p-value is undefined.</summary>
    internal static Verdict Classify(PairedTTestResult test, string metric) =>
        test.Case == PairedTTestCase.Undefined ? Verdict.NoTest
        : !test.IsSignificant(Alpha) ? Verdict.NotSignificant
        : (test.MeanDifference > 0) == HigherIsBetter(metric) ? Verdict.Better : Verdict.Worse;

    /// <summary>The verdict's word, as summary.csv and summary.json write it.</summary>
    internal static string Word(Verdict v) => v switch
    {
        Verdict.Baseline => "baseline",
        Verdict.Better => "better",
        Verdict.Worse => "worse",
        Verdict.NotSignificant => "no significant difference",
        _ => "no test",
    };

    /// <summary>"better (p = 0.012)", "no significant difference (p = 0.42)", "baseline", …, on one metric.</summary>
    internal static string VerdictText(Compared c, string metric)
    {
        if (c.IsBaseline)
        {
            return "baseline";
        }

        PairedTTestResult t = c.Tests![metric];
        Verdict v = Classify(t, metric);
        return v == Verdict.NoTest
            ? t.Count < 2 ? "no test (one repeat)" : "no test (undefined values)"
            : $"{Word(v)} ({P(t.PValue)}{t.Case switch { PairedTTestCase.Identical => ", identical results", PairedTTestCase.ConstantDifference => ", the same difference in every repeat", _ => string.Empty }})";
    }

    /// <summary>"p = 0.42", "p = 0.0496", "p < 0.001", "p = 0", "p = 1": enough digits that the text falls on the same side of 0.05 as the value.</summary>
    internal static string P(double p)
    {
        if (double.IsNaN(p))
        {
            return "p undefined";
        }

        if (p is 0 or 1)
        {
            return string.Create(CultureInfo.InvariantCulture, $"p = {p}");
        }

        if (p < 0.001)
        {
            return "p < 0.001";
        }

        for (int digits = 2; ; digits++)
        {
            string text = p.ToString("G" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            if ((double.Parse(text, CultureInfo.InvariantCulture) < Alpha) == (p < Alpha) || digits >= 17)
            {
                return "p = " + text;
            }
        }
    }

    /// <summary>"+0.0123 ± 0.0045": the mean difference (run − baseline) and its standard deviation over the repeats.</summary>
    private static string Difference(PairedTTestResult t)
    {
        if (double.IsNaN(t.MeanDifference))
        {
            return "-";
        }

        string size = Math.Abs(t.MeanDifference).ToString("F4", CultureInfo.InvariantCulture);
        string sign = size == "0.0000" ? string.Empty : t.MeanDifference > 0 ? "+" : "−";
        return string.Create(CultureInfo.InvariantCulture, $"{sign}{size} ± {t.StdDifference:F4}");
    }

    /// <summary>A cell of the differences table: the difference, the p-value, and better or worse only where p &lt; 0.05.</summary>
    private static string DifferenceCell(PairedTTestResult t, string metric)
    {
        Verdict v = Classify(t, metric);
        return v == Verdict.NoTest ? Difference(t) + ", no test"
            : $"{Difference(t)}, {P(t.PValue)}{(v is Verdict.Better or Verdict.Worse ? ", " + Word(v) : string.Empty)}";
    }

    private static string Config(RunSpec spec)
    {
        string config = TrainingPipeline.Describe(spec.Options).ReplaceLineEndings(" ");
        return spec.LogitAdjust is double tau ? string.Create(CultureInfo.InvariantCulture, $"{config} + post-hoc logit adjustment τ = {tau}") : config;
    }

    /// <summary>
    /// Scores a run's model again on the rows it was evaluated on, with the post-hoc logit adjustment z − τ·log π (π
    /// the training split's class prior, stored in the model information).
    /// </summary>
    private static PipelineResult AdjustLogits(PipelineResult result, double tau, DataTable dataset, DataTable? test)
    {
        double[] offset = Evaluation.LogitAdjustment(result.Info.ClassCounts!, tau);
        Preprocessor preprocessor = result.Info.Preprocessor!;
        Dataset held = result.EvaluatedOn switch
        {
            "test" when test is not null => preprocessor.Transform(test).Data,
            "test" => preprocessor.Transform(dataset, result.Split.Test).Data,
            "validation" => preprocessor.Transform(dataset, result.Split.Validation).Data,
            _ => preprocessor.Transform(dataset, result.Split.Train).Data,
        };

        // With an offset the outputs go through a softmax whatever the loss (log-probabilities shift the same way).
        return result with { Evaluation = Evaluation.Evaluate(result.Model, held, false, result.Evaluation.EceBins, offset, result.Info.LogitScale) };
    }

    /// <summary>
    /// summary.csv: one row per run, in rank order: rank, run, repeats, baseline, verdict (on the ranking metric:
    /// baseline, better, worse, no significant difference, no test), then for each metric its mean and std, and against
    /// the baseline the mean and std of the paired difference (run − baseline) and the paired t-test's p-value
    /// (accuracy_mean, accuracy_std, accuracy_diff_mean, accuracy_diff_std, accuracy_p_value, …), then each class's
    /// recall (recall_CLASS_mean, recall_CLASS_std). Numbers are written in full precision with a dot; an undefined
    /// value (and the baseline's own differences) is an empty cell.
    /// </summary>
    internal static string SummaryCsv(IReadOnlyList<Compared> ranked, IReadOnlyList<string> classes, string baseline)
    {
        string[] headers =
        [
            "rank", "run", "repeats", "baseline", "verdict",
            .. Metrics.SelectMany(m => new[] { m + "_mean", m + "_std", m + "_diff_mean", m + "_diff_std", m + "_p_value" }),
            .. classes.SelectMany(c => new[] { $"recall_{c}_mean", $"recall_{c}_std" }),
        ];
        var csv = new StringBuilder(string.Join(",", headers.Select(CsvText.Escape)) + "\n");
        foreach (Compared c in ranked)
        {
            RunResult r = c.Run;
            IEnumerable<string> cells =
            [
                c.Rank.ToString(CultureInfo.InvariantCulture), CsvText.Escape(r.Spec.Name), r.Repeats.Count.ToString(CultureInfo.InvariantCulture), CsvText.Escape(baseline), CsvText.Escape(Word(c.Verdict)),
                .. Metrics.SelectMany(m => new[]
                {
                    Number(r.Values(m).Average()), Number(Std(r.Values(m))),
                    c.IsBaseline ? string.Empty : Number(c.Tests![m].MeanDifference),
                    c.IsBaseline ? string.Empty : Number(c.Tests![m].StdDifference),
                    c.IsBaseline ? string.Empty : Number(c.Tests![m].PValue),
                }),
                .. classes.Select((_, k) => Recall(r, k)).SelectMany(v => new[] { Number(v.Average()), Number(Std(v)) }),
            ];
            csv.Append(string.Join(",", cells)).Append('\n');
        }

        return csv.ToString();
    }

    /// <summary>
    /// summary.json: an array of runs in rank order, each with rank, run, options, baseline (the baseline's name),
    /// is_baseline, rank_by, verdict and verdict_text (on the ranking metric), per metric mean, std, the values of every
    /// repeat and against the baseline diff_mean, diff_std, t (null when infinite), test (paired t-test, identical results,
    /// the same difference in every repeat, undefined), p_value and verdict (all null for the baseline), and per-class recall.
    /// </summary>
    internal static string SummaryJson(IReadOnlyList<Compared> ranked, IReadOnlyList<string> classes, string baseline, string rankBy) =>
        JsonSerializer.Serialize(ranked.Select(c => new
        {
            rank = c.Rank,
            run = c.Run.Spec.Name,
            options = c.Run.Spec.Text,
            baseline,
            is_baseline = c.IsBaseline,
            rank_by = rankBy,
            verdict = Word(c.Verdict),
            verdict_text = VerdictText(c, rankBy),
            metrics = Metrics.ToDictionary(m => m, m => new
            {
                mean = MetricsView.N(c.Run.Values(m).Average()),
                std = MetricsView.N(Std(c.Run.Values(m))),
                values = c.Run.Values(m).Select(v => MetricsView.N(v)),
                diff_mean = c.IsBaseline ? null : MetricsView.N(c.Tests![m].MeanDifference),
                diff_std = c.IsBaseline ? null : MetricsView.N(c.Tests![m].StdDifference),
                t = c.IsBaseline ? null : MetricsView.N(c.Tests![m].T),
                test = c.IsBaseline ? null : c.Tests![m].Case switch
                {
                    PairedTTestCase.Identical => "identical results",
                    PairedTTestCase.ConstantDifference => "the same difference in every repeat",
                    PairedTTestCase.Undefined => "undefined",
                    _ => "paired t-test",
                },
                p_value = c.IsBaseline ? null : MetricsView.N(c.Tests![m].PValue),
                verdict = c.IsBaseline ? null : Word(Classify(c.Tests![m], m)),
            }),
            recall = classes.Select((name, k) => new { @class = name, mean = MetricsView.N(Recall(c.Run, k).Average()), std = MetricsView.N(Std(Recall(c.Run, k))) }),
        }), new JsonSerializerOptions { WriteIndented = true });

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
