using Xent.Losses;

namespace Xent.Cli.LossCases;

/// <summary>The losses a case file can name.</summary>
internal enum CaseLoss
{
    CrossEntropy,
    Nll,
    BinaryCrossEntropyWithLogits,
    SoftCrossEntropy,

    /// <summary>A loss of <see cref="LossCatalog"/> (focal, logit_adjusted, …), named by <see cref="LossCase.LossSpec"/>.</summary>
    Catalog,
}

/// <summary>The element type a case is evaluated in.</summary>
internal enum CaseDType
{
    Float32,
    Float64,
}

/// <summary>One loss evaluation read from a case file (the golden format).</summary>
internal sealed record LossCase
{
    public required string Where { get; init; }

    public string? Name { get; init; }

    public CaseLoss Loss { get; init; } = CaseLoss.CrossEntropy;

    public CaseDType DType { get; init; } = CaseDType.Float32;

    public required NestedArray Input { get; init; }

    public required NestedArray Target { get; init; }

    /// <summary>Whether the target holds class indices (otherwise probabilities or BCE targets).</summary>
    public bool TargetIsIndex { get; init; }

    public NestedArray? Weight { get; init; }

    public NestedArray? PosWeight { get; init; }

    public int IgnoreIndex { get; init; } = -100;

    public Reduction Reduction { get; init; } = Reduction.Mean;

    public double LabelSmoothing { get; init; }

    /// <summary>For <see cref="CaseLoss.Catalog"/>: the loss as <c>NAME:key=value,…</c>.</summary>
    public string? LossSpec { get; init; }

    /// <summary>The training class counts, for losses built from the class prior.</summary>
    public IReadOnlyList<int>? ClassCounts { get; init; }

    /// <summary>The z-loss coefficient.</summary>
    public double ZLoss { get; init; }
}
