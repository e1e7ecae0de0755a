using System.Numerics.Tensors;

namespace Xent.Losses;

/// <summary>
/// The binary focal loss on logits, with torchvision's <c>sigmoid_focal_loss</c> semantics: p = σ(x),
/// ce = BCE-with-logits(x, t), p_t = p·t + (1 − p)·(1 − t), ℓ = ce·(1 − p_t)^γ, times α_t = α·t + (1 − α)·(1 − t)
/// when α ≥ 0; reduction none, mean (over every element) or sum. Targets may be soft (in [0, 1]).
/// </summary>
public static class SigmoidFocalLoss
{
    /// <summary>The loss and, optionally, its gradient.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="input">Logits, any shape.</param>
    /// <param name="target">Targets of the same shape, in [0, 1].</param>
    /// <param name="alpha">α in [0, 1], or negative for none. Default: 0.25 (torchvision's).</param>
    /// <param name="gamma">γ ≥ 0. Default: 2.</param>
    /// <param name="reduction">The reduction. Default: none, as torchvision's.</param>
    /// <param name="losses">Receives each element's loss (required for <see cref="Reduction.None"/>), or empty.</param>
    /// <param name="gradient">Receives d loss / d input, or empty.</param>
    /// <returns>The value and its parts (the total weight is the element count).</returns>
    /// <exception cref="ArgumentException">The shapes differ, a destination is too short, or α or γ is out of range.</exception>
    public static LossResult Compute<T>(ReadOnlyTensorSpan<T> input, ReadOnlyTensorSpan<T> target, double alpha = 0.25, double gamma = 2, Reduction reduction = Reduction.None, Span<T> losses = default, Span<T> gradient = default)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        TensorArgs.EnsureSupported<T>();
        if (!input.Lengths.SequenceEqual(target.Lengths))
        {
            throw new ArgumentException($"Target size ({TensorArgs.Format(target.Lengths)}) must be the same as input size ({TensorArgs.Format(input.Lengths)})", nameof(target));
        }

        if (!(gamma >= 0) || !double.IsFinite(gamma) || alpha > 1 || double.IsNaN(alpha))
        {
            throw new ArgumentException($"gamma must be a finite number ≥ 0 and alpha at most 1 (negative for none); got gamma {gamma}, alpha {alpha}.", nameof(gamma));
        }

        ReadOnlySpan<T> x = TensorArgs.Flat(input, nameof(input));
        ReadOnlySpan<T> t = TensorArgs.Flat(target, nameof(target));
        CrossEntropy.CheckDestinations(reduction, x.Length, x.Length, losses, gradient);
        double kappa = reduction == Reduction.Mean ? 1.0 / x.Length : 1.0;
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double z = double.CreateTruncating(x[i]), y = double.CreateTruncating(t[i]);
            double p = 1 / (1 + Math.Exp(-z));
            // BCE with logits, stable: max(z, 0) − z·y + log(1 + e^−|z|); d/dz = p − y.
            double ce = Math.Max(z, 0) - (z * y) + Math.Log(1 + Math.Exp(-Math.Abs(z)));
            double pt = (p * y) + ((1 - p) * (1 - y));
            double q = 1 - pt, m = Math.Pow(q, gamma);
            double a = alpha >= 0 ? (alpha * y) + ((1 - alpha) * (1 - y)) : 1;
            double loss = a * ce * m;
            sum += loss;
            if (!losses.IsEmpty)
            {
                losses[i] = T.CreateTruncating(loss);
            }

            if (!gradient.IsEmpty)
            {
                // d pt/dz = p(1 − p)(2y − 1); d m/dz = −γ q^(γ−1) d pt/dz (0 when q = 0).
                double dpt = p * (1 - p) * ((2 * y) - 1);
                double dm = q > 0 && gamma != 0 ? -gamma * Math.Pow(q, gamma - 1) * dpt : 0;
                gradient[i] = T.CreateTruncating(kappa * a * (((p - y) * m) + (ce * dm)));
            }
        }

        return CrossEntropy.Result(reduction, sum, x.Length, x.Length, x.Length);
    }
}
