using System.CommandLine;
using System.Globalization;
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
        var data = new Option<FileInfo>("--data") { Description = "A CSV with the model's feature columns (a label column is optional and ignored).", Required = true };
        var label = new Option<string>("--label") { Description = "The label column's name, skipped if present.", DefaultValueFactory = _ => "label" };
        var output = new Option<string?>("--out") { Description = "Write the predictions to this CSV (default: standard output)." };
        var force = new Option<bool>("--force") { Description = "Overwrite --out if it exists." };
        var command = new Command("predict", "Predict classes and probabilities for the rows of a CSV.") { model, data, label, output, force };
        command.SetAction(parse =>
        {
            string? outPath = parse.GetValue(output);
            if (outPath is not null && File.Exists(outPath) && !parse.GetValue(force))
            {
                throw new InputException($"--out {outPath}: the file exists; pass --force to overwrite it.");
            }

            (Sequential net, ModelInfo info) = EvaluateCommand.LoadModel(parse.GetRequiredValue(model).FullName);
            Dataset raw = TrainCommand.ReadData(parse.GetRequiredValue(data).FullName, new CsvReadOptions { LabelColumn = parse.GetRequiredValue(label), LabelOptional = true, ClassNames = info.ClassNames });
            Dataset dataset = EvaluateCommand.Prepare(raw, info);
            float[] probabilities = Evaluation.PredictProbabilities(net, dataset, info.Loss == "nll");
            int classes = info.ClassNames.Count;
            var csv = new StringBuilder("row,predicted");
            foreach (string c in info.ClassNames)
            {
                csv.Append(",p_").Append(c);
            }

            csv.Append('\n');
            for (int i = 0; i < dataset.Count; i++)
            {
                ReadOnlySpan<float> p = probabilities.AsSpan(i * classes, classes);
                csv.Append(CultureInfo.InvariantCulture, $"{i + 1},{info.ClassNames[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p)]}");
                foreach (float v in p)
                {
                    csv.Append(',').Append(v.ToString("G6", CultureInfo.InvariantCulture));
                }

                csv.Append('\n');
            }

            if (outPath is null)
            {
                context.Out.Write(csv.ToString());
            }
            else
            {
                AtomicFile.WriteAllText(outPath, csv.ToString());
                context.Error.WriteLine($"Wrote {dataset.Count} predictions to {outPath}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
