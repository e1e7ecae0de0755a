using Xent.Kernels;

namespace Xent.Data;

/// <summary>
/// Turns a balanced dataset into a long-tailed one for an imbalance ratio r, as in the long-tailed CIFAR
/// benchmarks (Cui et al., CVPR 2019): class c (0-based, in label order) keeps n_c = ⌊n_max · r^(−c/(C−1))⌋ rows,
/// at least 1, drawn with a seeded generator.
/// </summary>
public static class LongTail
{
    /// <summary>The rows to keep.</summary>
    /// <param name="labels">Each row's class.</param>
    /// <param name="classes">C, at least 2.</param>
    /// <param name="ratio">r = n_max / n_min, at least 1.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>Kept row indices, ascending.</returns>
    public static int[] Subsample(IReadOnlyList<int> labels, int classes, double ratio, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        if (!(ratio >= 1) || double.IsInfinity(ratio))
        {
            throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The imbalance ratio must be a finite number ≥ 1.");
        }

        var byClass = new List<int>[classes];
        for (int k = 0; k < classes; k++)
        {
            byClass[k] = [];
        }

        for (int i = 0; i < labels.Count; i++)
        {
            byClass[labels[i]].Add(i);
        }

        int nMax = byClass.Max(c => c.Count);
        var random = XentRandom.ForStream(seed, 0x7A11);
        var kept = new List<int>();
        for (int c = 0; c < classes; c++)
        {
            int target = Math.Max(1, (int)Math.Floor(nMax * Math.Pow(ratio, -(double)c / (classes - 1))));
            int[] rows = [.. byClass[c]];
            random.Shuffle<int>(rows);
            kept.AddRange(rows.Take(Math.Min(target, rows.Length)));
        }

        kept.Sort();
        return [.. kept];
    }
}
