using Xent.Diagnostics;

namespace Xent.Losses;

/// <summary>Options of <see cref="CrossEntropy"/>, with PyTorch's defaults.</summary>
public sealed record CrossEntropyOptions
{
    /// <summary>The defaults: no weights, ignore index -100, mean reduction, no smoothing, no diagnostics.</summary>
    public static CrossEntropyOptions Default { get; } = new();

    /// <summary>
    /// One weight per class, or <see langword="null"/> (the default) for none. With class-index targets the
    /// mean divides by Σ w[y] over the positions that are not ignored. Weights are converted to the input's
    /// element type.
    /// </summary>
    public IReadOnlyList<double>? Weight { get; init; }

    /// <summary>A class-index target value that is skipped: loss 0, gradient 0, and no part in the mean.
    /// Default: -100. Any value is allowed, also one inside [0, C).</summary>
    public int IgnoreIndex { get; init; } = -100;

    /// <summary>How the per-position losses are reduced. Default: <see cref="Reduction.Mean"/>.</summary>
    public Reduction Reduction { get; init; } = Reduction.Mean;

    /// <summary>
    /// Label smoothing ε in [0, 1]. Default: 0. The target becomes (1 − ε)·onehot + ε/C. A negative value
    /// behaves as 0, as in PyTorch.
    /// </summary>
    public double LabelSmoothing { get; init; }

    /// <summary>
    /// Where input diagnostics go (for example, logits that look like probabilities), or
    /// <see langword="null"/> (the default) to skip the checks entirely.
    /// </summary>
    public IDiagnosticSink? Diagnostics { get; init; }
}
