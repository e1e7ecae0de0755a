using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Xent.Cli.LossCases;
using Xent.Cli.Training;
using Xent.Data;
using Xent.Diagnostics;
using Xent.Metrics;
using Xent.Training;

namespace Xent.Cli.Commands;

/// <summary><c>xent train</c>: trains an MLP on a CSV and writes the model, history, metrics and config.</summary>
internal static class TrainCommand
{
    public static Command Create(CliContext context)
    {
        var data = new Option<FileInfo>("--data") { Description = "Training CSV: a header row, numeric features and a label column.", Required = true };
        var label = new Option<string>("--label") { Description = "The label column's name.", DefaultValueFactory = _ => "label" };
        var output = new Option<string>("--out") { Description = "Folder for model.safetensors, history, metrics.json and config.json (locked while the run lasts).", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace the files of a previous run in --out (other files stay)." };
        var checkpointEvery = new Option<string>("--checkpoint-every") { Description = "When to write out/checkpoint.safetensors: epoch (each epoch), N (every N steps, and at the end) or never.", DefaultValueFactory = _ => "epoch" };
        var resume = new Option<bool>("--resume") { Description = "Continue from out/checkpoint.safetensors (same options and data)." };
        var options = new TrainOptionSet();
        var command = new Command("train", "Train a classifier on a CSV file.") { data, label, output, force, checkpointEvery, resume };
        options.AddTo(command);
        command.SetAction(parse =>
        {
            PipelineOptions pipeline = options.Read(parse);
            (bool checkpoints, int every) = ParseCheckpointEvery(parse.GetRequiredValue(checkpointEvery));
            bool resuming = parse.GetValue(resume);
            if (resuming && !checkpoints)
            {
                throw new InputException("--resume needs checkpoints, but --checkpoint-every never turns them off.");
            }

            RunDirectoryMode mode = resuming ? RunDirectoryMode.Resume : parse.GetValue(force) ? RunDirectoryMode.Overwrite : RunDirectoryMode.New;
            using RunDirectory dir = RunDirectory.Open(parse.GetRequiredValue(output), mode);
            Dataset dataset = ReadData(parse.GetRequiredValue(data).FullName, new CsvReadOptions { LabelColumn = parse.GetRequiredValue(label) });
            if (mode == RunDirectoryMode.Overwrite)
            {
                // Only once the data and options are known to be usable: a refused run must not cost the previous one.
                try
                {
                    TrainingPipeline.Check(dataset, pipeline);
                }
                catch (ArgumentException e)
                {
                    throw new InputException(e.Message, e);
                }

                dir.ClearPreviousRun();
            }

            pipeline = pipeline with
            {
                Trainer = pipeline.Trainer with { CheckpointPath = checkpoints ? dir.CheckpointPath : null, CheckpointEverySteps = every, HistoryDirectory = dir.Path },
            };
            return Run(context, dataset, pipeline, dir, resuming, parse.GetRequiredValue(data).Name);
        });
        return command;
    }

    /// <summary>Reads --checkpoint-every: <c>epoch</c> (or 0), a step count, or <c>never</c>.</summary>
    internal static (bool Enabled, int EverySteps) ParseCheckpointEvery(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t is "epoch" or "0")
        {
            return (true, 0);
        }

        if (t is "never" or "none" or "off")
        {
            return (false, 0);
        }

        return int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? (true, n)
            : throw new InputException($"--checkpoint-every: '{text}' is not epoch, a number of steps (1 or more) or never.");
    }

    internal static Dataset ReadData(string path, CsvReadOptions options)
    {
        try
        {
            return CsvDatasetReader.Read(path, options);
        }
        catch (Exception e) when (e is DataFormatException or FileNotFoundException or IOException)
        {
            throw new InputException(e.Message, e);
        }
    }

    internal static int Run(CliContext context, Dataset dataset, PipelineOptions pipeline, RunDirectory dir, bool resume, string dataName)
    {
        IAnsiConsole console = context.Console;
        int[] counts = dataset.ClassCounts();
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{dataset.Count} rows, {dataset.FeatureCount} features, {dataset.ClassCount} classes ({string.Join(", ", dataset.ClassNames.Select((c, i) => $"{c}: {counts[i]}"))})"));
        var sink = new DiagnosticCollector();
        int trainRows = dataset.Count - (int)Math.Round(dataset.Count * (pipeline.ValidationFraction + pipeline.TestFraction));
        int steps = pipeline.Trainer.Epochs * Math.Max(1, BatchOrder.BatchCount(Math.Max(1, trainRows), pipeline.Trainer.BatchSize));
        PipelineResult result;
        try
        {
            result = TrainingProgressView.Run(context, "train", steps, progress => TrainingPipeline.Run(dataset, pipeline, progress, sink, resume));
        }
        catch (ArgumentException e)
        {
            throw new InputException(e.Message, e);
        }
        catch (InvalidDataException e)
        {
            throw new InputException(e.Message, e);
        }

        foreach (Diagnostic d in sink.Items)
        {
            console.MarkupLine($"[yellow]{Markup.Escape(d.ToString())}[/]");
        }

        TrainingResult training = result.Training;
        if (training.StoppedEarly)
        {
            console.WriteLine($"Early stopping after epoch {training.History.Epochs.Count}; keeping the weights of epoch {training.BestEpoch + 1}.");
        }

        if (result.ClassWeights is { } w)
        {
            console.WriteLine("Class weights: " + string.Join(", ", dataset.ClassNames.Select((c, i) => string.Create(CultureInfo.InvariantCulture, $"{c} {w[i]:G4}"))));
        }

        string staging = dir.StagingPath;
        ModelFile.Save(Path.Combine(staging, "model.safetensors"), result.Model, result.Info);
        Xent.Data.AtomicFile.WriteAllText(Path.Combine(staging, "metrics.json"), MetricsView.ToJson(result.Evaluation, dataset.ClassNames, result.EvaluatedOn));
        string config = TrainingPipeline.Describe(pipeline);
        Xent.Data.AtomicFile.WriteAllText(Path.Combine(staging, "config.json"), config);
        Xent.Reports.TrainingReport.Build(result, config, dataName).Write(staging);
        Xent.Data.AtomicFile.WriteAllText(Path.Combine(staging, "report.txt"), ClassificationReport.Format(result.Evaluation.Metrics, dataset.ClassNames));
        dir.Publish();
        string html = Path.Combine(dir.Path, "report.html");
        MetricsView.Render(console, result.Evaluation, dataset.ClassNames, $"{result.EvaluatedOn} split ({result.Evaluation.Predicted.Length} rows)");
        console.WriteLine($"Wrote model.safetensors, history.csv, epochs.csv, metrics.json, config.json, report.txt and the charts to {dir.Path}");
        console.WriteLine($"Report: {html}");
        return ExitCodes.Success;
    }
}
