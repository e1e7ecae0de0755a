using System.Numerics.Tensors;

namespace Xent.Losses;

/// <summary>
/// LDAM (Cao et al., NeurIPS 2019): ℓ = CE(s·(z − Δ_y·e_y), y), with margins Δ_c ∝ n_c^(−1/4) scaled so that the
/// largest is <paramref name="maxMargin"/>, and scale s. As in the authors' code, the margin is subtracted from the
/// target logit only, then everything is scaled. Pair it with deferred re-weighting (<c>--drw-epoch</c>): LDAM-DRW.
/// </summary>
/// <param name="classCounts">Training rows per class.</param>
/// <param name="maxMargin">The largest margin. Default: 0.5.</param>
/// <param name="scale">s. Default: 30.</param>
[LossName("ldam", "CE(s·(z − Δ_y·e_y), y), Δ_c ∝ n_c^(−1/4) with max Δ = max-margin, s = scale")]
public sealed class LdamLoss(IReadOnlyList<int> classCounts, double maxMargin = 0.5, double scale = 30) : ClassificationLoss
{
    private readonly double[] _margin = Margins(classCounts, maxMargin);

    /// <summary>The largest margin.</summary>
    public double MaxMargin { get; } = maxMargin;

    /// <summary>s.</summary>
    public double Scale { get; } = scale > 0 && double.IsFinite(scale) ? scale : throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be a finite number > 0.");

    /// <summary>Δ_c for each class.</summary>
    public IReadOnlyList<double> Margin => _margin;

    /// <inheritdoc />
    public override string Name => "ldam";

    /// <inheritdoc />
    public override double OutputScale => Scale;

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, double>> Parameters => [KeyValuePair.Create("max-margin", MaxMargin), KeyValuePair.Create("scale", Scale)];

    /// <inheritdoc />
    public override double Position(ReadOnlySpan<double> logits, int target, Span<double> gradient)
    {
        if (_margin.Length != logits.Length)
        {
            throw new ArgumentException($"The loss was made for {_margin.Length} classes; the input has {logits.Length}.", nameof(logits));
        }

        double[]? pooled = logits.Length <= 256 ? null : System.Buffers.ArrayPool<double>.Shared.Rent(logits.Length);
        Span<double> z = pooled is null ? stackalloc double[logits.Length] : pooled.AsSpan(0, logits.Length);
        for (int k = 0; k < logits.Length; k++)
        {
            z[k] = Scale * (logits[k] - (k == target ? _margin[k] : 0));
        }

        double loss = CrossEntropyOf(z, target, gradient);
        for (int k = 0; k < logits.Length; k++)
        {
            gradient[k] *= Scale;
        }

        if (pooled is not null)
        {
            System.Buffers.ArrayPool<double>.Shared.Return(pooled);
        }

        return loss;
    }

    /// <summary>
    /// Through the cross-entropy kernel in double: s·z − s·Δ_y at each target goes into a pooled double buffer (double,
    /// so that scaling by s keeps the precision of the result), and the kernel's gradient with respect to it, times s,
    /// is the gradient. With a z-loss term, or a class count other than the loss's, the generic path.
    /// </summary>
    /// <inheritdoc />
    protected internal override ReadOnlySpan<double> TargetMargin => _margin;

    private static double[] Margins(IReadOnlyList<int> counts, double maxMargin)
    {
        ClassCounts.Check(counts);
        if (!(maxMargin >= 0) || !double.IsFinite(maxMargin))
        {
            throw new ArgumentOutOfRangeException(nameof(maxMargin), maxMargin, "max-margin must be a finite number ≥ 0.");
        }

        double[] m = [.. counts.Select(c => 1.0 / Math.Sqrt(Math.Sqrt(c)))];
        double largest = m.Max();
        return [.. m.Select(v => v * maxMargin / largest)];
    }
}
