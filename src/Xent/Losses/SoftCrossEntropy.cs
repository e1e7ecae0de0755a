using System.Numerics;
using System.Numerics.Tensors;

namespace Xent.Losses;

/// <summary>
/// The "soft cross entropy" practitioners often write by hand: CE(hard target) plus the cross-entropy
/// against a uniform target, ℓ = −w[y]·log p[y] + (1/C)·Σ_c −w_c·log p_c.
/// </summary>
/// <remarks>
/// It is exactly 2 × <see cref="CrossEntropy"/> with <see cref="CrossEntropyOptions.LabelSmoothing"/> = 0.5:
/// 2·(0.5·(−log p[y]) + (0.5/C)·Σ −log p_c). So it is label smoothing at ε = 0.5 with twice the learning rate,
/// and its mean uses the same denominator (Σ w[y] over non-ignored targets).
/// </remarks>
public static class SoftCrossEntropy
{
    /// <summary>The label smoothing this loss equals, up to the factor <see cref="Scale"/>.</summary>
    public const double EquivalentLabelSmoothing = 0.5;

    /// <summary>The factor between this loss and cross-entropy with <see cref="EquivalentLabelSmoothing"/>.</summary>
    public const double Scale = 2.0;

    /// <summary>Computes the loss and, when <paramref name="gradient"/> is not empty, its gradient.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="input">Logits: (C), (N, C) or (N, C, d1, …, dk).</param>
    /// <param name="target">Class indices, as for <see cref="CrossEntropy"/>.</param>
    /// <param name="options">Weights, ignore index and reduction. <see cref="CrossEntropyOptions.LabelSmoothing"/> must be 0: this loss fixes it.</param>
    /// <param name="losses">Receives the per-position losses; required for <see cref="Reduction.None"/>.</param>
    /// <param name="gradient">Receives the gradient with respect to the input; empty for forward only.</param>
    /// <param name="gradientScale">The upstream gradient. Default: 1.</param>
    /// <returns>The reduced loss and its parts.</returns>
    /// <exception cref="ArgumentException">Label smoothing was set, or a shape, weight or destination is invalid.</exception>
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
        if (options.LabelSmoothing != 0)
        {
            throw new ArgumentException($"SoftCrossEntropy fixes its own smoothing; LabelSmoothing must be 0, got {TensorArgs.Format(options.LabelSmoothing)}.", nameof(options));
        }

        CrossEntropy.ThrowIfIntegerProbabilities(input.Lengths, target.Lengths);
        var layout = IndexTargetLayout.Create(input, target, options.Weight?.Count);
        return CrossEntropy.ComputeIndex(input, target, layout, options, EquivalentLabelSmoothing, losses, gradient, gradientScale, Scale);
    }
}
