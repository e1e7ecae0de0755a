using System.Numerics;
using System.Numerics.Tensors;
using System.Text.Json;
using Xent.Diagnostics;
using Xent.Losses;

namespace Xent.Cli.LossCases;

/// <summary>The value of a case: the loss (a scalar, or per position for reduction none) and the gradient.</summary>
/// <param name="LossShape">Shape of <paramref name="Loss"/>; empty for a scalar.</param>
/// <param name="Loss">The loss values, rounded to the case's dtype.</param>
/// <param name="GradShape">The input's shape.</param>
/// <param name="Grad">d(sum of the loss outputs)/d(input), rounded to the case's dtype.</param>
/// <param name="Parts">The reduced loss's parts.</param>
internal sealed record LossCaseResult(nint[] LossShape, double[] Loss, nint[] GradShape, double[] Grad, LossResult Parts)
{
    /// <summary>Writes <c>{"loss": ..., "grad": ...}</c>.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("loss");
        NestedArray.Write(writer, LossShape, Loss);
        writer.WritePropertyName("grad");
        NestedArray.Write(writer, GradShape, Grad);
        writer.WriteEndObject();
    }
}

/// <summary>Evaluates cases with Xent's losses.</summary>
internal static class LossCaseRunner
{
    /// <summary>Evaluates one case.</summary>
    /// <exception cref="ArgumentException">The case is invalid (PyTorch would raise): the message says why.</exception>
    /// <exception cref="InputException">The case cannot be expressed (for example a 0-d input).</exception>
    public static LossCaseResult Run(LossCase c, IDiagnosticSink? diagnostics = null)
        => c.DType == CaseDType.Float64 ? Run<double>(c, diagnostics) : Run<float>(c, diagnostics);

    private static LossCaseResult Run<T>(LossCase c, IDiagnosticSink? diagnostics)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint[] shape = c.Input.Shape;
        if (shape.Length == 0)
        {
            throw new ArgumentException("Expected 1 or more dimensions (got 0)", "input");
        }

        T[] input = Convert<T>(c.Input.Values);
        var x = new ReadOnlyTensorSpan<T>(input, shape);
        var grad = new T[input.Length];
        bool unbatched = shape.Length == 1;
        LossResult parts;
        T[] losses;
        nint[] lossShape;
        if (c.Loss == CaseLoss.BinaryCrossEntropyWithLogits)
        {
            var t = new ReadOnlyTensorSpan<T>(Convert<T>(c.Target.Values), TargetShape(c.Target.Shape));
            losses = new T[input.Length];
            var options = new BinaryCrossEntropyOptions
            {
                Weight = c.Weight is { } w ? Tensor.Create(w.Values, w.Shape) : null,
                PosWeight = c.PosWeight is { } pw ? Tensor.Create(pw.Values, pw.Shape) : null,
                Reduction = c.Reduction,
            };
            parts = BinaryCrossEntropyWithLogits.Compute(x, t, options, losses, grad);
            lossShape = shape;
        }
        else if (c.TargetIsIndex)
        {
            nint[] targetShape = TargetShape(c.Target.Shape);
            int[] targets = new int[c.Target.Values.Length];
            for (int i = 0; i < targets.Length; i++)
            {
                targets[i] = (int)c.Target.Values[i];
            }

            var t = new ReadOnlyTensorSpan<int>(targets, targetShape);
            losses = new T[targets.Length];
            IReadOnlyList<double>? weight = c.Weight?.Values;
            if (c.Weight is { Shape.Length: not 1 } badWeight)
            {
                throw new ArgumentException($"weight tensor should be defined either for all {(unbatched ? shape[0] : shape[1])} classes or no classes but got weight tensor of shape: {NestedArray.FormatShape(badWeight.Shape)}", "options");
            }

            parts = c.Loss switch
            {
                CaseLoss.Nll => Nll.Compute(x, t, new NllOptions { Weight = weight, IgnoreIndex = c.IgnoreIndex, Reduction = c.Reduction, Diagnostics = diagnostics }, losses, grad),
                CaseLoss.SoftCrossEntropy => SoftCrossEntropy.Compute(x, t, Options(c, weight, diagnostics), losses, grad),
                CaseLoss.Catalog => CatalogLoss(c).Compute(x, t, new ClassificationLossOptions { Weight = weight, IgnoreIndex = c.IgnoreIndex, Reduction = c.Reduction, ZLoss = c.ZLoss }, losses, grad),
                _ => CrossEntropy.Compute(x, t, Options(c, weight, diagnostics), losses, grad),
            };
            lossShape = unbatched ? [] : targetShape;
        }
        else
        {
            var t = new ReadOnlyTensorSpan<T>(Convert<T>(c.Target.Values), TargetShape(c.Target.Shape));
            int classes = (int)(unbatched ? shape[0] : shape[1]);
            losses = new T[classes == 0 ? 0 : input.Length / classes];
            parts = CrossEntropy.Compute(x, t, Options(c, c.Weight?.Values, diagnostics), losses, grad);
            lossShape = unbatched ? [] : [shape[0], .. shape[2..]];
        }

        double[] lossValues = c.Reduction == Reduction.None
            ? ToDouble(losses)
            : [double.CreateTruncating(T.CreateTruncating(parts.Value))];
        if (c.Reduction != Reduction.None)
        {
            lossShape = [];
        }

        return new LossCaseResult(lossShape, lossValues, shape, ToDouble(grad), parts);
    }

    private static CrossEntropyOptions Options(LossCase c, IReadOnlyList<double>? weight, IDiagnosticSink? diagnostics) => new()
    {
        Weight = weight,
        IgnoreIndex = c.IgnoreIndex,
        Reduction = c.Reduction,
        LabelSmoothing = c.LabelSmoothing,
        Diagnostics = diagnostics,
    };

    /// <summary>A scalar target (unbatched, as PyTorch writes it) becomes shape [1].</summary>
    private static nint[] TargetShape(nint[] shape) => shape.Length == 0 ? [1] : shape;

    private static T[] Convert<T>(double[] values)
        where T : INumberBase<T>
    {
        var result = new T[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = T.CreateTruncating(values[i]);
        }

        return result;
    }

    private static double[] ToDouble<T>(T[] values)
        where T : INumberBase<T>
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = double.CreateTruncating(values[i]);
        }

        return result;
    }

    private static ClassificationLoss CatalogLoss(LossCase c)
    {
        try
        {
            // A loss built from the class prior needs counts: say where they go (explain takes an option, a case file a field).
            LossEntry entry = LossCatalog.Check(c.LossSpec!);
            if (entry.NeedsClassCounts && c.ClassCounts is null)
            {
                string give = c.Where.StartsWith("explain", StringComparison.Ordinal) ? "--class-counts" : "class_counts";
                throw new InputException($"{c.Where}: {c.LossSpec}: {entry.Name} is built from the training class counts, and none were given. (give {give})");
            }

            return LossCatalog.Create(c.LossSpec!, c.ClassCounts);
        }
        catch (FormatException e)
        {
            throw new InputException($"{c.Where}: {e.Message.Replace("--loss ", string.Empty, StringComparison.Ordinal)}", e);
        }
    }
}
