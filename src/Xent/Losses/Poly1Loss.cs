using System.Numerics.Tensors;

namespace Xent.Losses;

/// <summary>Poly-1 (Leng et al., ICLR 2022): ℓ = CE + ε·(1 − p_y).</summary>
/// <param name="epsilon">ε. Default: 1.</param>
[LossName("poly1", "CE + ε·(1 − p_y) (epsilon)")]
public sealed class Poly1Loss(double epsilon = 1) : ClassificationLoss
{
    /// <summary>ε.</summary>
    public double Epsilon { get; } = double.IsFinite(epsilon) && epsilon >= -1 ? epsilon : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be a finite number ≥ −1.");

    /// <inheritdoc />
    public override string Name => "poly1";

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, double>> Parameters => [KeyValuePair.Create("epsilon", Epsilon)];

    /// <inheritdoc />
    public override double Position(ReadOnlySpan<double> logits, int target, Span<double> gradient)
    {
        double lse = Softmax(logits, gradient);
        double py = gradient[target];
        // d CE/dz_c = p_c − δ_cy; d ε(1 − p_y)/dz_c = −ε·p_y·(δ_cy − p_c).
        for (int k = 0; k < logits.Length; k++)
        {
            double d = (k == target ? 1 : 0) - gradient[k];
            gradient[k] = -d - (Epsilon * py * d);
        }

        return lse - logits[target] + (Epsilon * (1 - py));
    }

    /// <inheritdoc />
    protected internal override bool HasSoftmaxForm => true;

    /// <inheritdoc />
    protected internal override void SoftmaxForm(double logPy, out double loss, out double scale)
    {
        double py = Math.Exp(logPy);
        loss = -logPy + (Epsilon * (1 - py));
        scale = 1 + (Epsilon * py);
    }

    /// <inheritdoc />
    protected internal override void SoftmaxForm(ReadOnlySpan<double> logPy, Span<double> loss, Span<double> scale)
    {
        TensorPrimitives.Exp(logPy, scale); // p_y
        for (int i = 0; i < logPy.Length; i++)
        {
            double py = scale[i];
            loss[i] = -logPy[i] + (Epsilon * (1 - py));
            scale[i] = 1 + (Epsilon * py);
        }
    }
}
