using System.Numerics.Tensors;

namespace Xent.Losses;

/// <summary>
/// Logit-adjusted loss (Menon et al., ICLR 2021): ℓ = CE(z + τ·log π, y), where π is the training class prior. Train
/// with it and predict with argmax z (no adjustment): the learned softmax(z) is then ∝ f·π^(−τ) for label frequencies
/// f, which balances the classes. Post-hoc adjustment of any model is <c>--logit-adjust TAU</c> in evaluate and
/// predict.
/// </summary>
/// <param name="classCounts">Training rows per class (π_c = n_c ÷ n).</param>
/// <param name="tau">τ. Default: 1.</param>
[LossName("logit-adjusted", "CE(z + τ·log π, y), π the training class prior (tau); predictions use argmax z")]
public sealed class LogitAdjustedLoss(IReadOnlyList<int> classCounts, double tau = 1) : ClassificationLoss
{
    private readonly double[] _offset = Offsets(classCounts, tau);

    /// <summary>τ.</summary>
    public double Tau { get; } = tau;

    /// <inheritdoc />
    public override string Name => "logit-adjusted";

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, double>> Parameters => [KeyValuePair.Create("tau", Tau)];

    /// <summary>τ·log π_c for each class.</summary>
    public IReadOnlyList<double> Offset => _offset;

    /// <inheritdoc />
    protected internal override ReadOnlySpan<double> LogitOffset => _offset;

    /// <inheritdoc />
    public override double Position(ReadOnlySpan<double> logits, int target, Span<double> gradient)
        => ShiftedCrossEntropy(logits, _offset, target, gradient);

    /// <summary>CE of z + offset: the gradient with respect to z equals that with respect to the shifted logits.</summary>
    internal static double ShiftedCrossEntropy(ReadOnlySpan<double> logits, ReadOnlySpan<double> offset, int target, Span<double> gradient)
    {
        if (offset.Length != logits.Length)
        {
            throw new ArgumentException($"The loss was made for {offset.Length} classes; the input has {logits.Length}.", nameof(logits));
        }

        double[]? pooled = logits.Length <= 256 ? null : System.Buffers.ArrayPool<double>.Shared.Rent(logits.Length);
        Span<double> shifted = pooled is null ? stackalloc double[logits.Length] : pooled.AsSpan(0, logits.Length);
        for (int k = 0; k < logits.Length; k++)
        {
            shifted[k] = logits[k] + offset[k];
        }

        double loss = CrossEntropyOf(shifted, target, gradient);
        if (pooled is not null)
        {
            System.Buffers.ArrayPool<double>.Shared.Return(pooled);
        }

        return loss;
    }

    private static double[] Offsets(IReadOnlyList<int> counts, double tau)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (!double.IsFinite(tau))
        {
            throw new ArgumentOutOfRangeException(nameof(tau), tau, "tau must be finite.");
        }

        double n = ClassCounts.Check(counts);
        return [.. counts.Select(c => tau * Math.Log(c / n))];
    }
}
