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
/// order, overlays their curves, tabulates their final metrics (mean ± std over repeats) and ranks them.
/// </summary>
internal static class CompareCommand
{
    internal static readonly string[] Metrics = ["accuracy", "balanced_accuracy", "macro_f1", "log_loss", "ece"];

    internal sealed record RunSpec(string Name, PipelineOptions Options, string Text);

    internal sealed record RunResult(RunSpec Spec, IReadOnlyList<PipelineResult> Repeats)
    {
        public double[] Values(string metric) => [.. Repeats.Select(r => Metric(r.Evaluation, metric))];
    }

    internal static double Metric(EvaluationResult e, string metric) => metric switch
    {
        "accuracy" => e.Metrics.Accuracy,
        "balanced_accuracy" => e.Metrics.BalancedAccuracy,
        "macro_f1" => e.Metrics.MacroF1,
        "log_loss" => e.LogLoss,
        "ece" => e.ExpectedCalibrationError,
        _ => throw new InputException($"--rank-by: unknown metric '{metric}'; choose one of {string.Join(", ", Metrics)}."),
    };

    public static Command Create(CliContext context)
    {
        var data = new Option<FileInfo>("--data") { Description = "The CSV to train on.", Required = true };
        var label = new Option<string>("--label") { Description = "The label column's name.", DefaultValueFactory = _ => "label" };
        var run = new Option<string[]>("--run") { Description = "A run: NAME=OPTIONS, the options of xent train, e.g. smooth=\"--label-smoothing 0.1\". Repeat for each run.", AllowMultipleArgumentsPerToken = false };
        var runs = new Option<FileInfo?>("--runs") { Description = "A JSON or YAML file: {runs: [{name: ..., options: ...}]}." };
        var common = new Option<string>("--common") { Description = "Options given to every run (before its own), e.g. \"--epochs 20 --hidden 32\".", DefaultValueFactory = _ => string.Empty };
        var repeats = new Option<int>("--repeats") { Description = "Repeat every run over this many seeds and report mean ± std.", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { Description = "The first seed (repeat r uses seed + r); every run shares it." };
        var rankBy = new Option<string>("--rank-by") { Description = "accuracy, balanced_accuracy, macro_f1, log_loss or ece.", DefaultValueFactory = _ => "balanced_accuracy" };
        var output = new Option<string?>("--out") { Description = "Folder for report.html, summary.csv and summary.json (default: a new folder under runs/)." };
        var force = new Option<bool>("--force") { Description = "Write into a non-empty --out folder." };
        var command = new Command("compare", "Train several option sets on the same split and batches, and compare their curves and metrics.") { data, label, run, runs, common, repeats, seed, rankBy, output, force };
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

            Dataset dataset = TrainCommand.ReadData(parse.GetRequiredValue(data).FullName, new CsvReadOptions { LabelColumn = parse.GetRequiredValue(label) });
            string dir = OutputDirectory.Prepare(parse.GetValue(output) ?? OutputDirectory.Default("compare"), parse.GetValue(force));
            return Run(context, dataset, specs, k, parse.GetValue(seed), metric, dir, parse.GetRequiredValue(data).Name);
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

    internal static int Run(CliContext context, Dataset dataset, IReadOnlyList<RunSpec> specs, int repeats, ulong seed, string rankBy, string dir, string dataName)
    {
        IAnsiConsole console = context.Console;
        console.WriteLine($"{dataset.Count} rows, {dataset.ClassCount} classes; {specs.Count} run(s) × {repeats} repeat(s) on the same splits and batches (seeds {seed}..{seed + (ulong)repeats - 1}).");
        var results = new List<RunResult>();
        foreach (RunSpec spec in specs)
        {
            var repeatsList = new List<PipelineResult>();
            for (int r = 0; r < repeats; r++)
            {
                PipelineOptions options = spec.Options with { Trainer = spec.Options.Trainer with { Seed = seed + (ulong)r } };
                int steps = options.Trainer.Epochs * BatchOrder.BatchCount(Math.Max(1, (int)(dataset.Count * (1 - options.ValidationFraction - options.TestFraction))), options.Trainer.BatchSize);
                try
                {
                    repeatsList.Add(TrainingProgressView.Run(context, $"{spec.Name} #{r + 1}", steps, p => TrainingPipeline.Run(dataset, options, p)));
                }
                catch (ArgumentException e)
                {
                    throw new InputException($"Run '{spec.Name}': {e.Message}", e);
                }
            }

            results.Add(new RunResult(spec, repeatsList));
        }

        bool higherIsBetter = rankBy is not ("log_loss" or "ece");
        var ranked = results.OrderBy(r => (higherIsBetter ? -1 : 1) * r.Values(rankBy).Average()).ToList();
        string[] headers = ["rank", "run", .. Metrics, .. dataset.ClassNames.Select(c => $"recall {c}")];
        var rows = ranked.Select((r, i) => (string[])
        [
            (i + 1).ToString(CultureInfo.InvariantCulture), r.Spec.Name,
            .. Metrics.Select(m => MeanStd(r.Values(m))),
            .. dataset.ClassNames.Select((_, c) => MeanStd([.. r.Repeats.Select(p => p.Evaluation.Metrics.PerClass[c].Recall)])),
        ]).ToList();
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"Ranked by {rankBy} (mean ± std over {repeats} repeat(s), test split)"));
        foreach (string h in headers)
        {
            table.AddColumn(new TableColumn(Markup.Escape(h)));
        }

        foreach (string[] row in rows)
        {
            table.AddRow([.. row.Select(Markup.Escape)]);
        }

        console.Write(table);

        var report = new HtmlReport($"Xent comparison: {dataName}");
        report.Paragraph($"{specs.Count} runs × {repeats} repeats on {dataName} ({dataset.Count} rows). Every run of a repeat shares the split, initialisation seed and batch order. Ranked by {rankBy}; metrics on the test split, mean ± std over repeats.");
        report.Table("Results", headers, rows);
        var firsts = results.Select(r => (r.Spec.Name, r.Repeats[0])).ToList();
        report.Heading("Curves (first repeat)");
        report.Chart("loss", TrainingCharts.Loss([.. firsts.Select(f => (f.Name, f.Item2.Training.History))]));
        report.Chart("accuracy", TrainingCharts.Accuracy([.. firsts.Select(f => (f.Name, f.Item2.Training.History))]));
        report.Heading("Per class and calibration");
        var recall = new Xent.Reports.BarChart("Per-class recall (mean over repeats)", dataset.ClassNames, "recall") { YRange = (0, 1) };
        foreach (RunResult r in results)
        {
            recall.Add(r.Spec.Name, [.. dataset.ClassNames.Select((_, c) => r.Repeats.Average(p => p.Evaluation.Metrics.PerClass[c].Recall))]);
        }

        report.Chart("recall", recall);
        report.Chart("reliability", TrainingCharts.Reliability([.. firsts.Select(f => (f.Name, f.Item2.Evaluation.Reliability))]));
        report.Heading("Runs");
        report.Table("Options of each run", ["run", "options", "config"], results.Select(r => (IReadOnlyList<string>)[r.Spec.Name, r.Spec.Text, TrainingPipeline.Describe(r.Spec.Options).ReplaceLineEndings(" ")]));
        string html = report.Write(dir);

        var csv = new StringBuilder(string.Join(",", headers.Select(CsvText.Escape)) + "\n");
        foreach (string[] row in rows)
        {
            csv.Append(string.Join(",", row.Select(CsvText.Escape))).Append('\n');
        }

        AtomicFile.WriteAllText(Path.Combine(dir, "summary.csv"), csv.ToString());
        AtomicFile.WriteAllText(Path.Combine(dir, "summary.json"), JsonSerializer.Serialize(ranked.Select(r => new
        {
            run = r.Spec.Name,
            options = r.Spec.Text,
            metrics = Metrics.ToDictionary(m => m, m => new { mean = r.Values(m).Average(), std = Std(r.Values(m)), values = r.Values(m) }),
            recall = dataset.ClassNames.Select((c, i) => new { @class = c, mean = r.Repeats.Average(p => p.Evaluation.Metrics.PerClass[i].Recall) }),
        }), new JsonSerializerOptions { WriteIndented = true }));
        console.WriteLine($"Report: {html}");
        return ExitCodes.Success;
    }

    private static double Std(double[] v) => v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - v.Average()) * (x - v.Average())) / (v.Length - 1)) : 0;

    private static string MeanStd(double[] v) => string.Create(CultureInfo.InvariantCulture, $"{v.Average():F4} ± {Std(v):F4}");
}
