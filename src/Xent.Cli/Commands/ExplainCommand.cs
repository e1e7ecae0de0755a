using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Xent.Cli.LossCases;
using Xent.Diagnostics;
using Xent.Losses;

namespace Xent.Cli.Commands;

/// <summary>
/// <c>xent explain</c>: shows the arithmetic of a cross-entropy loss on a small input: the softmax per position,
/// each −w[y]·log p[y] term, the smoothing term, and the reduction as numerator ÷ denominator.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<FileInfo?>("file") { Description = "A case file (golden format). Leave out to give the case with --logits and --target.", Arity = ArgumentArity.ZeroOrOne };
        var logits = new Option<string?>("--logits") { Description = "Logits as a nested JSON array, for example [[1.0, 2.0], [0.5, 0.1]]; shape (C), (N, C) or (N, C, d1, ...)." };
        var target = new Option<string?>("--target") { Description = "Targets as JSON: class indices (integers) or probabilities of the logits' shape." };
        var weight = new Option<string?>("--weight") { Description = "Class weights: 1,5 or [1, 5]. Default: none." };
        var ignoreIndex = new Option<int>("--ignore-index") { Description = "Target value to ignore.", DefaultValueFactory = _ => -100 };
        var reduction = new Option<string>("--reduction") { Description = "none, mean or sum.", DefaultValueFactory = _ => "mean" };
        var smoothing = new Option<double>("--label-smoothing") { Description = "Label smoothing in [0, 1]. Default: 0." };
        var loss = new Option<string>("--loss") { Description = "cross_entropy or soft_cross_entropy.", DefaultValueFactory = _ => "cross_entropy" };
        var command = new Command("explain", "Show the arithmetic of a loss on a small input: softmax, each term, and the reduction as a fraction.")
        {
            file, logits, target, weight, ignoreIndex, reduction, smoothing, loss,
        };
        command.SetAction(parse =>
        {
            IReadOnlyList<LossCase> cases;
            if (parse.GetValue(file) is { } f)
            {
                cases = [.. LossCaseReader.ReadFile(f.FullName, out _).Select(e => e.Case ?? throw new InputException(e.Error!))];
            }
            else
            {
                string logitsText = parse.GetValue(logits) ?? throw new InputException("explain needs a case file, or --logits and --target.");
                string targetText = parse.GetValue(target) ?? throw new InputException("--target is required with --logits.");
                cases = [FromOptions(logitsText, targetText, parse.GetValue(weight), parse.GetValue(ignoreIndex), parse.GetRequiredValue(reduction), parse.GetValue(smoothing), parse.GetRequiredValue(loss))];
            }

            foreach (LossCase c in cases)
            {
                Render(context.Console, c);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    internal static LossCase FromOptions(string logits, string target, string? weight, int ignoreIndex, string reduction, double smoothing, string loss)
    {
        var json = new Dictionary<string, object?>
        {
            ["loss"] = loss,
            ["dtype"] = "float64",
            ["input"] = ParseJson(logits, "--logits"),
            ["target"] = ParseJson(target, "--target"),
            ["ignore_index"] = ignoreIndex,
            ["reduction"] = reduction,
            ["label_smoothing"] = smoothing,
        };
        if (weight is not null)
        {
            json["weight"] = ParseJson(weight.TrimStart().StartsWith('[') ? weight : $"[{weight}]", "--weight");
        }

        using JsonDocument doc = JsonDocument.Parse(JsonSerializer.Serialize(json));
        return LossCaseReader.ReadCase(doc.RootElement, "explain");
    }

    private static JsonElement ParseJson(string text, string option)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InputException($"{option}: not valid JSON at column {(e.BytePositionInLine ?? 0) + 1}: {LossCaseReader.FirstSentence(e.Message)}", e);
        }
    }

    /// <summary>Builds the explanation of a case (cross-entropy and soft cross-entropy only).</summary>
    internal static LossExplanation Explain(LossCase c)
    {
        if (c.Loss is not (CaseLoss.CrossEntropy or CaseLoss.SoftCrossEntropy))
        {
            throw new InputException($"{c.Where}: explain covers cross_entropy and soft_cross_entropy; this case is {c.Loss}.");
        }

        // Run the real loss first: it validates the case with PyTorch's checks and messages.
        LossCaseRunner.Run(c with { DType = CaseDType.Float64 });
        nint[] shape = c.Input.Shape;
        bool unbatched = shape.Length == 1;
        int n = unbatched ? 1 : (int)shape[0];
        int classes = (int)(unbatched ? shape[0] : shape[1]);
        int s = 1;
        for (int d = 2; d < shape.Length; d++)
        {
            s *= (int)shape[d];
        }

        var options = new CrossEntropyOptions
        {
            Weight = c.Weight?.Values,
            IgnoreIndex = c.IgnoreIndex,
            Reduction = c.Reduction,
            LabelSmoothing = c.Loss == CaseLoss.SoftCrossEntropy ? SoftCrossEntropy.EquivalentLabelSmoothing : c.LabelSmoothing,
        };
        if (c.TargetIsIndex)
        {
            int[] targets = [.. c.Target.Values.Select(v => (int)v)];
            double scale = c.Loss == CaseLoss.SoftCrossEntropy ? SoftCrossEntropy.Scale : 1.0;
            return LossExplanation.ForIndexTargets(c.Input.Values, n, classes, s, targets, options, scale, unbatched);
        }

        return LossExplanation.ForProbabilityTargets(c.Input.Values, n, classes, s, c.Target.Values, options, unbatched);
    }

    internal static void Render(IAnsiConsole console, LossCase c)
    {
        LossExplanation e = Explain(c);
        bool soft = c.Loss == CaseLoss.SoftCrossEntropy;
        string title = c.Name ?? (soft ? "soft cross-entropy" : "cross-entropy");
        console.Write(new Rule($"[bold]{Markup.Escape(title)}[/]") { Justification = Justify.Left });
        console.MarkupLine(Markup.Escape(Describe(c, e)));

        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumns(new[] { "position", "logits", "softmax p", "target", "w[y]", "(1-ε)·(−w[y]·log p[y])", "(ε/C)·Σ −w_c·log p_c", "loss" }.Select(h => new TableColumn(new Text(h))).ToArray());
        foreach (PositionTerm p in e.Positions)
        {
            table.AddRow(new[]
            {
                p.Index,
                Vector(p.Logits),
                Vector(p.Softmax),
                e.IndexTargets ? (p.Ignored ? $"{p.Target} (ignored)" : p.Target.ToString(CultureInfo.InvariantCulture)) : Vector(p.TargetDistribution),
                p.Ignored ? "-" : Num(p.TargetWeight),
                p.Ignored ? "0" : Num(p.HardTerm),
                p.Ignored ? "0" : Num(p.SmoothingTerm),
                Num(p.Loss),
            }.Select(cell => (Spectre.Console.Rendering.IRenderable)new Text(cell)).ToArray());
        }

        console.Write(table);
        if (soft)
        {
            console.WriteLine($"Soft cross-entropy = CE(hard) + mean over classes of −log p = {SoftCrossEntropy.Scale} × CE with label smoothing {SoftCrossEntropy.EquivalentLabelSmoothing}; the table shows the ε = 0.5 terms, and the total is doubled.");
        }
        else if (e.IndexTargets && c.LabelSmoothing == SoftCrossEntropy.EquivalentLabelSmoothing)
        {
            console.WriteLine("Note: 2 × this loss is the hand-written \"soft cross entropy\" CE(hard) + mean over classes of −log p (xent's soft_cross_entropy).");
        }

        string scale = e.Scale != 1 ? $"{e.Scale} × " : string.Empty;
        console.WriteLine($"numerator   = {scale}Σ losses = {Num(e.Numerator)}");
        console.WriteLine($"denominator = {e.DenominatorDescription} = {Num(e.Denominator)}");
        console.MarkupLine($"[bold]{Markup.Escape(e.Formula())}[/]");
        if (c.Reduction == Reduction.Mean && e.IndexTargets && c.Weight is not null)
        {
            int counted = e.Positions.Count(p => !p.Ignored);
            console.WriteLine($"The weighted mean divides by Σ w[y] = {Num(e.Denominator)}, not by the {counted} positions: 'mean' is not the average of the per-position losses when weights are given.");
        }

        var sink = new DiagnosticCollector();
        LossCaseRunner.Run(c with { DType = CaseDType.Float64 }, sink);
        foreach (Diagnostic d in sink.Items)
        {
            console.MarkupLine($"[yellow]{Markup.Escape(d.ToString())}[/]");
        }

        console.WriteLine();
    }

    private static string Describe(LossCase c, LossExplanation e)
    {
        string shape = NestedArray.FormatShape(c.Input.Shape);
        string weight = c.Weight is null ? "no weights" : $"weights [{string.Join(", ", c.Weight.Values.Select(Num))}]";
        return $"logits {shape}, {e.Classes} classes, {(e.IndexTargets ? "class-index" : "probability")} targets, {weight}, " +
               $"ignore_index {c.IgnoreIndex}, label smoothing {Num(c.LabelSmoothing)}, reduction {c.Reduction.ToName()}";
    }

    private static string Vector(double[] v) => "[" + string.Join(", ", v.Select(Num)) + "]";

    private static string Num(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}
