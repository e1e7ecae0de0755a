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
    public override LossResult Compute<T>(ReadOnlyTensorSpan<T> input, ReadOnlyTensorSpan<int> target, ClassificationLossOptions? options = null, Span<T> losses = default, Span<T> gradient = default, double gradientScale = 1.0)
    {
        options ??= ClassificationLossOptions.Default;
        ReadOnlySpan<nint> lengths = input.Lengths;
        int c = lengths.Length == 1 ? (int)lengths[0] : lengths.Length == 0 ? 0 : (int)lengths[1];
        ReadOnlySpan<T> x = input.IsEmpty ? default : TensorArgs.Flat(input, nameof(input));
        ReadOnlySpan<int> y = target.IsEmpty ? default : TensorArgs.Flat(target, nameof(target));
        int n = lengths.Length == 1 ? 1 : lengths.Length == 0 ? 0 : (int)lengths[0];
        int s = n * c == 0 ? 1 : x.Length / (n * c);
        if (options.ZLoss != 0 || c != _margin.Length || y.Length != n * s || x.Length == 0)
        {
            return ComputeGeneric(input, target, options, losses, gradient, gradientScale); // also reports shape errors
        }

        double[] buffer = System.Buffers.ArrayPool<double>.Shared.Rent(x.Length);
        double[]? grad = gradient.IsEmpty ? null : System.Buffers.ArrayPool<double>.Shared.Rent(x.Length);
        double[]? perPosition = losses.IsEmpty ? null : System.Buffers.ArrayPool<double>.Shared.Rent(losses.Length);
        try
        {
            Span<double> z = buffer.AsSpan(0, x.Length);
            for (int i = 0; i < x.Length; i++)
            {
                z[i] = Scale * double.CreateTruncating(x[i]);
            }

            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < s; j++)
                {
                    int yi = y[(i * s) + j];
                    if ((uint)yi < (uint)c)
                    {
                        z[(i * c * s) + (yi * s) + j] -= Scale * _margin[yi];
                    }
                }
            }

            CrossEntropyOptions ce = _cache.For(options, 0, static (o, _) => new CrossEntropyOptions { Weight = o.Weight, IgnoreIndex = o.IgnoreIndex, Reduction = o.Reduction });
            Span<double> g = grad is null ? default : grad.AsSpan(0, x.Length);
            Span<double> l = perPosition is null ? default : perPosition.AsSpan(0, losses.Length);
            LossResult result = CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(z, lengths, default), target, ce, l, g, gradientScale * Scale);
            for (int i = 0; i < g.Length; i++)
            {
                gradient[i] = T.CreateTruncating(g[i]);
            }

            for (int i = 0; i < l.Length; i++)
            {
                losses[i] = T.CreateTruncating(l[i]);
            }

            return result;
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(buffer);
            if (grad is not null)
            {
                System.Buffers.ArrayPool<double>.Shared.Return(grad);
            }

            if (perPosition is not null)
            {
                System.Buffers.ArrayPool<double>.Shared.Return(perPosition);
            }
        }
    }

    private readonly OptionsCache<CrossEntropyOptions> _cache = new();

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
