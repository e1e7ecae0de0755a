using System.Numerics;
using System.Numerics.Tensors;
using Xent.Diagnostics;
using Xent.Kernels;

namespace Xent.Losses;

/// <summary>
/// Negative log-likelihood with PyTorch's <c>F.nll_loss</c> semantics: the input holds log-probabilities
/// (for example from log_softmax), ℓ = −w[y]·input[y], with the same shapes, weighted mean, ignore index and
/// errors as <see cref="CrossEntropy"/>'s class-index path.
/// </summary>
public static class Nll
{
    /// <summary>Computes the loss and, when <paramref name="gradient"/> is not empty, its gradient.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="input">Log-probabilities: (C), (N, C) or (N, C, d1, …, dk).</param>
    /// <param name="target">Class indices: shape [1] for unbatched input, (N), or (N, d1, …, dk).</param>
    /// <param name="options">Weights, ignore index and reduction; <see langword="null"/> for the defaults.</param>
    /// <param name="losses">Receives the per-position losses; required for <see cref="Reduction.None"/>.</param>
    /// <param name="gradient">Receives the gradient with respect to the input; empty for forward only.</param>
    /// <param name="gradientScale">The upstream gradient. Default: 1.</param>
    /// <returns>The reduced loss and its parts.</returns>
    /// <exception cref="ArgumentException">A shape, weight or destination is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is outside [0, C) and is not the ignore index.</exception>
    public static LossResult Compute<T>(
        ReadOnlyTensorSpan<T> input,
        ReadOnlyTensorSpan<int> target,
        NllOptions? options = null,
        Span<T> losses = default,
        Span<T> gradient = default,
        double gradientScale = 1.0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorArgs.EnsureSupported<T>();
        options ??= NllOptions.Default;
        var layout = IndexTargetLayout.Create(input, target, options.Weight?.Count);
        ReadOnlySpan<T> x = TensorArgs.Flat(input, nameof(input));
        ReadOnlySpan<int> y = TensorArgs.Flat(target, nameof(target));
        using var weight = new PooledWeights<T>(options.Weight);
        (double totalWeight, long count) = IndexTargetLayout.SumTargetWeights(y, layout.C, options.IgnoreIndex, weight.Span);
        CrossEntropy.CheckDestinations(options.Reduction, layout.Positions, x.Length, losses, gradient);
        if (options.Diagnostics is { } sink && InputKindDetector.Detect(x, layout.N, layout.C, layout.S) == InputKind.Probabilities)
        {
            sink.Report(new Diagnostic(
                DiagnosticCodes.NllInputLooksLikeProbabilities,
                DiagnosticSeverity.Warning,
                "Nll expects log-probabilities, but every row of its input is non-negative and sums to 1: these look like probabilities. Apply log_softmax first, or use CrossEntropy on raw logits."));
        }

        double kappa = options.Reduction == Reduction.Mean ? gradientScale / totalWeight : gradientScale;
        double sum = NllKernel.Run(x, layout.N, layout.C, layout.S, y, weight.Span, options.IgnoreIndex, losses, gradient, kappa);
        return CrossEntropy.Result(options.Reduction, sum, totalWeight, count, layout.Positions);
    }
}
