using System.CommandLine;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using Xent.Cli.LossCases;
using Xent.Cli.Training;
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
        var data = new Option<FileInfo>("--data") { Description = "A CSV with the model's feature columns, found by name in any order; other columns (a label, ids) are ignored. Or image data: fashion-mnist (its 10,000 t10k test images) or an IDX images file (…-images-idx3-ubyte[.gz]; a labels file is not needed).", Required = true };
        var label = new Option<string>("--label") { Description = "Kept for compatibility: predict reads only the model's input columns, so a label column is always ignored.", DefaultValueFactory = _ => "label" };
        var logitAdjust = new Option<double?>("--logit-adjust") { Description = "Post-hoc logit adjustment: predict argmax of z − TAU·log π, π the training class prior stored in the model." };
        var noHeader = new Option<bool>("--no-header") { Description = "The file has no header row; columns are named c0, c1, …." };
        var id = new Option<string?>("--id") { Description = "Copy this column's values into the output, as its first column (for example an id)." };
        var output = new Option<string?>("--out") { Description = "Write the predictions to this CSV (default: standard output)." };
        var force = new Option<bool>("--force") { Description = "Overwrite --out if it exists." };
        var command = new Command("predict", "Predict classes and probabilities for the rows of a CSV, or for images (no labels needed).") { model, data, label, id, noHeader, logitAdjust, output, force };
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

            if (outPath is not null && Xent.Data.OutputPath.WhyNotFile(outPath) is { } why)
            {
                throw new InputException($"--out {outPath}: {why}");
            }

            string? idColumn = parse.GetValue(id);
            if (idColumn is { Length: 0 })
            {
                throw new InputException("--id: expected a column name.");
            }

            (Sequential net, ModelInfo info) = EvaluateCommand.LoadModel(parse.GetRequiredValue(model).FullName);
            string dataPath = parse.GetRequiredValue(data).FullName;
            bool images = ImageData.Names(dataPath);
            if (images && idColumn is not null)
            {
                throw new InputException($"--id {idColumn}: image data has no columns to copy; the output's row column numbers the images from 1.");
            }

            if (!images && !File.Exists(dataPath))
            {
                throw new InputException(Directory.Exists(dataPath) ? $"{dataPath}: a folder, not a CSV file." : $"{dataPath}: file not found.");
            }

            double[]? offset = EvaluateCommand.LogitOffset(info, parse.GetValue(logitAdjust));
            TableReadOptions read = EvaluateCommand.ReadOptions(info, null, idColumn, !parse.GetValue(noHeader));
            long rows = 0, unseen = 0;
            (UnseenCategory Cell, long DataRow)? firstUnseen = null;

            // The file is read, encoded and predicted in chunks, so memory does not grow with the row count. Only the
            // model's input columns (by name) and the id column are read: a label column is never parsed.
            // The header goes out with the first chunk that encoded and predicted, so that input refused in the first
            // chunk leaves nothing on standard output (later chunks stream after rows already written).
            void WriteAll(TextWriter writer)
            {
                bool header = false;
                void Header()
                {
                    if (!header)
                    {
                        writer.Write(Format(info.ClassNames, [], idColumn, null));
                        header = true;
                    }
                }

                if (images)
                {
                    // The images are read whole (their pixels are the table); they are predicted a chunk at a time.
                    EvaluateCommand.ModelInput all = EvaluateCommand.ReadImagesForModel(dataPath, info, labelsOptional: true);
                    int classes = info.ClassNames.Count;
                    float[] p = all.Data is { } encoded
                        ? Evaluation.PredictProbabilities(net, encoded, info.Loss == "nll", offset, info.LogitScale)
                        : Evaluation.PredictProbabilities(net, info.Preprocessor!, all.Table, info.Loss == "nll", offset, info.LogitScale);
                    Header();
                    for (int start = 0; start < all.Table.Count; start += ChunkRows)
                    {
                        int m = Math.Min(ChunkRows, all.Table.Count - start);
                        writer.Write(Format(info.ClassNames, p[(start * classes)..((start + m) * classes)], null, null, firstRow: rows + 1, header: false));
                        rows += m;
                    }

                    Header();
                    return;
                }

                foreach (DataTable chunk in CsvTableReader.ReadChunks(dataPath, read, ChunkRows))
                {
                    EvaluateCommand.ModelInput input = EvaluateCommand.Encode(chunk, info, dataPath, firstRow: rows + 1);
                    float[] probabilities = Evaluation.PredictProbabilities(net, input.Data ?? throw new InvalidOperationException("CSV rows are encoded when read."), info.Loss == "nll", offset, info.LogitScale);
                    Header();
                    writer.Write(Format(info.ClassNames, probabilities, idColumn, chunk.Ids, firstRow: rows + 1, header: false));
                    rows += chunk.Count;
                    unseen += input.UnseenCells;
                    firstUnseen ??= input.FirstUnseen;
                }

                Header();
            }

            if (outPath is null)
            {
                WriteAll(context.Out);
            }
            else
            {
                AtomicFile.Write(outPath, stream =>
                {
                    using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
                    WriteAll(writer);
                });
                context.Error.WriteLine($"Wrote {rows} predictions to {outPath}");
            }

            if (unseen > 0)
            {
                context.Error.WriteLine(EvaluateCommand.UnseenNote(unseen, firstUnseen));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Rows per chunk when predicting a file.</summary>
    internal const int ChunkRows = 8192;

    /// <summary>The predictions as CSV: [id,] row, predicted, p_&lt;class&gt;…, every field escaped (RFC 4180).</summary>
    internal static string Format(IReadOnlyList<string> classNames, float[] probabilities, string? idColumn, IReadOnlyList<string>? ids, long firstRow = 1, bool header = true)
    {
        int classes = classNames.Count;
        int rows = probabilities.Length / classes;
        var csv = new StringBuilder();
        if (header)
        {
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
        }

        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> p = probabilities.AsSpan(i * classes, classes);
            if (idColumn is not null)
            {
                csv.AppendEscaped(ids![i]).Append(',');
            }

            csv.Append(firstRow + i).Append(',').AppendEscaped(classNames[TensorPrimitives.IndexOfMax(p)]);
            foreach (float v in p)
            {
                csv.Append(',').Append(v.ToString("G6", CultureInfo.InvariantCulture));
            }

            csv.Append('\n');
        }

        return csv.ToString();
    }
}
