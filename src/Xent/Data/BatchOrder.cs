using Xent.Kernels;

namespace Xent.Data;

/// <summary>
/// Seeded, shuffled mini-batches. The order of epoch e depends only on (seed, e), so a run resumed mid-training
/// sees exactly the batches an uninterrupted run would.
/// </summary>
public static class BatchOrder
{
    /// <summary>The shuffled row order for an epoch.</summary>
    /// <param name="rows">The rows to draw from (for example the training split).</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="epoch">The epoch, from 0.</param>
    /// <returns>A permutation of <paramref name="rows"/>.</returns>
    public static int[] ForEpoch(IReadOnlyList<int> rows, ulong seed, int epoch)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int[] order = [.. rows];
        XentRandom.ForStream(seed, 0xE90C0000UL + (ulong)epoch).Shuffle<int>(order);
        return order;
    }

    /// <summary>How many batches an epoch of <paramref name="rows"/> rows has (the last may be smaller).</summary>
    /// <param name="rows">Rows.</param>
    /// <param name="batchSize">Batch size, at least 1.</param>
    /// <returns>The count.</returns>
    public static int BatchCount(int rows, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return (rows + batchSize - 1) / batchSize;
    }
}
