using System.CommandLine;
using System.Globalization;
using System.Numerics.Tensors;
using Spectre.Console;
using Xent.Cli.LossCases;
using Xent.Diagnostics;
using Xent.Losses;

namespace Xent.Cli.Commands;

/// <summary>
/// <c>xent demo</c>: a tour of the loss family on built-in data. It shows the weighted K-dimensional mean,
/// the double-softmax diagnostic, the soft cross-entropy identity and exact gradient accumulation.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("demo", "Run the built-in demonstrations of Xent's loss family.");
        command.SetAction(_ => Run(context.Console));
        return command;
    }

    internal static int Run(IAnsiConsole console)
    {
        console.Write(new Rule("[bold]Xent demo: the cross-entropy loss family[/]") { Justification = Justify.Left });
        WeightedMean(console);
        DoubleSoftmax(console);
        SoftCrossEntropyIdentity(console);
        GradientAccumulation(console);
        return ExitCodes.Success;
    }

    private static void WeightedMean(IAnsiConsole console)
    {
        console.MarkupLine("[bold]1. How a weighted K-dimensional mean is formed[/]" + Markup.Escape(": logits (N=1, C=2, d1=3), targets [[0, 1, 1]], weights [1, 5]."));
        LossCase c = ExplainCommand.FromOptions(
            "[[[-0.4514, 0.7823, 0.5210], [-0.0082, -0.3569, -0.2626]]]", "[[0, 1, 1]]", "1,5", -100, "mean", 0, "cross_entropy");
        ExplainCommand.Render(console, c with { Name = "weighted K-dim mean" });
    }

    private static void DoubleSoftmax(IAnsiConsole console)
    {
        console.MarkupLine("[bold]2. The classic bug: softmax before CrossEntropy[/]");
        float[] logits = [2.0f, -1.0f, 0.5f, 0.1f, 1.5f, -0.3f];
        float[] probabilities = new float[logits.Length];
        for (int row = 0; row < 2; row++)
        {
            TensorPrimitives.SoftMax(logits.AsSpan(row * 3, 3), probabilities.AsSpan(row * 3, 3));
        }

        int[] targets = [0, 1];
        var sink = new DiagnosticCollector();
        var options = new CrossEntropyOptions { Diagnostics = sink };
        LossResult right = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(logits, [2, 3]), new ReadOnlyTensorSpan<int>(targets, [2]), options);
        LossResult wrong = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(probabilities, [2, 3]), new ReadOnlyTensorSpan<int>(targets, [2]), options);
        console.WriteLine($"CE(logits) = {F(right.Value)}, CE(softmax(logits)) = {F(wrong.Value)}. The second squashes logit differences into [-1, 1], so no probability can pass e/(e + C − 1).");
        foreach (Diagnostic d in sink.Items)
        {
            console.MarkupLine($"[yellow]{Markup.Escape(d.ToString())}[/]");
        }

        console.WriteLine();
    }

    private static void SoftCrossEntropyIdentity(IAnsiConsole console)
    {
        console.MarkupLine("[bold]3. The hand-written \"soft cross entropy\" is label smoothing in disguise[/]");
        double[] logits = [0.3, -1.2, 2.0, 0.7, 0.1, -0.4, 1.1, 0.0];
        int[] targets = [2, 0];
        var x = new ReadOnlyTensorSpan<double>(logits, [2, 4]);
        var y = new ReadOnlyTensorSpan<int>(targets, [2]);
        LossResult soft = SoftCrossEntropy.Compute(x, y);
        LossResult smoothed = CrossEntropy.Compute(x, y, new CrossEntropyOptions { LabelSmoothing = 0.5 });
        console.WriteLine($"CE + mean_c(−log p_c) = {F(soft.Value)}; 2 × CE(label_smoothing = 0.5) = {F(2 * smoothed.Value)}.");
        console.WriteLine();
    }

    private static void GradientAccumulation(IAnsiConsole console)
    {
        console.MarkupLine("[bold]4. Gradient accumulation without the mean-of-means bug[/]");
        var random = new Random(7);
        double[] logits = [.. Enumerable.Range(0, 10 * 5).Select(_ => random.NextDouble() * 4 - 2)];
        int[] targets = [1, 4, -100, -100, 2, 0, 3, -100, 1, 2];
        int[][] splits = [[0, 4], [4, 6], [6, 10]];
        LossResult full = CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(logits, [10, 5]), new ReadOnlyTensorSpan<int>(targets, [10]));
        double meanOfMeans = 0;
        LossResult? combined = null;
        foreach (int[] split in splits)
        {
            int rows = split[1] - split[0];
            var x = new ReadOnlyTensorSpan<double>(logits.AsSpan(split[0] * 5, rows * 5).ToArray(), [rows, 5]);
            var y = new ReadOnlyTensorSpan<int>(targets.AsSpan(split[0], rows).ToArray(), [rows]);
            LossResult part = CrossEntropy.Compute(x, y, new CrossEntropyOptions { Reduction = Reduction.Sum });
            meanOfMeans += part.Mean / splits.Length;
            combined = combined is { } sofar ? sofar + part : part;
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumns("method", "loss");
        table.AddRow("full batch (10 rows, 3 ignored)", F(full.Value));
        table.AddRow("mean of the 3 micro-batch means", F(meanOfMeans));
        table.AddRow("Xent: Σ parts ÷ Σ total weights", F(combined!.Value.Mean));
        console.Write(table);
        console.WriteLine();
    }

    private static string F(double v) => v.ToString("F6", CultureInfo.InvariantCulture);
}
