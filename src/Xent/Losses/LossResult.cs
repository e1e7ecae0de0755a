namespace Xent.Losses;

/// <summary>
/// A reduced loss together with the parts it was formed from, so that micro-batches or data shards
/// combine into exactly the full-batch value: add the parts with <see cref="Combine"/> (or <c>+</c>),
/// then read <see cref="Mean"/>.
/// </summary>
/// <remarks>
/// Averaging the means of unequal micro-batches (mean of means) is not the full-batch mean whenever the
/// micro-batches carry different total weights, for example a different number of ignored positions.
/// The exact recipe: compute each micro-batch with <see cref="Reduction.Sum"/> and a gradient scale of
/// 1 ÷ (the full batch's total weight), and combine the results.
/// </remarks>
/// <param name="Value">The loss as the chosen reduction defines it: <see cref="Mean"/> for
/// <see cref="Reduction.Mean"/>, <see cref="WeightedSum"/> for <see cref="Reduction.Sum"/> and for
/// <see cref="Reduction.None"/> (where the per-position values are in the caller's destination).</param>
/// <param name="WeightedSum">Σ of the per-position losses, each already multiplied by its class weight.</param>
/// <param name="TotalWeight">The mean's denominator: Σ w[y] over the positions that are not ignored for
/// class-index targets (their count when unweighted), the number of positions for probability targets,
/// and the number of elements for binary cross-entropy.</param>
/// <param name="Count">Positions that took part (not ignored).</param>
/// <param name="Reduction">The reduction that produced <paramref name="Value"/>.</param>
public readonly record struct LossResult(double Value, double WeightedSum, double TotalWeight, long Count, Reduction Reduction)
{
    /// <summary>
    /// <see cref="WeightedSum"/> ÷ <see cref="TotalWeight"/> with IEEE semantics: 0 ÷ 0 is NaN, as in PyTorch
    /// when every target is ignored or the input is empty.
    /// </summary>
    public double Mean => WeightedSum / TotalWeight;

    /// <summary>The parts of two disjoint batches added together; the value is their joint mean.</summary>
    /// <param name="other">The other batch's result.</param>
    /// <returns>A result whose <see cref="Value"/> is the mean over both batches.</returns>
    public LossResult Combine(LossResult other)
    {
        double sum = WeightedSum + other.WeightedSum;
        double weight = TotalWeight + other.TotalWeight;
        return new LossResult(sum / weight, sum, weight, Count + other.Count, Reduction.Mean);
    }

    /// <summary>Adds the parts of two disjoint batches; see <see cref="Combine"/>.</summary>
    /// <param name="left">One batch.</param>
    /// <param name="right">The other batch.</param>
    /// <returns>The combined result.</returns>
    public static LossResult operator +(LossResult left, LossResult right) => left.Combine(right);
}
