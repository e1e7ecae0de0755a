using System.CommandLine;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using Xent.Cli.LossCases;
using Xent.Data;
using Xent.Nn;
using Xent.Training;

namespace Xent.Cli.Commands;

/// <summary><c>xent predict</c>: writes each row's predicted class and class probabilities.</summary>
internal static class PredictCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<FileInfo>("--model") { Description = "A model written by xent train.", Required = true };
        var data = new Option<FileInfo>("--data") { Description = "A CSV with the model's feature columns, found by name in any order; other columns (a label, ids) are ignored.", Required = true };
        var label = new Option<string>("--label") { Description = "Kept for compatibility: predict reads only the model's input columns, so a label column is always ignored.", DefaultValueFactory = _ => "label" };
        var logitAdjust = new Option<double?>("--logit-adjust") { Description = "Post-hoc logit adjustment: predict argmax of z − TAU·log π, π the training class prior stored in the model." };
        var noHeader = new Option<bool>("--no-header") { Description = "The file has no header row; columns are named c0, c1, …." };
        var id = new Option<string?>("--id") { Description = "Copy this column's values into the output, as its first column (for example an id)." };
        var output = new Option<string?>("--out") { Description = "Write the predictions to this CSV (default: standard output)." };
        var force = new Option<bool>("--force") { Description = "Overwrite --out if it exists." };
        var command = new Command("predict", "Predict classes and probabilities for the rows of a CSV.") { model, data, label, id, noHeader, logitAdjust, output, force };
        command.SetAction(parse =>
        {
            string? outPath = parse.GetValue(output);
            if (outPath is not null && File.Exists(outPath) && !parse.GetValue(force))
            {
                throw new InputException($"--out {outPath}: the file exists; pass --force to overwrite it.");
            }

            if (outPath is not null && Path.GetFullPath(outPath) == parse.GetRequiredValue(data).FullName)
            {
                throw new InputException($"--out {outPath}: that is the --data file; write the predictions to another file.");
            }

            if (outPath is not null && Directory.Exists(outPath))
            {
                throw new InputException($"--out {outPath}: a folder of that name exists; --out names the predictions file.");
            }

            if (outPath is not null && Path.GetDirectoryName(Path.GetFullPath(outPath)) is { } folder && !Directory.Exists(folder))
            {
                throw new InputException($"--out {outPath}: the folder {folder} does not exist.");
            }

            string? idColumn = parse.GetValue(id);
            if (idColumn is { Length: 0 })
            {
                throw new InputException("--id: expected a column name.");
            }

            (Sequential net, ModelInfo info) = EvaluateCommand.LoadModel(parse.GetRequiredValue(model).FullName);
            // Only the model's input columns (by name) and the id column are read: a label column is never parsed.
            EvaluateCommand.ModelInput input = EvaluateCommand.ReadForModel(parse.GetRequiredValue(data).FullName, info, null, idColumn, !parse.GetValue(noHeader));
            Dataset dataset = input.Data;
            float[] probabilities = Evaluation.PredictProbabilities(net, dataset, info.Loss == "nll", EvaluateCommand.LogitOffset(info, parse.GetValue(logitAdjust)), info.LogitScale);
            string csv = Format(info.ClassNames, probabilities, idColumn, input.Table.Ids);
            if (input.UnseenCells > 0)
            {
                context.Error.WriteLine($"{input.UnseenCells} cells hold a category the training rows do not have (encoded as all zeros).");
            }

            if (outPath is null)
            {
                context.Out.Write(csv);
            }
            else
            {
                AtomicFile.WriteAllText(outPath, csv);
                context.Error.WriteLine($"Wrote {dataset.Count} predictions to {outPath}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The predictions as CSV: [id,] row, predicted, p_&lt;class&gt;…, every field escaped (RFC 4180).</summary>
    internal static string Format(IReadOnlyList<string> classNames, float[] probabilities, string? idColumn, IReadOnlyList<string>? ids)
    {
        int classes = classNames.Count;
        int rows = probabilities.Length / classes;
        var csv = new StringBuilder();
        if (idColumn is not null)
        {
            csv.AppendEscaped(idColumn).Append(',');
        }

        csv.Append("row,predicted");
        foreach (string c in classNames)
        {
            csv.Append(',').AppendEscaped("p_" + c);
        }

        csv.Append('\n');
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> p = probabilities.AsSpan(i * classes, classes);
            if (idColumn is not null)
            {
                csv.AppendEscaped(ids![i]).Append(',');
            }

            csv.Append(i + 1).Append(',').AppendEscaped(classNames[TensorPrimitives.IndexOfMax(p)]);
            foreach (float v in p)
            {
                csv.Append(',').Append(v.ToString("G6", CultureInfo.InvariantCulture));
            }

            csv.Append('\n');
        }

        return csv.ToString();
    }
}
