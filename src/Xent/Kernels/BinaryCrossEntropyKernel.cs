using System.Numerics;

namespace Xent.Kernels;

/// <summary>
/// Binary cross-entropy on logits, elementwise: ℓ = w·[(1 − t)·x − ((pw − 1)·t + 1)·logσ(x)], with
/// logσ(x) = min(x, 0) − log1p(exp(−|x|)) so that large |x| stays finite. Gradient: κ·w·((pw·t + 1 − t)·σ(x) − pw·t).
/// </summary>
internal static class BinaryCrossEntropyKernel
{
    public static double Run<T>(
        ReadOnlySpan<T> input, ReadOnlySpan<T> target, ReadOnlySpan<nint> shape,
        ReadOnlySpan<double> weight, nint[]? weightStrides,
        ReadOnlySpan<double> posWeight, nint[]? posWeightStrides,
        Span<T> losses, Span<T> gradient, double kappa)
        where T : IFloatingPointIeee754<T>
    {
        int rank = shape.Length;
        Span<nint> index = rank <= 16 ? stackalloc nint[rank] : new nint[rank];
        index.Clear();
        nint wOffset = 0, pOffset = 0;
        double sum = 0;
        for (int i = 0; i < input.Length; i++)
        {
            double x = double.CreateTruncating(input[i]);
            double t = double.CreateTruncating(target[i]);
            double w = weight.IsEmpty ? 1.0 : weight[(int)wOffset];
            double pw = posWeight.IsEmpty ? 1.0 : posWeight[(int)pOffset];
            double logSigmoid = Math.Min(x, 0) - Math.Log(1 + Math.Exp(-Math.Abs(x)));
            double logWeight = posWeight.IsEmpty ? 1.0 : ((pw - 1) * t) + 1;
            double loss = w * (((1 - t) * x) - (logWeight * logSigmoid));
            if (!losses.IsEmpty)
            {
                losses[i] = T.CreateTruncating(loss);
            }

            if (!gradient.IsEmpty)
            {
                double sigmoid = x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
                double pt = pw * t;
                gradient[i] = T.CreateTruncating(kappa * w * (((pt + 1 - t) * sigmoid) - pt));
            }

            sum += loss;

            // Advance the row-major multi-index and the operands' broadcast offsets.
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d]++;
                if (weightStrides is not null)
                {
                    wOffset += weightStrides[d];
                }

                if (posWeightStrides is not null)
                {
                    pOffset += posWeightStrides[d];
                }

                if (index[d] < shape[d])
                {
                    break;
                }

                if (weightStrides is not null)
                {
                    wOffset -= weightStrides[d] * shape[d];
                }

                if (posWeightStrides is not null)
                {
                    pOffset -= posWeightStrides[d] * shape[d];
                }

                index[d] = 0;
            }
        }

        return sum;
    }
}
