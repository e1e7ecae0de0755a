using System.Buffers;
using System.Globalization;
using System.Numerics.Tensors;
using Xent.Kernels;

namespace Xent.Losses;

/// <summary>What the mean of a <see cref="ClassificationLoss"/> divides by.</summary>
public enum LossNormalization
{
    /// <summary>Σ w[y] over the positions (PyTorch's weighted mean, as cross-entropy): Σ w[y]·ℓ ÷ Σ w[y].</summary>
    ClassWeights,

    /// <summary>The number of positions (as torchvision's and kornia's focal loss): Σ w[y]·ℓ ÷ N.</summary>
    Positions,
}

/// <summary>Options of <see cref="ClassificationLoss.Compute"/>, with PyTorch's defaults.</summary>
public sealed record ClassificationLossOptions
{
    /// <summary>The defaults.</summary>
    public static ClassificationLossOptions Default { get; } = new();

    /// <summary>Per-class weights w (focal's α), or <see langword="null"/> for 1.</summary>
    public IReadOnlyList<double>? Weight { get; init; }

    /// <summary>A target value that is skipped (no loss, no gradient, no weight). Default: -100.</summary>
    public int IgnoreIndex { get; init; } = -100;

    /// <summary>The reduction. Default: mean.</summary>
    public Reduction Reduction { get; init; } = Reduction.Mean;

    /// <summary>The z-loss coefficient: adds coef·(log Σ exp z)² to every position's loss (0, the default, for none).</summary>
    public double ZLoss { get; init; }
}

/// <summary>
/// A classification loss on logits, as a value: one type per loss, behind this class. A loss states its rule for one
/// position (its value and its gradient with respect to that position's C logits, computed in double); this class
/// does the rest as PyTorch does it for cross-entropy: input (N, C), (N, C, d1, …, dk) or (C), class-index targets,
/// <c>ignore_index</c>, per-class weights, the reductions, the exact parts of the mean (<see cref="LossResult"/>), an
/// optional z-loss term, float and double. The trainer, <c>xent train --loss NAME:key=value</c> and the explain view
/// take any loss through <see cref="LossCatalog"/>.
/// </summary>
public abstract class ClassificationLoss
{
    /// <summary>The name, as the CLI and case files write it (for example <c>focal</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The parameters, by their CLI names, in a fixed order.</summary>
    public abstract IReadOnlyList<KeyValuePair<string, double>> Parameters { get; }

    /// <summary>Whether the loss reads log-probabilities (the model then ends with log_softmax) rather than logits.</summary>
    public virtual bool ExpectsLogProbabilities => false;

    /// <summary>The factor the loss multiplies the model's outputs by before its softmax (LDAM's s); predictions apply it too, so that probabilities are those the loss trained. Default: 1.</summary>
    public virtual double OutputScale => 1;

    /// <summary>What the mean divides by. Default: the targets' class weights.</summary>
    public virtual LossNormalization Normalization => LossNormalization.ClassWeights;

    /// <summary>The loss of one position and its gradient with respect to that position's logits (unweighted).</summary>
    /// <param name="logits">The C logits.</param>
    /// <param name="target">The target class.</param>
    /// <param name="gradient">Receives dℓ/dz, C values.</param>
    /// <returns>ℓ.</returns>
    public abstract double Position(ReadOnlySpan<double> logits, int target, Span<double> gradient);

    /// <summary>The loss of a batch and, optionally, its gradient with respect to the input.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="input">Logits: (N, C), (N, C, d1, …, dk) or (C).</param>
    /// <param name="target">Class indices: (N), (N, d1, …, dk) or (1).</param>
    /// <param name="options">Weights, ignore_index, reduction, z-loss; <see langword="null"/> for the defaults.</param>
    /// <param name="losses">Receives each position's weighted loss (required for <see cref="Reduction.None"/>), or empty.</param>
    /// <param name="gradient">Receives d loss / d input, as long as the input, or empty for the forward pass only.</param>
    /// <param name="gradientScale">Multiplies the gradient (for example 1 ÷ the total weight of a whole batch when accumulating micro-batches).</param>
    /// <returns>The value and its parts.</returns>
    /// <exception cref="ArgumentException">Shapes, weights or destinations do not fit; messages as PyTorch's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is out of range.</exception>
    public virtual LossResult Compute<T>(
        ReadOnlyTensorSpan<T> input,
        ReadOnlyTensorSpan<int> target,
        ClassificationLossOptions? options = null,
        Span<T> losses = default,
        Span<T> gradient = default,
        double gradientScale = 1.0)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        => ComputeGeneric(input, target, options, losses, gradient, gradientScale);

    /// <summary>The generic path of <see cref="Compute"/>: <see cref="Position"/> at every position, in double.</summary>
    internal LossResult ComputeGeneric<T>(
        ReadOnlyTensorSpan<T> input,
        ReadOnlyTensorSpan<int> target,
        ClassificationLossOptions? options,
        Span<T> losses,
        Span<T> gradient,
        double gradientScale)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        TensorArgs.EnsureSupported<T>();
        options ??= ClassificationLossOptions.Default;
        var layout = IndexTargetLayout.Create(input, target, options.Weight?.Count);
        ReadOnlySpan<T> x = TensorArgs.Flat(input, nameof(input));
        ReadOnlySpan<int> y = TensorArgs.Flat(target, nameof(target));
        using var classWeights = new PooledWeights<double>(options.Weight);
        (double totalWeight, long count) = IndexTargetLayout.SumTargetWeights(y, layout.C, options.IgnoreIndex, classWeights.Span);
        CrossEntropy.CheckDestinations(options.Reduction, layout.Positions, x.Length, losses, gradient);
        double denominator = Normalization == LossNormalization.Positions ? count : totalWeight;
        double kappa = options.Reduction == Reduction.Mean ? gradientScale / denominator : gradientScale;
        int c = layout.C, s = layout.S;
        if (BlockedLoss.Applies(this, layout, options))
        {
            return BlockedLoss.Run(this, x, y, layout, options, classWeights.Span, losses, gradient, kappa, denominator, count);
        }

        double[] rented = ArrayPool<double>.Shared.Rent(2 * c);
        try
        {
            Span<double> z = rented.AsSpan(0, c), dz = rented.AsSpan(c, c);
            double sum = 0;
            for (int n = 0; n < layout.N; n++)
            {
                for (int p = 0; p < s; p++)
                {
                    int position = (n * s) + p, start = n * c * s + p;
                    int yi = y[position];
                    if (yi == options.IgnoreIndex)
                    {
                        if (!losses.IsEmpty)
                        {
                            losses[position] = T.Zero;
                        }

                        if (!gradient.IsEmpty)
                        {
                            for (int k = 0; k < c; k++)
                            {
                                gradient[start + (k * s)] = T.Zero;
                            }
                        }

                        continue;
                    }

                    for (int k = 0; k < c; k++)
                    {
                        z[k] = double.CreateTruncating(x[start + (k * s)]);
                    }

                    double loss = Position(z, yi, dz);
                    if (options.ZLoss != 0)
                    {
                        loss += AddZLoss(z, dz, options.ZLoss);
                    }

                    double weight = classWeights.Span.IsEmpty ? 1.0 : classWeights.Span[yi];
                    sum += weight * loss;
                    if (!losses.IsEmpty)
                    {
                        losses[position] = T.CreateTruncating(weight * loss);
                    }

                    if (!gradient.IsEmpty)
                    {
                        for (int k = 0; k < c; k++)
                        {
                            gradient[start + (k * s)] = T.CreateTruncating(kappa * weight * dz[k]);
                        }
                    }
                }
            }

            return CrossEntropy.Result(options.Reduction, sum, denominator, count, layout.Positions);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(rented);
        }
    }

    /// <summary>Whether <see cref="SoftmaxForm(ReadOnlySpan{double}, Span{double}, Span{double})"/> describes this loss (then it runs on <see cref="BlockedLoss"/>'s fused path).</summary>
    protected internal virtual bool HasSoftmaxForm => false;

    /// <summary>
    /// For losses of the softmax family, whose value depends on the target's log-probability only and whose gradient
    /// is g·(softmax(z) − e_y): ℓ and g from log p_y, for a tile of positions at once (vectorise it). Losses that
    /// override it (with <see cref="HasSoftmaxForm"/>) run on the fused cross-entropy kernel: it gives log p_y and
    /// softmax − e_y, and the gradient is scaled by g while it is in cache.
    /// </summary>
    /// <param name="logPy">log p_y of each position.</param>
    /// <param name="loss">Receives ℓ of each position.</param>
    /// <param name="scale">Receives g of each position.</param>
    protected internal virtual void SoftmaxForm(ReadOnlySpan<double> logPy, Span<double> loss, Span<double> scale) => throw new NotSupportedException($"{Name} has no softmax form.");

    /// <summary>
    /// <see cref="SoftmaxForm(ReadOnlySpan{double}, Span{double}, Span{double})"/> for one position, called once per row
    /// by the kernel's row path (long rows). Override it with a scalar formula; the default calls the tile form.
    /// </summary>
    /// <param name="logPy">log p_y.</param>
    /// <param name="loss">ℓ.</param>
    /// <param name="scale">g.</param>
    protected internal virtual void SoftmaxForm(double logPy, out double loss, out double scale)
    {
        Span<double> values = stackalloc double[3];
        values[0] = logPy;
        SoftmaxForm(values[..1], values.Slice(1, 1), values.Slice(2, 1));
        (loss, scale) = (values[1], values[2]);
    }

    /// <summary>This loss's <see cref="SoftmaxForm(double, out double, out double)"/> as the kernel's row hook.</summary>
    internal IRowHook RowHook => _rowHook ??= new SoftmaxFormHook(this);

    private IRowHook? _rowHook;

    private sealed class SoftmaxFormHook(ClassificationLoss loss) : IRowHook
    {
        public double Apply(double logPy, out double scale)
        {
            loss.SoftmaxForm(logPy, out double value, out scale);
            return value;
        }
    }

    /// <summary>
    /// A per-class offset the loss adds to the logits before cross-entropy (logit adjustment's τ·log π, balanced
    /// softmax's log n_c), or empty. Losses with one run on the fused cross-entropy kernel, block by block.
    /// </summary>
    protected internal virtual ReadOnlySpan<double> LogitOffset => default;

    /// <summary>
    /// A per-class margin Δ the loss subtracts from the target's logit before scaling by <see cref="OutputScale"/>
    /// and cross-entropy: CE(s·(z − Δ_y·e_y), y) (LDAM's margins), or empty. Such losses, and those with a scale,
    /// run on the fused kernel in double, block by block.
    /// </summary>
    protected internal virtual ReadOnlySpan<double> TargetMargin => default;

    /// <summary>The name with its parameters, as the CLI reads it: <c>focal:gamma=2</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Parameters.Count == 0 ? Name
        : Name + ":" + string.Join(",", Parameters.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value:R}")));

    /// <summary>log Σ exp z (stable).</summary>
    /// <param name="z">The logits.</param>
    /// <returns>The log-sum-exp.</returns>
    protected static double LogSumExp(ReadOnlySpan<double> z)
    {
        double max = double.NegativeInfinity;
        foreach (double v in z)
        {
            max = Math.Max(max, v);
        }

        if (double.IsNegativeInfinity(max) || double.IsNaN(max))
        {
            return max;
        }

        double sum = 0;
        foreach (double v in z)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum);
    }

    /// <summary>Writes softmax(z) and returns log Σ exp z.</summary>
    /// <param name="z">The logits.</param>
    /// <param name="p">Receives the probabilities.</param>
    /// <returns>The log-sum-exp.</returns>
    protected static double Softmax(ReadOnlySpan<double> z, Span<double> p)
    {
        double lse = LogSumExp(z);
        for (int k = 0; k < z.Length; k++)
        {
            p[k] = Math.Exp(z[k] - lse);
        }

        return lse;
    }

    /// <summary>Cross-entropy of (already shifted) logits: writes softmax − one-hot into <paramref name="gradient"/> and returns −log p_y.</summary>
    /// <param name="z">The logits.</param>
    /// <param name="y">The target.</param>
    /// <param name="gradient">Receives dℓ/dz.</param>
    /// <returns>ℓ.</returns>
    protected static double CrossEntropyOf(ReadOnlySpan<double> z, int y, Span<double> gradient)
    {
        double lse = Softmax(z, gradient);
        gradient[y] -= 1;
        return lse - z[y];
    }

    /// <summary>Adds coef·lse² to the loss and its gradient 2·coef·lse·softmax(z).</summary>
    private static double AddZLoss(ReadOnlySpan<double> z, Span<double> dz, double coef)
    {
        double lse = LogSumExp(z);
        for (int k = 0; k < z.Length; k++)
        {
            dz[k] += 2 * coef * lse * Math.Exp(z[k] - lse);
        }

        return coef * lse * lse;
    }
}
