using System.Numerics.Tensors;

namespace Xent.Losses;

/// <summary>Options of <see cref="BinaryCrossEntropyWithLogits"/>, with PyTorch's defaults.</summary>
public sealed record BinaryCrossEntropyOptions
{
    /// <summary>The defaults: no weights, mean reduction.</summary>
    public static BinaryCrossEntropyOptions Default { get; } = new();

    /// <summary>
    /// A rescaling weight broadcast to the input's shape (PyTorch's rules, trailing dimensions aligned), or
    /// <see langword="null"/> (the default). It may not broadcast to a larger shape than the input's.
    /// </summary>
    public Tensor<double>? Weight { get; init; }

    /// <summary>
    /// The weight of positive examples, broadcast against the target from the trailing dimension: shape (C) for
    /// (N, C) input, (C, 1, 1) for (N, C, H, W). <see langword="null"/> (the default) means 1.
    /// </summary>
    public Tensor<double>? PosWeight { get; init; }

    /// <summary>How the elementwise losses are reduced. Default: <see cref="Reduction.Mean"/> (÷ the number of elements, not a weighted mean).</summary>
    public Reduction Reduction { get; init; } = Reduction.Mean;
}
