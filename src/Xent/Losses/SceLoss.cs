using System.Numerics.Tensors;

namespace Xent.Losses;

/// <summary>
/// Symmetric cross-entropy (Wang et al., ICCV 2019): ℓ = α·CE + β·RCE, with the reverse cross-entropy
/// RCE = −Σ_c p_c·log q_c for the one-hot q with log 0 taken as A, that is RCE = −A·(1 − p_y).
/// </summary>
/// <param name="alpha">α. Default: 0.1.</param>
/// <param name="beta">β. Default: 1.</param>
/// <param name="a">A, the value of log 0. Default: −4.</param>
[LossName("sce", "α·CE + β·RCE, RCE = −A·(1 − p_y) (alpha, beta, a)")]
public sealed class SceLoss(double alpha = 0.1, double beta = 1, double a = -4) : ClassificationLoss
{
    /// <summary>α.</summary>
    public double Alpha { get; } = double.IsFinite(alpha) && alpha >= 0 ? alpha : throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha (the weight of cross-entropy) must be a finite number ≥ 0.");

    /// <summary>β.</summary>
    public double Beta { get; } = double.IsFinite(beta) && beta >= 0 && (beta > 0 || alpha != 0) ? beta : throw new ArgumentOutOfRangeException(nameof(beta), beta, beta == 0 ? "alpha and beta are both 0, which makes the loss 0 everywhere; give one of them a positive weight." : "beta (the weight of reverse cross-entropy) must be a finite number ≥ 0.");

    /// <summary>A.</summary>
    public double A { get; } = a < 0 && double.IsFinite(a) ? a : throw new ArgumentOutOfRangeException(nameof(a), a, "a (the value of log 0) must be a finite negative number.");

    /// <inheritdoc />
    public override string Name => "sce";

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, double>> Parameters => [KeyValuePair.Create("alpha", Alpha), KeyValuePair.Create("beta", Beta), KeyValuePair.Create("a", A)];

    /// <inheritdoc />
    public override double Position(ReadOnlySpan<double> logits, int target, Span<double> gradient)
    {
        double lse = Softmax(logits, gradient);
        double py = gradient[target];
        // d(α·CE)/dz_c = α·(p_c − δ_cy); d(β·RCE)/dz_c = β·A·p_y·(δ_cy − p_c).
        for (int k = 0; k < logits.Length; k++)
        {
            double d = (k == target ? 1 : 0) - gradient[k];
            gradient[k] = (-Alpha * d) + (Beta * A * py * d);
        }

        return (Alpha * (lse - logits[target])) - (Beta * A * (1 - py));
    }

    /// <inheritdoc />
    protected internal override bool HasSoftmaxForm => true;

    /// <inheritdoc />
    protected internal override void SoftmaxForm(double logPy, out double loss, out double scale)
    {
        double py = Math.Exp(logPy);
        loss = (-Alpha * logPy) - (Beta * A * (1 - py));
        scale = Alpha - (Beta * A * py);
    }

    /// <inheritdoc />
    protected internal override void SoftmaxForm(ReadOnlySpan<double> logPy, Span<double> loss, Span<double> scale)
    {
        TensorPrimitives.Exp(logPy, scale); // p_y
        for (int i = 0; i < logPy.Length; i++)
        {
            double py = scale[i];
            loss[i] = (-Alpha * logPy[i]) - (Beta * A * (1 - py));
            scale[i] = Alpha - (Beta * A * py);
        }
    }
}
