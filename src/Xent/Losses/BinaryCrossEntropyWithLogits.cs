using System.Numerics;
using System.Numerics.Tensors;
using Xent.Kernels;

namespace Xent.Losses;

/// <summary>
/// Binary cross-entropy on logits with PyTorch's <c>F.binary_cross_entropy_with_logits</c> semantics:
/// ℓ = −w·[pw·t·log σ(x) + (1 − t)·log(1 − σ(x))], computed stably for large |x|, with <c>weight</c> and
/// <c>pos_weight</c> broadcast as PyTorch does. The mean divides by the number of elements.
/// </summary>
public static class BinaryCrossEntropyWithLogits
{
    /// <summary>Computes the loss and, when <paramref name="gradient"/> is not empty, its gradient.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="input">Logits of any shape.</param>
    /// <param name="target">Targets in [0, 1] (not validated), the input's shape.</param>
    /// <param name="options">Weights, positive weights and reduction; <see langword="null"/> for the defaults.</param>
    /// <param name="losses">Receives the elementwise losses; required for <see cref="Reduction.None"/>.</param>
    /// <param name="gradient">Receives the gradient with respect to the input; empty for forward only.</param>
    /// <param name="gradientScale">The upstream gradient. Default: 1.</param>
    /// <returns>The reduced loss and its parts (the total weight is the element count).</returns>
    /// <exception cref="ArgumentException">The target's shape differs from the input's, a weight does not
    /// broadcast, or a destination has the wrong length.</exception>
    public static LossResult Compute<T>(
        ReadOnlyTensorSpan<T> input,
        ReadOnlyTensorSpan<T> target,
        BinaryCrossEntropyOptions? options = null,
        Span<T> losses = default,
        Span<T> gradient = default,
        double gradientScale = 1.0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorArgs.EnsureSupported<T>();
        options ??= BinaryCrossEntropyOptions.Default;
        ReadOnlySpan<nint> shape = input.Lengths;
        if (!TensorArgs.SameShape(shape, target.Lengths))
        {
            throw new ArgumentException($"Target size ({TorchSize(target.Lengths)}) must be the same as input size ({TorchSize(shape)})", nameof(target));
        }

        nint[]? weightStrides = Broadcast(options.Weight, shape, "weight", out ReadOnlySpan<double> weight);
        nint[]? posWeightStrides = Broadcast(options.PosWeight, shape, "pos_weight", out ReadOnlySpan<double> posWeight);
        ReadOnlySpan<T> x = TensorArgs.Flat(input, nameof(input));
        ReadOnlySpan<T> t = TensorArgs.Flat(target, nameof(target));
        CrossEntropy.CheckDestinations(options.Reduction, x.Length, x.Length, losses, gradient);
        double kappa = options.Reduction == Reduction.Mean ? gradientScale / x.Length : gradientScale;
        double sum = BinaryCrossEntropyKernel.Run(x, t, shape, weight, weightStrides, posWeight, posWeightStrides, losses, gradient, kappa);
        return CrossEntropy.Result(options.Reduction, sum, x.Length, x.Length, x.Length);
    }

    private static nint[]? Broadcast(Tensor<double>? operand, ReadOnlySpan<nint> shape, string name, out ReadOnlySpan<double> values)
    {
        values = default;
        if (operand is null)
        {
            return null;
        }

        ReadOnlyTensorSpan<double> span = operand.AsReadOnlyTensorSpan();
        nint[]? strides = BroadcastIndex.Strides(span.Lengths, shape, out int mismatch);
        if (strides is null)
        {
            throw new ArgumentException(
                $"{name} of shape {TensorArgs.Format(span.Lengths)} does not broadcast to the input's shape {TensorArgs.Format(shape)}" +
                (mismatch >= 0 && span.Lengths.Length <= shape.Length ? $" (at dimension {mismatch})" : " (it has more dimensions)") +
                (name == "weight" ? "; the output would not match the broadcast shape" : string.Empty),
                "options");
        }

        values = TensorArgs.Flat(span, name);
        return strides;
    }

    private static string TorchSize(ReadOnlySpan<nint> lengths) => "torch.Size(" + TensorArgs.Format(lengths) + ")";
}
