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
        var output = new Option<string>("--out") { Description = "Folder for model.safetensors, history, metrics.json and config.json.", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite files in a non-empty --out folder." };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Write out/checkpoint.safetensors every N steps (0: each epoch)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from out/checkpoint.safetensors (same options)." };
        var options = new TrainOptionSet();
        var command = new Command("train", "Train a classifier on a CSV file.") { data, label, output, force, checkpointEvery, resume };
        options.AddTo(command);
        command.SetAction(parse =>
        {
            PipelineOptions pipeline = options.Read(parse);
            int every = parse.GetValue(checkpointEvery);
            if (every < 0)
            {
                throw new InputException($"--checkpoint-every must be 0 or more, got {every}.");
            }

            string dir = OutputDirectory.Prepare(parse.GetRequiredValue(output), parse.GetValue(force), parse.GetValue(resume));
            string checkpoint = Path.Combine(dir, "checkpoint.safetensors");
            if (parse.GetValue(resume) && !File.Exists(checkpoint))
            {
                throw new InputException($"--resume: no checkpoint at {checkpoint}.");
            }

            pipeline = pipeline with { Trainer = pipeline.Trainer with { CheckpointPath = checkpoint, CheckpointEverySteps = every } };
            Dataset dataset = ReadData(parse.GetRequiredValue(data).FullName, new CsvReadOptions { LabelColumn = parse.GetRequiredValue(label) });
            return Run(context, dataset, pipeline, dir, parse.GetValue(resume), parse.GetRequiredValue(data).Name);
        });
        return command;
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

    internal static int Run(CliContext context, Dataset dataset, PipelineOptions pipeline, string dir, bool resume, string dataName)
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

        ModelFile.Save(Path.Combine(dir, "model.safetensors"), result.Model, result.Info);
        training.History.WriteTo(dir);
        Xent.Data.AtomicFile.WriteAllText(Path.Combine(dir, "metrics.json"), MetricsView.ToJson(result.Evaluation, dataset.ClassNames, result.EvaluatedOn));
        string config = TrainingPipeline.Describe(pipeline);
        Xent.Data.AtomicFile.WriteAllText(Path.Combine(dir, "config.json"), config);
        string html = Xent.Reports.TrainingReport.Build(result, config, dataName).Write(dir);
        Xent.Data.AtomicFile.WriteAllText(Path.Combine(dir, "report.txt"), ClassificationReport.Format(result.Evaluation.Metrics, dataset.ClassNames));
        MetricsView.Render(console, result.Evaluation, dataset.ClassNames, $"{result.EvaluatedOn} split ({result.Evaluation.Predicted.Length} rows)");
        console.WriteLine($"Wrote model.safetensors, history.csv, epochs.csv, history.json, metrics.json, config.json, report.txt and the charts to {dir}");
        console.WriteLine($"Report: {html}");
        return ExitCodes.Success;
    }
}
