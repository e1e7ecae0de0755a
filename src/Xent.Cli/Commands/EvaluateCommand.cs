using System.CommandLine;
using Spectre.Console;
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
        var data = new Option<FileInfo>("--data") { Description = "A labelled CSV with the model's input columns (found by name, in any order; other columns are skipped); or image data: fashion-mnist (its 10,000 t10k test images) or an IDX images file (…-images-idx3-ubyte[.gz], its labels file beside it).", Required = true };
        var label = new Option<string?>("--label") { Description = "The label column: its name or 0-based index. Default: the model's training label column." };
        var noHeader = new Option<bool>("--no-header") { Description = "The file has no header row; columns are named c0, c1, …." };
        var eceBins = new Option<int>("--ece-bins") { Description = "Bins of the expected calibration error and the reliability diagram.", DefaultValueFactory = _ => Xent.Metrics.Calibration.DefaultBins };
        var logitAdjust = new Option<double?>("--logit-adjust") { Description = "Post-hoc logit adjustment: predict argmax of z − TAU·log π, π the training class prior stored in the model (1 is the usual TAU)." };
        var command = new Command("evaluate", "Print the classification report and confusion matrix of a saved model on a labelled CSV or on images.") { model, data, label, noHeader, eceBins, logitAdjust };
        command.SetAction(parse =>
        {
            int bins = parse.GetValue(eceBins) is var b and >= 1 ? b : throw new InputException($"--ece-bins must be at least 1, got {parse.GetValue(eceBins)}.");
            (Sequential net, ModelInfo info) = LoadModel(parse.GetRequiredValue(model).FullName);
            ModelInput input = ImageData.Names(parse.GetRequiredValue(data).FullName)
                ? ReadImagesForModel(parse.GetRequiredValue(data).FullName, info)
                : ReadForModel(parse.GetRequiredValue(data).FullName, info, parse.GetValue(label) ?? info.LabelColumn ?? "label", null, !parse.GetValue(noHeader));
            EvaluationResult result = input.Data is { } rows
                ? Evaluation.Evaluate(net, rows, info.Loss == "nll", bins, LogitOffset(info, parse.GetValue(logitAdjust)), info.LogitScale)
                : Evaluation.Evaluate(net, info.Preprocessor!, input.Table, info.Loss == "nll", bins, LogitOffset(info, parse.GetValue(logitAdjust)), info.LogitScale);
            int overlap = info.CountTrainingRows(input.Table);
            if (overlap > 0)
            {
                context.Console.MarkupLine(Markup.Escape(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"warning: {overlap} of these {input.Table.Count} rows ({100.0 * overlap / input.Table.Count:F1}%) have the same inputs as rows the model was trained on; if this is the training file, the scores overstate how the model does on new data. Evaluate on a separate file (train --test-data) or the saved test split (train --save-splits)."))
                    .Insert(0, "[yellow]") + "[/]");
            }

            if (input.UnseenCells > 0)
            {
                context.Console.WriteLine(UnseenNote(input.UnseenCells, input.FirstUnseen));
            }

            string adjusted = parse.GetValue(logitAdjust) is double tau ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $", post-hoc logit adjustment τ = {tau}") : string.Empty;
            MetricsView.Render(context.Console, result, info.ClassNames, $"{input.Table.Count} rows{adjusted}");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The post-hoc logit adjustment --logit-adjust asks for, or null.</summary>
    internal static double[]? LogitOffset(ModelInfo info, double? tau)
    {
        if (tau is not double t)
        {
            return null;
        }

        if (!double.IsFinite(t) || t < 0)
        {
            throw new InputException($"--logit-adjust must be a finite number ≥ 0 (1 is the usual τ; a negative τ pushes predictions towards the frequent classes), got {t}.");
        }

        if (info.ClassCounts is not { } counts)
        {
            throw new InputException("--logit-adjust needs the training class counts, which this model file does not hold (it was trained by an older Xent); retrain it.");
        }

        try
        {
            return Evaluation.LogitAdjustment(counts, t);
        }
        catch (ArgumentException e)
        {
            throw new InputException($"--logit-adjust: {e.Message}", e);
        }
    }

    internal static (Sequential Model, ModelInfo Info) LoadModel(string path)
    {
        try
        {
            return ModelFile.Load(path);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InputException(e.Message, e);
        }
    }

    /// <summary>What a model reads from a CSV: the table as read, the encoded rows, and the cells with unseen categories.</summary>
    /// <summary>Rows read for a model: the table, and its encoded rows (null for images, which are encoded as they are scored).</summary>
    internal sealed record ModelInput(DataTable Table, Dataset? Data, long UnseenCells)
    {
        /// <summary>The first cell of an unseen category, with its data row in the file (1-based), or null.</summary>
        public (UnseenCategory Cell, long DataRow)? FirstUnseen { get; init; }
    }

    /// <summary>The note on cells of categories the training rows do not have, naming the first.</summary>
    internal static string UnseenNote(long cells, (UnseenCategory Cell, long DataRow)? first, string rows = "These rows")
    {
        string example = first is { } f ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"; the first is '{f.Cell.Value}' in column '{f.Cell.Column}' (data row {f.DataRow})") : string.Empty;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{rows} hold {cells} {(cells == 1 ? "cell" : "cells")} whose category the training rows do not have (encoded as all zeros){example}.");
    }

    /// <summary>
    /// Reads a CSV the way the model's training file was read (its input columns by name, their kinds, its missing-value
    /// spellings) and encodes it with the model's preprocessor (or, for older models, its standardiser).
    /// </summary>
    internal static ModelInput ReadForModel(string path, ModelInfo info, string? label, string? idColumn, bool hasHeader)
        => Encode(DataOptionSet.ReadTable(path, ReadOptions(info, label, idColumn, hasHeader)), info, path);

    /// <summary>
    /// Reads IDX images (or <c>fashion-mnist</c>: its t10k test files) for a model trained on images of the same shape,
    /// and encodes them with the model's preprocessor.
    /// </summary>
    /// <exception cref="InputException">The files are missing or malformed, or the model reads rows of another width.</exception>
    internal static ModelInput ReadImagesForModel(string path, ModelInfo info, bool labelsOptional = false)
    {
        DataTable table = ImageData.Read(path, "--data", test: true, out int[] shape, out _, labelsOptional);
        if (table.Columns.Count != info.FeatureNames.Count)
        {
            throw new InputException($"--data {Path.GetFileName(path)}: the images have {string.Join("x", shape)} = {table.Columns.Count} pixels, but the model reads rows of {info.FeatureNames.Count} features; it was not trained on images of this size.");
        }

        // The pixels stay bytes: Evaluation encodes them a block of rows at a time as it scores them.
        return info.Preprocessor is not null ? new ModelInput(table, null, 0) : Encode(table, info, path);
    }

    /// <summary>How a file must be read for a model: its input columns by name, their kinds, its missing-value spellings.</summary>
    internal static TableReadOptions ReadOptions(ModelInfo info, string? label, string? idColumn, bool hasHeader) => new()
    {
        Label = label,
        HasHeader = hasHeader,
        Schema = info.Preprocessor?.Schema ?? [.. info.FeatureNames.Select(n => KeyValuePair.Create(n, ColumnKind.Numeric))],
        ClassNames = info.ClassNames,
        IdColumn = idColumn,
        MissingTokens = info.Preprocessor?.MissingTokens ?? TableReadOptions.DefaultMissingTokens,
    };

    /// <summary>Encodes rows read with <see cref="ReadOptions"/> with the model's preprocessor (or, for older models, its standardiser).</summary>
    /// <param name="table">The rows.</param>
    /// <param name="info">The model.</param>
    /// <param name="path">The file they come from, for messages.</param>
    /// <param name="firstRow">The number of the table's first row in the file (1 for the first data row), for messages.</param>
    internal static ModelInput Encode(DataTable table, ModelInfo info, string path, long firstRow = 1)
    {
        if (info.Preprocessor is { } pre)
        {
            if (pre.FindPixelOutOfRange(table) is { } bad)
            {
                throw new InputException($"--data {Path.GetFileName(path)}: " + Preprocessor.PixelRangeMessage(bad.Column, $"data row {firstRow + bad.Row}", bad.Value));
            }

            EncodedTable encoded = pre.Transform(table);
            return new ModelInput(table, encoded.Data, encoded.UnseenCells)
            {
                FirstUnseen = encoded.FirstUnseen is { } u ? (u, firstRow + u.Row) : null,
            };
        }

        // An older, numeric-only model: no imputation, so a missing cell is an error.
        int n = table.Count, d = table.Columns.Count;
        var features = new float[(long)n * d];
        for (int j = 0; j < d; j++)
        {
            var values = (INumericColumn)table.Columns[j];
            for (int i = 0; i < n; i++)
            {
                float v = values.ValueAt(i);
                if (float.IsNaN(v))
                {
                    throw new InputException($"{Path.GetFileName(path)}: data row {i + 1}, column '{table.Columns[j].Name}' is missing; this model was trained by an older Xent without missing-value handling. Retrain it to impute missing cells.");
                }

                features[(i * d) + j] = v;
            }
        }

        var data = new Dataset(features, table.Labels, info.FeatureNames, info.ClassNames);
        return new ModelInput(table, info.Standardizer is { } s ? s.TransformInPlace(data) : data, 0);
    }
}
