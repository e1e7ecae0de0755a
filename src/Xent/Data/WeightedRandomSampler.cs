using Xent.Kernels;

namespace Xent.Data;

/// <summary>
/// Draws rows with replacement, each with probability proportional to its weight (as PyTorch's
/// WeightedRandomSampler with replacement). With per-row weights 1/n_class it balances the classes.
/// </summary>
public sealed class WeightedRandomSampler
{
    private readonly double[] _cumulative;

    /// <summary>Creates the sampler.</summary>
    /// <param name="weights">One non-negative weight per row, not all zero.</param>
    /// <exception cref="ArgumentException">A weight is negative or not finite, or all are zero.</exception>
    public WeightedRandomSampler(IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        _cumulative = new double[weights.Count];
        double total = 0;
        for (int i = 0; i < weights.Count; i++)
        {
            if (!(weights[i] >= 0) || double.IsInfinity(weights[i]))
            {
                throw new ArgumentException($"Weight {i} is {weights[i]}; weights must be finite and ≥ 0.", nameof(weights));
            }

            total += weights[i];
            _cumulative[i] = total;
        }

        if (!(total > 0))
        {
            throw new ArgumentException("At least one weight must be positive.", nameof(weights));
        }
    }

    /// <summary>Per-row weights that balance the classes: 1 / (rows of the row's class).</summary>
    /// <param name="labels">The labels.</param>
    /// <param name="classes">The number of classes.</param>
    /// <returns>The weights.</returns>
    public static double[] BalancingWeights(IReadOnlyList<int> labels, int classes)
    {
        var counts = new int[classes];
        foreach (int y in labels)
        {
            counts[y]++;
        }

        return [.. labels.Select(y => 1.0 / counts[y])];
    }

    /// <summary>Draws row indices.</summary>
    /// <param name="count">How many.</param>
    /// <param name="random">The generator.</param>
    /// <returns>The indices.</returns>
    public int[] Sample(int count, XentRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        double total = _cumulative[^1];
        var result = new int[count];
        for (int i = 0; i < count; i++)
        {
            double u = random.NextDouble() * total;
            int index = Array.BinarySearch(_cumulative, u);
            index = index < 0 ? ~index : index + 1;
            result[i] = Math.Min(index, _cumulative.Length - 1);
        }

        return result;
    }
}
