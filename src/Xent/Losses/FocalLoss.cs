using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Xent.Losses;

/// <summary>
/// Focal loss, softmax form (Lin et al., 2017): ℓ = −α_y·(1 − p_y)^γ·log p_y, with p = softmax(z). The per-class α is
/// the class weight (<see cref="ClassificationLossOptions.Weight"/>, <c>--class-weights</c>). The mean is over
/// positions, Σ α_y·ℓ ÷ N, as torchvision's and kornia's focal losses take it (not ÷ Σ α_y as PyTorch's weighted
/// cross-entropy does). γ = 0 is cross-entropy. Its optimum is under-confident: for one input labelled with
/// frequencies f, the minimising p is pulled towards uniform.
/// </summary>
/// <param name="gamma">γ ≥ 0. Default: 2.</param>
[LossName("focal", "−α_y·(1 − p_y)^γ·log p_y, mean over positions (γ: gamma; α: --class-weights)")]
public sealed class FocalLoss(double gamma = 2) : ClassificationLoss
{
    /// <summary>γ.</summary>
    public double Gamma { get; } = gamma >= 0 && double.IsFinite(gamma) ? gamma : throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be a finite number ≥ 0.");

    /// <inheritdoc />
    public override string Name => "focal";

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, double>> Parameters => [KeyValuePair.Create("gamma", Gamma)];

    /// <inheritdoc />
    public override LossNormalization Normalization => LossNormalization.Positions;

    /// <inheritdoc />
    public override double Position(ReadOnlySpan<double> logits, int target, Span<double> gradient)
    {
        double lse = Softmax(logits, gradient);
        double logPt = logits[target] - lse, pt = gradient[target], q = 1 - pt;
        double modulation = Math.Pow(q, Gamma);
        // dℓ/dz_c = (δ_cy − p_c)·[γ(1 − p_t)^(γ−1)·p_t·log p_t − (1 − p_t)^γ]; the first term is 0 when p_t = 1.
        double factor = (q > 0 && Gamma != 0 ? Gamma * Math.Pow(q, Gamma - 1) * pt * logPt : 0) - modulation;
        for (int k = 0; k < logits.Length; k++)
        {
            gradient[k] = ((k == target ? 1 : 0) - gradient[k]) * factor;
        }

        return -modulation * logPt;
    }

    /// <inheritdoc />
    protected internal override bool HasSoftmaxForm => true;

    /// <inheritdoc />
    protected internal override void SoftmaxForm(double logPy, out double loss, out double scale)
    {
        double pt = Math.Exp(logPy), q = Math.Max(1 - pt, 0), modulation = Gamma == 2 ? q * q : Math.Pow(q, Gamma);
        loss = -modulation * logPy;
        // g = (1 − p_t)^γ − γ(1 − p_t)^(γ−1)·p_t·log p_t; the second term is 0 at p_t = 1.
        scale = modulation - (q > 0 && Gamma != 0 ? Gamma * (Gamma == 2 ? q : Math.Pow(q, Gamma - 1)) * pt * logPy : 0);
    }

    /// <inheritdoc />
    protected internal override void SoftmaxForm(ReadOnlySpan<double> logPy, Span<double> loss, Span<double> scale)
    {
        // p_t = exp(log p_t); q = 1 − p_t (clamped at 0); (1 − p_t)^γ = exp(γ·log q), vectorised over the tile.
        int length = logPy.Length;
        Span<double> pt = stackalloc double[length], modulation = stackalloc double[length], lower = stackalloc double[length];
        TensorPrimitives.Exp(logPy, pt);
        if (Gamma == Math.Floor(Gamma) && Gamma is >= 1 and <= 4)
        {
            // Integer γ (2 is the usual one): one fused pass, the powers by multiplication (exact, no log or exp).
            IntegerGamma(logPy, pt, loss, scale);
            return;
        }

        TensorPrimitives.Subtract(1.0, pt, loss);
        TensorPrimitives.Max(loss, 0.0, loss); // q
        if (Gamma == Math.Floor(Gamma) && Gamma <= 4)
        {
            // Integer γ (2 is the usual one): the powers by multiplication, exact and without log or exp.
            lower.Fill(1); // q^(γ−1)
            for (int e = 1; e < Gamma; e++)
            {
                TensorPrimitives.Multiply(lower, loss, lower);
            }

            TensorPrimitives.Multiply(lower, loss, modulation);
            if (Gamma >= 1)
            {
                // Vectorised: ℓ = −q^γ·log p_t and g = q^γ − γ·q^(γ−1)·p_t·log p_t (the second term is 0 at p_t = 1 by itself).
                TensorPrimitives.Multiply(modulation, logPy, loss);
                TensorPrimitives.Negate(loss, loss);
                TensorPrimitives.Multiply(lower, pt, lower);
                TensorPrimitives.Multiply(lower, logPy, lower);
                TensorPrimitives.MultiplyAdd(lower, -Gamma, modulation, scale);
                return;
            }
        }
        else
        {
            TensorPrimitives.Log(loss, lower);
            TensorPrimitives.Multiply(lower, Gamma, modulation);
            TensorPrimitives.Exp(modulation, modulation);
            TensorPrimitives.Multiply(lower, Gamma - 1, lower);
            TensorPrimitives.Exp(lower, lower);
        }

        for (int i = 0; i < length; i++)
        {
            double q = loss[i], l = logPy[i], m = Gamma == 0 ? 1 : modulation[i];
            // dℓ/dz = (δ − p)·F with F = γ(1 − p_t)^(γ−1)·p_t·log p_t − (1 − p_t)^γ, so g = −F; the first term is 0 at p_t = 1.
            double term = q > 0 && Gamma != 0 ? Gamma * lower[i] * pt[i] * l : 0;
            loss[i] = -m * l;
            scale[i] = m - term;
        }
    }

    /// <summary>
    /// ℓ = −q^γ·log p_t and g = q^γ − γ·q^(γ−1)·p_t·log p_t with q = max(1 − p_t, 0), for an integer γ in [1, 4], in one
    /// pass over the tile (Vector512 or Vector256 lanes, then scalars).
    /// </summary>
    private void IntegerGamma(ReadOnlySpan<double> logPy, ReadOnlySpan<double> pt, Span<double> loss, Span<double> scale)
    {
        int length = logPy.Length, gamma = (int)Gamma, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<double> one = Vector512<double>.One, g = Vector512.Create(Gamma);
            for (; i <= length - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                Vector512<double> p = Vector512.Create(pt.Slice(i, Vector512<double>.Count)), l = Vector512.Create(logPy.Slice(i, Vector512<double>.Count));
                Vector512<double> q = Vector512.Max(one - p, Vector512<double>.Zero), lower = one;
                for (int e = 1; e < gamma; e++)
                {
                    lower *= q;
                }

                Vector512<double> modulation = lower * q;
                (-(modulation * l)).CopyTo(loss.Slice(i, Vector512<double>.Count));
                (modulation - (g * (lower * p * l))).CopyTo(scale.Slice(i, Vector512<double>.Count));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> one = Vector256<double>.One, g = Vector256.Create(Gamma);
            for (; i <= length - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                Vector256<double> p = Vector256.Create(pt.Slice(i, Vector256<double>.Count)), l = Vector256.Create(logPy.Slice(i, Vector256<double>.Count));
                Vector256<double> q = Vector256.Max(one - p, Vector256<double>.Zero), lower = one;
                for (int e = 1; e < gamma; e++)
                {
                    lower *= q;
                }

                Vector256<double> modulation = lower * q;
                (-(modulation * l)).CopyTo(loss.Slice(i, Vector256<double>.Count));
                (modulation - (g * (lower * p * l))).CopyTo(scale.Slice(i, Vector256<double>.Count));
            }
        }

        for (; i < length; i++)
        {
            double p = pt[i], l = logPy[i], q = Math.Max(1 - p, 0), lower = 1;
            for (int e = 1; e < gamma; e++)
            {
                lower *= q;
            }

            double modulation = lower * q;
            loss[i] = -(modulation * l);
            scale[i] = modulation - (Gamma * (lower * p * l));
        }
    }
}
