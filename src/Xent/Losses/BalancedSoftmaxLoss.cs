using System.Numerics.Tensors;

namespace Xent.Losses;

/// <summary>
/// Balanced softmax (Ren et al., NeurIPS 2020): ℓ = CE(z + log n_c, y), n_c the training rows of class c. The same as
/// <see cref="LogitAdjustedLoss"/> with τ = 1 up to a constant shift of the logits; predictions use argmax z.
/// </summary>
/// <param name="classCounts">Training rows per class.</param>
[LossName("balanced-softmax", "CE(z + log n_c, y), n_c the training class counts; predictions use argmax z")]
public sealed class BalancedSoftmaxLoss(IReadOnlyList<int> classCounts) : ClassificationLoss
{
    private readonly double[] _offset = Offsets(classCounts);

    /// <inheritdoc />
    public override string Name => "balanced-softmax";

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, double>> Parameters => [];

    /// <inheritdoc />
    public override double Position(ReadOnlySpan<double> logits, int target, Span<double> gradient)
        => LogitAdjustedLoss.ShiftedCrossEntropy(logits, _offset, target, gradient);

    /// <inheritdoc />
    protected internal override ReadOnlySpan<double> LogitOffset => _offset;

    private static double[] Offsets(IReadOnlyList<int> counts)
    {
        ClassCounts.Check(counts);
        return [.. counts.Select(c => Math.Log(c))];
    }
}
