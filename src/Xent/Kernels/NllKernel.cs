using System.Numerics;

namespace Xent.Kernels;

/// <summary>Negative log-likelihood over log-probabilities laid out as (N, C, S): ℓ = −w[y]·x[y].</summary>
internal static class NllKernel
{
    /// <summary>Writes per-position losses and the gradient (−κ·w[y] at the target, 0 elsewhere); returns Σ ℓ.</summary>
    public static double Run<T>(ReadOnlySpan<T> input, int n, int c, int s, ReadOnlySpan<int> targets, ReadOnlySpan<T> weight, int ignoreIndex, Span<T> losses, Span<T> gradient, double kappa)
        where T : IFloatingPointIeee754<T>
    {
        gradient.Clear();
        double sum = 0;
        for (int b = 0; b < n; b++)
        {
            for (int p = 0; p < s; p++)
            {
                int position = (b * s) + p;
                int y = targets[position];
                double loss = 0;
                if (y != ignoreIndex)
                {
                    int index = (((b * c) + y) * s) + p;
                    double w = weight.IsEmpty ? 1.0 : double.CreateTruncating(weight[y]);
                    loss = -w * double.CreateTruncating(input[index]);
                    if (!gradient.IsEmpty)
                    {
                        gradient[index] = T.CreateTruncating(-kappa * w);
                    }
                }

                if (!losses.IsEmpty)
                {
                    losses[position] = T.CreateTruncating(loss);
                }

                sum += loss;
            }
        }

        return sum;
    }
}
