using System.CommandLine;
using Xent.Cli.LossCases;
using Xent.Cli.Training;
using Xent.Data;
using Xent.Nn;
using Xent.Training;

namespace Xent.Cli.Commands;

/// <summary><c>xent evaluate</c>: scores a saved model on a labelled CSV.</summary>
internal static class EvaluateCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<FileInfo>("--model") { Description = "A model written by xent train (model.safetensors).", Required = true };
        var data = new Option<FileInfo>("--data") { Description = "A labelled CSV with the model's feature columns.", Required = true };
        var label = new Option<string>("--label") { Description = "The label column's name.", DefaultValueFactory = _ => "label" };
        var command = new Command("evaluate", "Print the classification report and confusion matrix of a saved model on a CSV.") { model, data, label };
        command.SetAction(parse =>
        {
            (Sequential net, ModelInfo info) = LoadModel(parse.GetRequiredValue(model).FullName);
            // The model's features are found by name, in any order; other columns are skipped.
            Dataset dataset = Prepare(ReadTable(parse.GetRequiredValue(data).FullName, new CsvReadOptions { LabelColumn = parse.GetRequiredValue(label), ClassNames = info.ClassNames, FeatureColumns = info.FeatureNames }).Dataset, info);
            EvaluationResult result = Evaluation.Evaluate(net, dataset, info.Loss == "nll");
            MetricsView.Render(context.Console, result, info.ClassNames, $"{dataset.Count} rows");
            return ExitCodes.Success;
        });
        return command;
    }

    internal static (Sequential Model, ModelInfo Info) LoadModel(string path)
    {
        try
        {
            return ModelFile.Load(path);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            throw new InputException(e.Message, e);
        }
    }

    /// <summary>Reads a CSV; a malformed or missing file is bad input (exit 2).</summary>
    internal static CsvTable ReadTable(string path, CsvReadOptions options)
    {
        try
        {
            return CsvDatasetReader.ReadTable(path, options);
        }
        catch (Exception e) when (e is DataFormatException or FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            throw new InputException(e.Message, e);
        }
    }

    /// <summary>Checks the columns against the model and applies its standardisation.</summary>
    internal static Dataset Prepare(Dataset data, ModelInfo info)
    {
        if (!data.FeatureNames.SequenceEqual(info.FeatureNames))
        {
            string missing = string.Join(", ", info.FeatureNames.Except(data.FeatureNames).Take(5));
            throw new InputException($"The data's feature columns differ from the model's ({info.FeatureNames.Count} expected, {data.FeatureCount} found{(missing.Length > 0 ? "; missing: " + missing : "; same names in another order")}).");
        }

        return info.Standardizer is { } s ? s.Transform(data) : data;
    }
}
