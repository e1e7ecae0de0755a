using System.CommandLine;
using Xent.Cli.LossCases;
using Xent.Export;
using Xent.Nn;
using Xent.Training;

namespace Xent.Cli.Commands;

/// <summary><c>xent export</c>: writes a trained model and its column pipeline as one ONNX graph.</summary>
internal static class ExportCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<FileInfo>("--model") { Description = "A model written by xent train.", Required = true };
        var onnx = new Option<string>("--onnx") { Description = "The ONNX file to write.", Required = true };
        var logits = new Option<bool>("--logits") { Description = "Output the logits instead of the probabilities." };
        var single = new Option<bool>("--single-input") { Description = "One float tensor 'input' (N, columns) instead of one per column; every column must be numeric." };
        var force = new Option<bool>("--force") { Description = "Overwrite --onnx if it exists." };
        var command = new Command("export", "Write a trained model, with its imputation, one-hot encoding and standardisation, as one ONNX graph (opset 17).") { model, onnx, logits, single, force };
        command.SetAction(parse =>
        {
            string path = parse.GetRequiredValue(onnx);
            if (Directory.Exists(path))
            {
                throw new InputException($"--onnx {path}: a folder of that name exists; --onnx names the file to write.");
            }

            if (Xent.Data.OutputPath.WhyNotFile(path) is { } why)
            {
                throw new InputException($"--onnx {path}: {why}");
            }

            if (File.Exists(path) && !parse.GetValue(force))
            {
                throw new InputException($"--onnx {path}: the file exists; pass --force to overwrite it.");
            }

            string modelPath = parse.GetRequiredValue(model).FullName;
            (Sequential net, ModelInfo info) = EvaluateCommand.LoadModel(modelPath);
            // The training settings travel into the metadata when the run's config.json sits beside the model.
            string config = Path.Combine(Path.GetDirectoryName(modelPath) ?? ".", "config.json");
            string? settings = File.Exists(config) ? File.ReadAllText(config) : null;
            try
            {
                OnnxExport.Write(path, net, info, new OnnxExportOptions { Logits = parse.GetValue(logits), SingleInput = parse.GetValue(single), Settings = settings });
            }
            catch (Exception e) when (e is NotSupportedException or ArgumentException)
            {
                throw new InputException(e.Message, e);
            }

            string inputs = parse.GetValue(single) ? $"input (N, {info.FeatureNames.Count}): {Names(info.FeatureNames)}" : "inputs " + Names(info.FeatureNames);
            context.Error.WriteLine($"Wrote {path}: {inputs}; output {(parse.GetValue(logits) ? "logits" : "probabilities")} over {Names(info.ClassNames)}.");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Up to 12 names in full; more as the first 10, an ellipsis and the last, with the count (784 pixels would fill a screen).</summary>
    internal static string Names(IReadOnlyList<string> names) => names.Count <= 12
        ? string.Join(", ", names)
        : $"{string.Join(", ", names.Take(10))}, …, {names[^1]} ({names.Count} in all)";
}
