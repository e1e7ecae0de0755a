using Xent.Diagnostics;

namespace Xent.Losses;

/// <summary>Options of <see cref="Nll"/>, with PyTorch's defaults.</summary>
public sealed record NllOptions
{
    /// <summary>The defaults: no weights, ignore index -100, mean reduction.</summary>
    public static NllOptions Default { get; } = new();

    /// <summary>One weight per class, or <see langword="null"/> (the default) for none.</summary>
    public IReadOnlyList<double>? Weight { get; init; }

    /// <summary>A target value that is skipped. Default: -100.</summary>
    public int IgnoreIndex { get; init; } = -100;

    /// <summary>How the per-position losses are reduced. Default: <see cref="Reduction.Mean"/>.</summary>
    public Reduction Reduction { get; init; } = Reduction.Mean;

    /// <summary>Where input diagnostics go, or <see langword="null"/> (the default) to skip them.</summary>
    public IDiagnosticSink? Diagnostics { get; init; }
}
