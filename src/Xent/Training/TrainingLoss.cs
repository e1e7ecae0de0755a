using System.Numerics.Tensors;
using Xent.Diagnostics;
using Xent.Losses;

namespace Xent.Training;

/// <summary>The losses the trainer can optimise.</summary>
public enum LossKind
{
    /// <summary><see cref="CrossEntropy"/> on the model's logits.</summary>
    CrossEntropy,

    /// <summary><see cref="SoftCrossEntropy"/>: CE + mean over classes of −log p (= 2 × CE with label smoothing 0.5).</summary>
    SoftCrossEntropy,

    /// <summary><see cref="Nll"/>: the model ends with log_softmax.</summary>
    Nll,
}

/// <summary>Parses and names <see cref="LossKind"/> as the CLI writes it.</summary>
public static class LossKindNames
{
    /// <summary>Parses <c>cross-entropy</c>, <c>soft-cross-entropy</c> or <c>nll</c>.</summary>
    /// <param name="text">The name.</param>
    /// <returns>The kind.</returns>
    /// <exception cref="FormatException">Not one of these.</exception>
    public static LossKind Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "cross-entropy" or "cross_entropy" or "ce" => LossKind.CrossEntropy,
        "soft-cross-entropy" or "soft_cross_entropy" => LossKind.SoftCrossEntropy,
        "nll" => LossKind.Nll,
        _ => throw new FormatException($"Unknown loss '{text}'; expected cross-entropy, soft-cross-entropy or nll."),
    };

    /// <summary>The CLI name.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The name.</returns>
    public static string Name(this LossKind kind) => kind switch
    {
        LossKind.SoftCrossEntropy => "soft-cross-entropy",
        LossKind.Nll => "nll",
        _ => "cross-entropy",
    };
}

/// <summary>
/// A batch's training loss and d loss / d output for the trainer (no allocation per call): any
/// <see cref="ClassificationLoss"/>, with class weights, an optional z-loss term, and optional deferred re-weighting
/// (DRW: from a given epoch on, the class weights switch to class-balanced ones).
/// </summary>
public sealed class TrainingLoss
{
    private ClassificationLossOptions _options;
    private readonly ClassificationLossOptions _initial;
    private readonly ClassificationLossOptions? _deferred;
    private readonly IDiagnosticSink? _diagnostics;
    private bool _checked;
    private ClassificationLossOptions? _sumOf;
    private ClassificationLossOptions? _sumOptions;
    private ClassificationLossOptions? _weightsOf;
    private double[] _doubleWeights = [];
    private float[] _floatWeights = [];

    /// <summary>Creates one of the classic losses (the fused cross-entropy, soft cross-entropy or NLL kernels).</summary>
    /// <param name="kind">The loss.</param>
    /// <param name="weight">Class weights, or null.</param>
    /// <param name="labelSmoothing">Label smoothing (cross-entropy only).</param>
    /// <param name="diagnostics">Where input warnings go, or null.</param>
    public TrainingLoss(LossKind kind, IReadOnlyList<double>? weight = null, double labelSmoothing = 0, IDiagnosticSink? diagnostics = null)
        : this(kind switch
        {
            LossKind.Nll when labelSmoothing == 0 => new NllLoss(),
            LossKind.SoftCrossEntropy when labelSmoothing == 0 => new SoftCrossEntropyLoss(),
            LossKind.CrossEntropy => new CrossEntropyLoss(labelSmoothing),
            _ => throw new ArgumentException($"Label smoothing applies to cross-entropy only, not {kind.Name()}.", nameof(labelSmoothing)),
        }, weight, diagnostics: diagnostics)
    {
    }

    /// <summary>Creates the training loss from any loss.</summary>
    /// <param name="loss">The loss.</param>
    /// <param name="weight">Class weights (focal's α), or null.</param>
    /// <param name="zLoss">The z-loss coefficient (0 for none).</param>
    /// <param name="deferredWeight">DRW: the class weights used from <paramref name="deferredFromEpoch"/> on, or null.</param>
    /// <param name="deferredFromEpoch">DRW: the epoch (from 0) from which <paramref name="deferredWeight"/> apply.</param>
    /// <param name="diagnostics">Where input warnings go, or null.</param>
    public TrainingLoss(ClassificationLoss loss, IReadOnlyList<double>? weight = null, double zLoss = 0, IReadOnlyList<double>? deferredWeight = null, int deferredFromEpoch = 0, IDiagnosticSink? diagnostics = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (!double.IsFinite(zLoss) || zLoss < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(zLoss), zLoss, "The z-loss coefficient must be a finite number ≥ 0.");
        }

        Loss = loss;
        Weight = weight;
        ZLoss = zLoss;
        DeferredWeight = deferredWeight;
        DeferredFromEpoch = deferredFromEpoch;
        _diagnostics = diagnostics;
        _options = _initial = new ClassificationLossOptions { Weight = weight, ZLoss = zLoss };
        _deferred = deferredWeight is null ? null : new ClassificationLossOptions { Weight = deferredWeight, ZLoss = zLoss };
    }

    /// <summary>The loss.</summary>
    public ClassificationLoss Loss { get; }

    /// <summary>The classic kind, when the loss is one (for older callers).</summary>
    public LossKind Kind => Loss switch
    {
        NllLoss => LossKind.Nll,
        SoftCrossEntropyLoss => LossKind.SoftCrossEntropy,
        _ => LossKind.CrossEntropy,
    };

    /// <summary>Class weights before DRW, or null.</summary>
    public IReadOnlyList<double>? Weight { get; }

    /// <summary>Label smoothing (of cross-entropy; 0 for other losses).</summary>
    public double LabelSmoothing => Loss is CrossEntropyLoss ce ? ce.LabelSmoothing : 0;

    /// <summary>The z-loss coefficient.</summary>
    public double ZLoss { get; }

    /// <summary>DRW's class weights, or null.</summary>
    public IReadOnlyList<double>? DeferredWeight { get; }

    /// <summary>DRW's first epoch.</summary>
    public int DeferredFromEpoch { get; }

    /// <summary>Called by the trainer at the start of every epoch (also after a resume): switches to DRW's weights from their epoch on.</summary>
    /// <param name="epoch">The epoch, from 0.</param>
    public void BeginEpoch(int epoch)
    {
        if (_deferred is not null)
        {
            _options = epoch >= DeferredFromEpoch ? _deferred : _initial;
        }
    }

    /// <summary>The mean loss of a batch and its gradient with respect to the model's output.</summary>
    /// <param name="output">(batch, classes) logits, or log-probabilities for a loss that expects them.</param>
    /// <param name="targets">The batch's labels.</param>
    /// <param name="classes">C.</param>
    /// <param name="gradient">Receives d loss / d output; empty for forward only.</param>
    /// <returns>The result.</returns>
    public LossResult Compute(ReadOnlySpan<float> output, ReadOnlySpan<int> targets, int classes, Span<float> gradient)
        => Compute(output, targets, classes, gradient, sum: false, 1.0);

    /// <summary>
    /// A shard's part of a larger batch: the loss with <see cref="Reduction.Sum"/> (its exact parts) and the gradient
    /// scaled by <paramref name="gradientScale"/> (1 ÷ the whole batch's <see cref="Denominator"/>), so that the shards'
    /// gradients add up to the gradient of the whole batch's mean.
    /// </summary>
    internal LossResult ComputePart(ReadOnlySpan<float> output, ReadOnlySpan<int> targets, int classes, Span<float> gradient, double gradientScale)
        => Compute(output, targets, classes, gradient, sum: true, gradientScale);

    /// <summary>
    /// What the mean loss of a batch with these targets divides by: Σ w[y] (the count without class weights), or the
    /// count for a loss normalised by positions, added as the loss kernel adds it, so that one shard holding the whole
    /// batch divides by the bits the unsharded loss divides by.
    /// </summary>
    internal double Denominator(ReadOnlySpan<int> targets, int classes)
    {
        if (Loss.Normalization == LossNormalization.Positions || _options.Weight is null)
        {
            return targets.Length;
        }

        if (!ReferenceEquals(_weightsOf, _options))
        {
            _weightsOf = _options;
            _doubleWeights = [.. _options.Weight];
            _floatWeights = [.. _options.Weight.Select(w => (float)w)];
        }

        // As the loss kernels add them: the fused cross-entropy, soft cross-entropy and NLL kernels hold the weights as
        // floats, the generic path (every other loss, and any loss with a z-loss) as doubles.
        bool fused = _options.ZLoss == 0 && Loss is CrossEntropyLoss or SoftCrossEntropyLoss or NllLoss;
        return fused
            ? IndexTargetLayout.SumTargetWeights<float>(targets, classes, _options.IgnoreIndex, _floatWeights).TotalWeight
            : IndexTargetLayout.SumTargetWeights<double>(targets, classes, _options.IgnoreIndex, _doubleWeights).TotalWeight;
    }

    private LossResult Compute(ReadOnlySpan<float> output, ReadOnlySpan<int> targets, int classes, Span<float> gradient, bool sum, double gradientScale)
    {
        int batch = targets.Length;
        var x = new ReadOnlyTensorSpan<float>(output, [batch, classes]);
        var y = new ReadOnlyTensorSpan<int>(targets, [batch]);
        if (!_checked && _diagnostics is not null)
        {
            // The input checks (for example "these logits look like probabilities") once, on the first batch.
            _checked = true;
            if (Loss is CrossEntropyLoss or SoftCrossEntropyLoss)
            {
                CrossEntropy.Compute(x, y, new CrossEntropyOptions { Weight = _options.Weight, Diagnostics = _diagnostics });
            }
            else if (Loss is NllLoss)
            {
                Nll.Compute(x, y, new NllOptions { Weight = _options.Weight, Diagnostics = _diagnostics });
            }
        }

        if (sum)
        {
            if (!ReferenceEquals(_sumOf, _options))
            {
                (_sumOf, _sumOptions) = (_options, _options with { Reduction = Reduction.Sum });
            }

            return Loss.Compute(x, y, _sumOptions, gradient: gradient, gradientScale: gradientScale);
        }

        return Loss.Compute(x, y, _options, gradient: gradient);
    }
}
