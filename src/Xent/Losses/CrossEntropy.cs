using System.Numerics;
using System.Numerics.Tensors;
using Xent.Diagnostics;
using Xent.Kernels;

namespace Xent.Losses;

/// <summary>
/// Cross-entropy between logits and targets, forward and gradient, with PyTorch's
/// <c>F.cross_entropy</c> semantics: class-index or probability targets, class weights,
/// <c>ignore_index</c>, label smoothing, the (N, C, d1, …, dk) layout with the class on axis 1,
/// and unbatched (C) input.
/// </summary>
/// <remarks>
/// <para>Checks run in PyTorch's order and throw <see cref="ArgumentException"/>s (or
/// <see cref="ArgumentOutOfRangeException"/> for a target out of range) whose messages carry PyTorch's text,
/// then the destinations are checked. Nothing is written before every check has passed.</para>
/// <para>The input holds raw logits. When <see cref="CrossEntropyOptions.Diagnostics"/> is set and every row
/// looks like probabilities or log-probabilities, a warning is reported there.</para>
/// </remarks>
public static class CrossEntropy
{
    /// <summary>Cross-entropy with class-index targets.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="input">Logits: (C), (N, C) or (N, C, d1, …, dk).</param>
    /// <param name="target">Class indices in [0, C) or <see cref="CrossEntropyOptions.IgnoreIndex"/>:
    /// shape [1] for unbatched input, (N), or (N, d1, …, dk).</param>
    /// <param name="options">Weights, ignore index, reduction and label smoothing; <see langword="null"/> for the defaults.</param>
    /// <param name="losses">Receives the per-position losses (one per target element); required for
    /// <see cref="Reduction.None"/>, optional otherwise. Empty to skip.</param>
    /// <param name="gradient">Receives d(reduced loss)/d(input) times <paramref name="gradientScale"/>
    /// (for <see cref="Reduction.None"/>, the gradient of the sum of the per-position losses); empty for forward only.</param>
    /// <param name="gradientScale">The upstream gradient. Default: 1.</param>
    /// <returns>The reduced loss and its parts.</returns>
    /// <exception cref="ArgumentException">A shape, weight, option or destination is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is outside [0, C) and is not the ignore index.</exception>
    public static LossResult Compute<T>(
        ReadOnlyTensorSpan<T> input,
        ReadOnlyTensorSpan<int> target,
        CrossEntropyOptions? options = null,
        Span<T> losses = default,
        Span<T> gradient = default,
        double gradientScale = 1.0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorArgs.EnsureSupported<T>();
        options ??= CrossEntropyOptions.Default;
        ThrowIfIntegerProbabilities(input.Lengths, target.Lengths);
        double eps = options.LabelSmoothing;
        ThrowIfSmoothingAboveOne(eps);

        var layout = IndexTargetLayout.Create(input, target, options.Weight?.Count);
        return ComputeIndex(input, target, layout, options, eps > 0 ? eps : 0, losses, gradient, gradientScale, 1.0);
    }

    /// <summary>Cross-entropy with probability ("soft") targets of the input's shape.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="input">Logits: (C), (N, C) or (N, C, d1, …, dk).</param>
    /// <param name="target">Class probabilities, the same shape as <paramref name="input"/>. Values are not
    /// validated (as in PyTorch): rows that do not sum to 1 are used as given.</param>
    /// <param name="options">Weights, reduction and label smoothing; <see cref="CrossEntropyOptions.IgnoreIndex"/> must be negative.</param>
    /// <param name="losses">Receives the per-position losses (input shape without the class axis); required
    /// for <see cref="Reduction.None"/>. Empty to skip.</param>
    /// <param name="gradient">Receives the gradient with respect to the input; empty for forward only.</param>
    /// <param name="gradientScale">The upstream gradient. Default: 1.</param>
    /// <returns>The reduced loss and its parts. The mean divides by the number of positions, not by the weights (as in PyTorch).</returns>
    /// <exception cref="ArgumentException">A shape, weight, option or destination is invalid.</exception>
    public static LossResult Compute<T>(
        ReadOnlyTensorSpan<T> input,
        ReadOnlyTensorSpan<T> target,
        CrossEntropyOptions? options = null,
        Span<T> losses = default,
        Span<T> gradient = default,
        double gradientScale = 1.0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorArgs.EnsureSupported<T>();
        options ??= CrossEntropyOptions.Default;
        ReadOnlySpan<nint> shape = input.Lengths;
        if (!TensorArgs.SameShape(shape, target.Lengths))
        {
            throw new ArgumentException(
                $"Probability targets must have the input's shape {TensorArgs.Format(shape)}, got {TensorArgs.Format(target.Lengths)}; " +
                $"class-index targets are integers (expected target dtype to be Long or Byte, but got {(typeof(T) == typeof(float) ? "Float" : "Double")})",
                nameof(target));
        }

        if (options.IgnoreIndex >= 0)
        {
            throw new ArgumentException("ignore_index is not supported for floating point target", nameof(options));
        }

        int c = checked((int)(shape.Length == 1 ? shape[0] : shape[1]));
        if (options.Weight is { } w && w.Count != c)
        {
            throw new ArgumentException($"cross_entropy: weight tensor should be defined either for all {c} classes or no classes but got weight tensor of shape: [{w.Count}]", nameof(options));
        }

        double eps = options.LabelSmoothing;
        ThrowIfSmoothingAboveOne(eps);

        int n = shape.Length == 1 ? 1 : checked((int)shape[0]);
        long sLong = 1;
        for (int d = 2; d < shape.Length; d++)
        {
            sLong *= shape[d];
        }

        int s = checked((int)sLong);
        int positions = checked(n * s);
        ReadOnlySpan<T> x = TensorArgs.Flat(input, nameof(input));
        ReadOnlySpan<T> t = TensorArgs.Flat(target, nameof(target));
        CheckDestinations(options.Reduction, positions, x.Length, losses, gradient);
        Report(options.Diagnostics, x, n, c, s);

        using var weight = new PooledWeights<T>(options.Weight);
        double denominator = positions;
        double kappa = options.Reduction == Reduction.Mean ? gradientScale / denominator : gradientScale;
        double sum = CrossEntropyKernel.Run(x, n, c, s, default, t, weight.Span, int.MinValue, eps > 0 ? eps : 0, losses, gradient, kappa);
        return Result(options.Reduction, sum, denominator, positions, positions);
    }

    /// <summary>
    /// The mean's denominator for class-index targets: Σ w[y] over the targets that are not ignored (their count
    /// when unweighted). Use it to scale micro-batch gradients to the full-batch mean.
    /// </summary>
    /// <param name="target">Class indices.</param>
    /// <param name="classes">C, the number of classes.</param>
    /// <param name="options">Weights and ignore index.</param>
    /// <returns>The total weight.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A target is outside [0, C) and is not the ignore index.</exception>
    public static double TotalWeight(ReadOnlySpan<int> target, int classes, CrossEntropyOptions? options = null)
    {
        options ??= CrossEntropyOptions.Default;
        if (options.Weight is { } w && w.Count != classes)
        {
            throw new ArgumentException($"weight tensor should be defined either for all {classes} classes or no classes but got weight tensor of shape: [{w.Count}]", nameof(options));
        }

        double[]? weights = options.Weight is null ? null : [.. options.Weight];
        return IndexTargetLayout.SumTargetWeights<double>(target, classes, options.IgnoreIndex, weights).TotalWeight;
    }

    internal static LossResult ComputeIndex<T>(
        ReadOnlyTensorSpan<T> input,
        ReadOnlyTensorSpan<int> target,
        IndexTargetLayout layout,
        CrossEntropyOptions options,
        double eps,
        Span<T> losses,
        Span<T> gradient,
        double gradientScale,
        double lossScale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ReadOnlySpan<T> x = TensorArgs.Flat(input, nameof(input));
        ReadOnlySpan<int> y = TensorArgs.Flat(target, nameof(target));
        using var weight = new PooledWeights<T>(options.Weight);
        CheckDestinations(options.Reduction, layout.Positions, x.Length, losses, gradient);
        Report(options.Diagnostics, x, layout.N, layout.C, layout.S);
        double totalWeight, sum;
        long count;
        if (weight.Span.IsEmpty)
        {
            // The targets are checked and counted chunk by chunk inside the kernel.
            sum = CrossEntropyKernel.RunCounting(x, layout.N, layout.C, layout.S, y, options.IgnoreIndex, eps, losses, gradient, lossScale * gradientScale, options.Reduction == Reduction.Mean, out count);
            totalWeight = count;
        }
        else
        {
            (totalWeight, count) = IndexTargetLayout.SumTargetWeights(y, layout.C, options.IgnoreIndex, weight.Span);
            double kappa = lossScale * (options.Reduction == Reduction.Mean ? gradientScale / totalWeight : gradientScale);
            sum = CrossEntropyKernel.Run(x, layout.N, layout.C, layout.S, y, default, weight.Span, options.IgnoreIndex, eps, losses, gradient, kappa);
        }

        if (lossScale != 1.0)
        {
            sum *= lossScale;
            Scale(losses, lossScale);
        }

        return Result(options.Reduction, sum, totalWeight, count, layout.Positions);
    }

    /// <summary>PyTorch dispatches a target of the input's shape to the probability path, which needs floats.</summary>
    internal static void ThrowIfIntegerProbabilities(ReadOnlySpan<nint> input, ReadOnlySpan<nint> target)
    {
        if (TensorArgs.SameShape(input, target))
        {
            throw new ArgumentException("Expected floating point type for target with class probabilities, got Int", nameof(target));
        }
    }

    private static void ThrowIfSmoothingAboveOne(double eps)
    {
        if (eps > 1.0)
        {
            throw new ArgumentOutOfRangeException("options", $"label_smoothing must be between 0.0 and 1.0. Got: {TensorArgs.Format(eps)}");
        }
    }

    internal static void CheckDestinations<T>(Reduction reduction, int positions, int elements, Span<T> losses, Span<T> gradient)
    {
        if (reduction == Reduction.None || !losses.IsEmpty)
        {
            TensorArgs.CheckDestination(losses.Length, positions, nameof(losses), "per-position loss");
        }

        if (!gradient.IsEmpty)
        {
            TensorArgs.CheckDestination(gradient.Length, elements, nameof(gradient), "input");
        }
    }

    internal static LossResult Result(Reduction reduction, double sum, double totalWeight, long count, int positions)
    {
        double value = reduction switch
        {
            Reduction.Mean => positions == 0 ? double.NaN : sum / totalWeight,
            _ => sum,
        };
        return new LossResult(value, sum, totalWeight, count, reduction);
    }

    private static void Scale<T>(Span<T> values, double factor)
        where T : IFloatingPointIeee754<T>
    {
        T f = T.CreateTruncating(factor);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] *= f;
        }
    }

    private static void Report<T>(IDiagnosticSink? sink, ReadOnlySpan<T> x, int n, int c, int s)
        where T : IFloatingPointIeee754<T>
    {
        if (sink is null)
        {
            return;
        }

        switch (InputKindDetector.Detect(x, n, c, s))
        {
            case InputKind.Probabilities:
                sink.Report(new Diagnostic(
                    DiagnosticCodes.InputLooksLikeProbabilities,
                    DiagnosticSeverity.Warning,
                    "CrossEntropy expects raw logits, but every row of its input is non-negative and sums to 1: these look like probabilities. " +
                    "Applying softmax before the loss (double softmax) squashes the logits into [0, 1], distorts the learned probabilities and slows training. Pass the model's raw outputs."));
                break;
            case InputKind.LogProbabilities:
                sink.Report(new Diagnostic(
                    DiagnosticCodes.InputLooksLikeLogProbabilities,
                    DiagnosticSeverity.Warning,
                    "CrossEntropy expects raw logits, but every row of its input has log-sum-exp 0: these look like log-probabilities. " +
                    "CrossEntropy already applies log_softmax; pass raw logits, or use Nll for log-probabilities."));
                break;
        }
    }
}
