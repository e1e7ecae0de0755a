using System.Numerics.Tensors;

namespace Xent.Losses;

/// <summary>The "soft cross-entropy" of <see cref="SoftCrossEntropy"/>: CE + mean over classes of −log p (= 2 × CE with ε = 0.5).</summary>
[LossName("soft-cross-entropy", "CE + mean over classes of −log p (= 2 × cross-entropy with label smoothing 0.5)")]
public sealed class SoftCrossEntropyLoss : ClassificationLoss
{
    /// <inheritdoc />
    public override string Name => "soft-cross-entropy";

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, double>> Parameters => [];

    /// <inheritdoc />
    public override double Position(ReadOnlySpan<double> logits, int target, Span<double> gradient)
    {
        int c = logits.Length;
        double lse = Softmax(logits, gradient), mean = 0;
        for (int k = 0; k < c; k++)
        {
            mean += lse - logits[k];
            gradient[k] = (2 * gradient[k]) - (1.0 / c);
        }

        gradient[target] -= 1;
        return lse - logits[target] + (mean / c);
    }

    /// <inheritdoc />
    public override LossResult Compute<T>(ReadOnlyTensorSpan<T> input, ReadOnlyTensorSpan<int> target, ClassificationLossOptions? options = null, Span<T> losses = default, Span<T> gradient = default, double gradientScale = 1.0)
    {
        options ??= ClassificationLossOptions.Default;
        return options.ZLoss != 0
            ? base.Compute(input, target, options, losses, gradient, gradientScale)
            : SoftCrossEntropy.Compute(input, target, _options.For(options, 0, static (o, _) => new CrossEntropyOptions { Weight = o.Weight, IgnoreIndex = o.IgnoreIndex, Reduction = o.Reduction }), losses, gradient, gradientScale);
    }

    private readonly OptionsCache<CrossEntropyOptions> _options = new();
}
