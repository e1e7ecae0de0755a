using System.Numerics.Tensors;

namespace Xent.Losses;

/// <summary>Cross-entropy (PyTorch's <c>F.cross_entropy</c>), optionally with label smoothing ε: the fused kernel of <see cref="CrossEntropy"/>.</summary>
/// <param name="labelSmoothing">ε in [0, 1]. Default: 0.</param>
[LossName("cross-entropy", "−log softmax(z)[y]; with label smoothing ε, (1 − ε)·CE + ε·mean over classes of −log p")]
public sealed class CrossEntropyLoss(double labelSmoothing = 0) : ClassificationLoss
{
    /// <summary>ε.</summary>
    public double LabelSmoothing { get; } = labelSmoothing >= 0 && labelSmoothing <= 1 ? labelSmoothing : throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label-smoothing must be in [0, 1].");

    /// <inheritdoc />
    public override string Name => "cross-entropy";

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, double>> Parameters => LabelSmoothing == 0 ? [] : [KeyValuePair.Create("label-smoothing", LabelSmoothing)];

    /// <inheritdoc />
    public override double Position(ReadOnlySpan<double> logits, int target, Span<double> gradient)
    {
        int c = logits.Length;
        double lse = Softmax(logits, gradient), mean = 0;
        foreach (double z in logits)
        {
            mean += lse - z;
        }

        for (int k = 0; k < c; k++)
        {
            gradient[k] -= LabelSmoothing / c;
        }

        gradient[target] -= 1 - LabelSmoothing;
        return ((1 - LabelSmoothing) * (lse - logits[target])) + (LabelSmoothing * mean / c);
    }

    /// <inheritdoc />
    public override LossResult Compute<T>(ReadOnlyTensorSpan<T> input, ReadOnlyTensorSpan<int> target, ClassificationLossOptions? options = null, Span<T> losses = default, Span<T> gradient = default, double gradientScale = 1.0)
    {
        options ??= ClassificationLossOptions.Default;
        if (options.ZLoss != 0)
        {
            return base.Compute(input, target, options, losses, gradient, gradientScale);
        }

        return CrossEntropy.Compute(input, target, _options.For(options, LabelSmoothing, static (o, smoothing) => new CrossEntropyOptions { Weight = o.Weight, IgnoreIndex = o.IgnoreIndex, Reduction = o.Reduction, LabelSmoothing = smoothing }), losses, gradient, gradientScale);
    }

    private readonly OptionsCache<CrossEntropyOptions> _options = new();
}
