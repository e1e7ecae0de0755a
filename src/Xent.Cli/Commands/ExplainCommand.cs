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
        var loss = new Option<string>("--loss") { Description = "cross_entropy, soft_cross_entropy, nll, bce_with_logits, or a loss of xent train's --loss with its parameters (focal:gamma=2, logit-adjusted:tau=1, …).", DefaultValueFactory = _ => "cross_entropy" };
        var classCounts = new Option<string?>("--class-counts") { Description = "Training rows per class, for losses built from the class prior (logit-adjusted, balanced-softmax, ldam): 70,20,10." };
        var posWeight = new Option<string?>("--pos-weight") { Description = "bce_with_logits: positive-class weights, e.g. 1,3 or [[2], [1]]." };
        var zLoss = new Option<double?>("--z-loss") { Description = "For a loss of xent train's --loss: add COEF·(log Σ exp z)² to each position's loss, as train --z-loss does." };
        var command = new Command("explain", "Show the arithmetic of a loss on a small input: softmax, each term, and the reduction as a fraction.")
        {
            file, logits, target, weight, ignoreIndex, reduction, smoothing, loss, posWeight, classCounts, zLoss,
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
                cases = [FromOptions(logitsText, targetText, parse.GetValue(weight), parse.GetValue(ignoreIndex), parse.GetRequiredValue(reduction), parse.GetValue(smoothing), parse.GetRequiredValue(loss), parse.GetValue(posWeight), parse.GetValue(classCounts), parse.GetValue(zLoss))];
            }

            foreach (LossCase c in cases)
            {
                Render(context.Console, c);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    internal static LossCase FromOptions(string logits, string target, string? weight, int ignoreIndex, string reduction, double smoothing, string loss, string? posWeight = null, string? classCounts = null, double? zLoss = null)
    {
        // A catalog loss's text, NAME:key=value,…, becomes the case's loss name and parameter fields.
        string[] parts = loss.Split(':', 2);
        var json = new Dictionary<string, object?>
        {
            ["loss"] = parts[0].Trim().Replace('-', '_'),
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

        if (parts.Length == 2)
        {
            foreach (string kv in parts[1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                string[] pair = kv.Split('=', 2, StringSplitOptions.TrimEntries);
                if (pair.Length != 2 || !double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                {
                    throw new InputException($"--loss {loss}: '{kv}' is not key=NUMBER.");
                }

                json[pair[0].Replace('-', '_')] = value;
            }
        }

        if (classCounts is not null)
        {
            json["class_counts"] = ParseJson(classCounts.TrimStart().StartsWith('[') ? classCounts : $"[{classCounts}]", "--class-counts");
        }

        if (zLoss is double z)
        {
            json["z_loss"] = z;
        }

        if (posWeight is not null)
        {
            json["pos_weight"] = ParseJson(posWeight.TrimStart().StartsWith('[') ? posWeight : $"[{posWeight}]", "--pos-weight");
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

    /// <summary>Builds the explanation of a class-index or probability case (cross-entropy, soft cross-entropy, NLL).</summary>
    internal static LossExplanation Explain(LossCase c)
    {
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
        if (c.Loss == CaseLoss.Nll)
        {
            return LossExplanation.ForNll(c.Input.Values, n, classes, s, [.. c.Target.Values.Select(v => (int)v)], options with { LabelSmoothing = 0 }, unbatched);
        }

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
        if (c.Loss == CaseLoss.BinaryCrossEntropyWithLogits)
        {
            RenderBinary(console, c);
            return;
        }

        if (c.Loss == CaseLoss.Catalog)
        {
            RenderCatalog(console, c);
            return;
        }

        LossExplanation e = Explain(c);
        bool soft = c.Loss == CaseLoss.SoftCrossEntropy;
        bool nll = c.Loss == CaseLoss.Nll;
        string title = c.Name ?? (soft ? "soft cross-entropy" : nll ? "negative log-likelihood" : "cross-entropy");
        console.Write(new Rule($"[bold]{Markup.Escape(title)}[/]") { Justification = Justify.Left });
        console.MarkupLine(Markup.Escape(Describe(c, e)));

        var table = new Table().Border(TableBorder.Rounded);
        string[] headers = nll
            ? ["position", "input (log p)", "exp(input)", "target", "w[y]", "−w[y]·input[y]", "-", "loss"]
            : ["position", "logits", "softmax p", "target", "w[y]", "(1-ε)·(−w[y]·log p[y])", "(ε/C)·Σ −w_c·log p_c", "loss"];
        table.AddColumns(headers.Select(h => new TableColumn(new Text(h))).ToArray());
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

        if (nll && e.Positions.Any(p => !p.Ignored && Math.Abs(p.Softmax.Sum() - 1) > 1e-3))
        {
            console.WriteLine("Note: exp(input) does not sum to 1 in every row: NLL expects log-probabilities (log_softmax of the logits).");
        }

        var sink = new DiagnosticCollector();
        LossCaseRunner.Run(c with { DType = CaseDType.Float64 }, sink);
        foreach (Diagnostic d in sink.Items)
        {
            console.MarkupLine($"[yellow]{Markup.Escape(d.ToString())}[/]");
        }

        console.WriteLine();
    }

    private static void RenderBinary(IAnsiConsole console, LossCase c)
    {
        LossCaseRunner.Run(c with { DType = CaseDType.Float64 }); // validates the case with PyTorch's checks and messages
        var options = new BinaryCrossEntropyOptions
        {
            Weight = c.Weight is { } w ? System.Numerics.Tensors.Tensor.Create(w.Values, w.Shape) : null,
            PosWeight = c.PosWeight is { } pw ? System.Numerics.Tensors.Tensor.Create(pw.Values, pw.Shape) : null,
            Reduction = c.Reduction,
        };
        BinaryExplanation e = BinaryExplanation.Explain(c.Input.Values, c.Input.Shape, c.Target.Values, options);
        console.Write(new Rule($"[bold]{Markup.Escape(c.Name ?? "binary cross-entropy on logits")}[/]") { Justification = Justify.Left });
        console.WriteLine($"logits {NestedArray.FormatShape(c.Input.Shape)}, weight {(c.Weight is null ? "none" : NestedArray.FormatShape(c.Weight.Shape))}, pos_weight {(c.PosWeight is null ? "none" : NestedArray.FormatShape(c.PosWeight.Shape))} (broadcast from the trailing dimension), reduction {c.Reduction.ToName()}");
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumns(new[] { "element", "logit x", "target t", "σ(x)", "w", "pw", "−w·pw·t·log σ(x)", "−w·(1−t)·log(1−σ(x))", "loss" }.Select(h => new TableColumn(new Text(h))).ToArray());
        foreach (ElementTerm t in e.Elements)
        {
            table.AddRow(new[] { t.Index, Num(t.Logit), Num(t.Target), Num(t.Sigmoid), Num(t.Weight), Num(t.PosWeight), Num(t.PositiveTerm), Num(t.NegativeTerm), Num(t.Loss) }
                .Select(cell => (Spectre.Console.Rendering.IRenderable)new Text(cell)).ToArray());
        }

        console.Write(table);
        string value = e.Value.ToString("F4", CultureInfo.InvariantCulture);
        console.WriteLine(c.Reduction switch
        {
            Reduction.Mean => $"mean = {e.Numerator.ToString("F4", CultureInfo.InvariantCulture)} / {e.Denominator} elements = {value} (the mean divides by the element count, not by the weights)",
            Reduction.Sum => $"sum = {value}",
            _ => $"none: one loss per element (their sum is {e.Numerator.ToString("F4", CultureInfo.InvariantCulture)})",
        });
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

    /// <summary>The terms of a catalog loss: per position the logits, the softmax, ℓ and w·ℓ, then the reduction as a fraction.</summary>
    private static void RenderCatalog(IAnsiConsole console, LossCase c)
    {
        LossCaseRunner.Run(c with { DType = CaseDType.Float64 }); // validates with the loss's own checks
        ClassificationLoss loss = LossCatalog.Create(c.LossSpec!, c.ClassCounts);
        nint[] shape = c.Input.Shape;
        bool unbatched = shape.Length == 1;
        int n = unbatched ? 1 : (int)shape[0], classes = (int)(unbatched ? shape[0] : shape[1]), s = 1;
        for (int d = 2; d < shape.Length; d++)
        {
            s *= (int)shape[d];
        }

        console.Write(new Rule($"[bold]{Markup.Escape(loss.ToString())}[/]{(c.Name is { } name ? " — " + Markup.Escape(name) : string.Empty)}") { Justification = Justify.Left });
        // Losses that move the logits before the softmax (per-class offsets, LDAM's margin and scale) also show the
        // softmax they take: ℓ = −log of its target entry. Their gradient is s·(p′ − e_y), so p′ = dz ÷ s + e_y.
        bool shifted = loss is LogitAdjustedLoss or BalancedSoftmaxLoss or LdamLoss;
        string shiftedHeader = loss is LdamLoss ? "softmax of s·(z − Δ_y·e_y)" : loss is LogitAdjustedLoss ? "softmax of z + τ·log π" : "softmax of z + log n";
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string h in shifted ? new[] { "position", "target", "logits", "softmax", shiftedHeader, "ℓ", "w", "w·ℓ" } : new[] { "position", "target", "logits", "softmax", "ℓ", "w", "w·ℓ" })
        {
            table.AddColumn(h);
        }

        var z = new double[classes];
        var p = new double[classes];
        var dz = new double[classes];
        double sum = 0, denominator = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < s; j++)
            {
                int y = (int)c.Target.Values[(i * s) + j];
                string where = s == 1 ? $"{i}" : $"{i},{j}";
                if (y == c.IgnoreIndex)
                {
                    table.AddRow(shifted ? [where, $"{y} (ignored)", string.Empty, string.Empty, string.Empty, "—", "0", "0"] : [where, $"{y} (ignored)", string.Empty, string.Empty, "—", "0", "0"]);
                    continue;
                }

                for (int k = 0; k < classes; k++)
                {
                    z[k] = c.Input.Values[(i * classes * s) + (k * s) + j];
                }

                double max = z.Max(), total = z.Sum(v => Math.Exp(v - max));
                for (int k = 0; k < classes; k++)
                {
                    p[k] = Math.Exp(z[k] - max) / total;
                }

                double l = loss.Position(z, y, dz);
                double lse = max + Math.Log(total);
                if (c.ZLoss != 0)
                {
                    l += c.ZLoss * lse * lse;
                }

                double w = c.Weight?.Values[y] ?? 1;
                sum += w * l;
                denominator += loss.Normalization == LossNormalization.Positions ? 1 : w;
                string[] cells = [where, y.ToString(CultureInfo.InvariantCulture), F(z), F(p), l.ToString("F4", CultureInfo.InvariantCulture), w.ToString("G4", CultureInfo.InvariantCulture), (w * l).ToString("F4", CultureInfo.InvariantCulture)];
                if (shifted)
                {
                    var taken = new double[classes];
                    for (int k = 0; k < classes; k++)
                    {
                        taken[k] = (dz[k] / loss.OutputScale) + (k == y ? 1 : 0);
                    }

                    cells = [.. cells[..4], F(taken), .. cells[4..]];
                }

                table.AddRow(cells);
            }
        }

        console.Write(table);
        string what = loss.Normalization == LossNormalization.Positions ? "positions (the mean is over positions, as torchvision's focal loss)" : "Σ w[y]";
        console.WriteLine(c.Reduction switch
        {
            Reduction.Mean => string.Create(CultureInfo.InvariantCulture, $"mean = Σ w·ℓ ÷ {what} = {sum:F4} / {denominator:G6} = {sum / denominator:F4}"),
            Reduction.Sum => string.Create(CultureInfo.InvariantCulture, $"sum = Σ w·ℓ = {sum:F4}"),
            _ => "reduction none: each position's w·ℓ above",
        });
        if (c.ZLoss != 0)
        {
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ℓ includes the z-loss term {c.ZLoss:G4}·(log Σ exp z)²."));
        }

        static string F(IEnumerable<double> values) => Markup.Escape("[" + string.Join(", ", values.Select(v => v.ToString("F4", CultureInfo.InvariantCulture))) + "]");
    }
}
