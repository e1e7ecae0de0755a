using System.Numerics.Tensors;

namespace Xent.Losses;

/// <summary>The negative log-likelihood of log-probabilities (PyTorch's <c>F.nll_loss</c>): the model ends with log_softmax.</summary>
[LossName("nll", "−input[y] on log-probabilities; the model ends with log_softmax")]
public sealed class NllLoss : ClassificationLoss
{
    /// <inheritdoc />
    public override string Name => "nll";

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, double>> Parameters => [];

    /// <inheritdoc />
    public override bool ExpectsLogProbabilities => true;

    /// <inheritdoc />
    public override double Position(ReadOnlySpan<double> logits, int target, Span<double> gradient)
    {
        gradient.Clear();
        gradient[target] = -1;
        return -logits[target];
    }

    /// <inheritdoc />
    public override LossResult Compute<T>(ReadOnlyTensorSpan<T> input, ReadOnlyTensorSpan<int> target, ClassificationLossOptions? options = null, Span<T> losses = default, Span<T> gradient = default, double gradientScale = 1.0)
    {
        options ??= ClassificationLossOptions.Default;
        return options.ZLoss != 0
            ? base.Compute(input, target, options, losses, gradient, gradientScale)
            : Nll.Compute(input, target, _options.For(options, 0, static (o, _) => new NllOptions { Weight = o.Weight, IgnoreIndex = o.IgnoreIndex, Reduction = o.Reduction }), losses, gradient, gradientScale);
    }

    private readonly OptionsCache<NllOptions> _options = new();
}
