namespace Xent.Losses;

/// <summary>How per-position losses are reduced. The values match PyTorch's enum (none = 0, mean = 1, sum = 2).</summary>
public enum Reduction
{
    /// <summary>No reduction: one loss per position, shaped like the target (the input without its class axis).</summary>
    None = 0,

    /// <summary>
    /// The weighted mean: Σ losses ÷ the loss's total weight. For class-index targets the total weight is
    /// Σ w[y] over the positions that are not ignored (their count when unweighted); for probability targets,
    /// BCE and NLL without weights it is the number of positions. See <see cref="LossResult.TotalWeight"/>.
    /// </summary>
    Mean = 1,

    /// <summary>The sum of the per-position losses.</summary>
    Sum = 2,
}
