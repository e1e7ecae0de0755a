using System.Numerics.Tensors;

namespace Xent.Losses;

/// <summary>
/// Generalised cross-entropy (Zhang and Sabuncu, NeurIPS 2018): ℓ = (1 − p_y^q) ÷ q, robust to noisy labels; q → 0 is
/// cross-entropy and q = 1 the mean absolute error. For one input labelled with frequencies f its optimum is
/// p_c ∝ f_c^(1/(1−q)).
/// </summary>
/// <param name="q">q in (0, 1]. Default: 0.7.</param>
[LossName("gce", "(1 − p_y^q) / q (q), robust to label noise")]
public sealed class GceLoss(double q = 0.7) : ClassificationLoss
{
    /// <summary>q.</summary>
    public double Q { get; } = q > 0 && q <= 1 ? q : throw new ArgumentOutOfRangeException(nameof(q), q, "q must be in (0, 1].");

    /// <inheritdoc />
    public override string Name => "gce";

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, double>> Parameters => [KeyValuePair.Create("q", Q)];

    /// <inheritdoc />
    public override double Position(ReadOnlySpan<double> logits, int target, Span<double> gradient)
    {
        double lse = Softmax(logits, gradient);
        double pq = Math.Exp(Q * (logits[target] - lse));
        // dℓ/dz_c = −p_y^q·(δ_cy − p_c).
        for (int k = 0; k < logits.Length; k++)
        {
            gradient[k] = -pq * ((k == target ? 1 : 0) - gradient[k]);
        }

        return (1 - pq) / Q;
    }

    /// <inheritdoc />
    protected internal override bool HasSoftmaxForm => true;

    /// <inheritdoc />
    protected internal override void SoftmaxForm(double logPy, out double loss, out double scale)
    {
        double pq = Math.Exp(Q * logPy);
        loss = (1 - pq) / Q;
        scale = pq;
    }

    /// <inheritdoc />
    protected internal override void SoftmaxForm(ReadOnlySpan<double> logPy, Span<double> loss, Span<double> scale)
    {
        // p_y^q = exp(q·log p_y); ℓ = (1 − p_y^q)/q; g = p_y^q.
        TensorPrimitives.Multiply(logPy, Q, scale);
        TensorPrimitives.Exp(scale, scale);
        for (int i = 0; i < logPy.Length; i++)
        {
            loss[i] = (1 - scale[i]) / Q;
        }
    }
}
