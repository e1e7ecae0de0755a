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
    public override double Position(ReadOnlySpan<double> logits, int target, Span<double> gradient)
        => ShiftedCrossEntropy(logits, _offset, target, gradient);

    /// <inheritdoc />
    public override LossResult Compute<T>(ReadOnlyTensorSpan<T> input, ReadOnlyTensorSpan<int> target, ClassificationLossOptions? options = null, Span<T> losses = default, Span<T> gradient = default, double gradientScale = 1.0)
        => ShiftedCompute(this, _offset, _cache, input, target, options, losses, gradient, gradientScale);

    private readonly OptionsCache<CrossEntropyOptions> _cache = new();

    /// <summary>
    /// CE of z + offset on the fused cross-entropy kernel: the shifted logits go into a pooled buffer (the gradient with
    /// respect to z equals that with respect to the shifted logits). With a z-loss term, the generic path.
    /// </summary>
    internal static LossResult ShiftedCompute<T>(ClassificationLoss loss, double[] offset, OptionsCache<CrossEntropyOptions> cache, ReadOnlyTensorSpan<T> input, ReadOnlyTensorSpan<int> target, ClassificationLossOptions? options, Span<T> losses, Span<T> gradient, double gradientScale)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        options ??= ClassificationLossOptions.Default;
        ReadOnlySpan<nint> lengths = input.Lengths;
        int c = lengths.Length == 1 ? (int)lengths[0] : lengths.Length == 0 ? 0 : (int)lengths[1];
        if (options.ZLoss != 0 || c != offset.Length)
        {
            // The generic path, which also reports a class-count mismatch with PyTorch's shape checks first.
            return loss.ComputeGeneric(input, target, options, losses, gradient, gradientScale);
        }

        ReadOnlySpan<T> x = TensorArgs.Flat(input, nameof(input));
        int s = lengths.Length <= 2 ? 1 : x.Length / Math.Max(1, (int)lengths[0] * c);
        T[] buffer = System.Buffers.ArrayPool<T>.Shared.Rent(x.Length);
        T[] offsets = System.Buffers.ArrayPool<T>.Shared.Rent(c);
        try
        {
            Span<T> shifted = buffer.AsSpan(0, x.Length);
            Span<T> o = offsets.AsSpan(0, c);
            for (int k = 0; k < c; k++)
            {
                o[k] = T.CreateTruncating(offset[k]);
            }

            int block = c * s;
            for (int start = 0; start < x.Length; start += block)
            {
                if (s == 1)
                {
                    TensorPrimitives.Add(x.Slice(start, c), o, shifted.Slice(start, c));
                    continue;
                }

                for (int k = 0; k < c; k++)
                {
                    TensorPrimitives.Add(x.Slice(start + (k * s), s), o[k], shifted.Slice(start + (k * s), s));
                }
            }

            CrossEntropyOptions ce = cache.For(options, 0, static (o, _) => new CrossEntropyOptions { Weight = o.Weight, IgnoreIndex = o.IgnoreIndex, Reduction = o.Reduction });
            return CrossEntropy.Compute(new ReadOnlyTensorSpan<T>(shifted, lengths, default), target, ce, losses, gradient, gradientScale);
        }
        finally
        {
            System.Buffers.ArrayPool<T>.Shared.Return(buffer);
            System.Buffers.ArrayPool<T>.Shared.Return(offsets);
        }
    }

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
