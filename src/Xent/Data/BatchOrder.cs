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
        XentRandom.ForStream(seed, EpochStream + (ulong)epoch).Shuffle<int>(order);
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

    /// <summary>
    /// The row order of an epoch split into <paramref name="partitions"/> fixed data partitions (for sharded
    /// training): row i belongs to partition i mod M, and each partition's rows are shuffled by a generator of its own,
    /// seeded from (seed, epoch, partition); partition 0's is the generator of the unsharded order
    /// (<see cref="ForEpoch(IReadOnlyList{int}, ulong, int)"/>), so that one partition gives today's order. The result holds partition 0's rows first, then partition 1's, …; partition
    /// p starts at <see cref="PartitionStart"/> and holds <see cref="PartitionSize"/> rows. The order depends only on the
    /// seed, the epoch, the row count and M, never on how many processes train.
    /// </summary>
    /// <param name="rows">The number of rows (row indices 0 … rows − 1).</param>
    /// <param name="partitions">M, at least 1.</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="epoch">The epoch, from 0.</param>
    /// <returns>The row indices, partition by partition.</returns>
    public static int[] ForEpoch(int rows, int partitions, ulong seed, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        int[] order = new int[rows];
        for (int p = 0; p < partitions; p++)
        {
            int start = PartitionStart(rows, partitions, p), size = PartitionSize(rows, partitions, p);
            Span<int> part = order.AsSpan(start, size);
            for (int j = 0; j < size; j++)
            {
                part[j] = p + (j * partitions);
            }

            XentRandom.ForStream(seed, EpochStream + (ulong)epoch + ((ulong)p << 32)).Shuffle(part);
        }

        return order;
    }

    /// <summary>Where partition <paramref name="partition"/> starts in <see cref="ForEpoch(int, int, ulong, int)"/>'s order.</summary>
    /// <param name="rows">The number of rows.</param>
    /// <param name="partitions">M.</param>
    /// <param name="partition">The partition, from 0.</param>
    /// <returns>The offset.</returns>
    public static int PartitionStart(int rows, int partitions, int partition) => (partition * (rows / partitions)) + Math.Min(partition, rows % partitions);

    /// <summary>How many rows partition <paramref name="partition"/> holds: rows ÷ M, one more for the first rows mod M partitions.</summary>
    /// <param name="rows">The number of rows.</param>
    /// <param name="partitions">M.</param>
    /// <param name="partition">The partition, from 0.</param>
    /// <returns>The count.</returns>
    public static int PartitionSize(int rows, int partitions, int partition) => (rows / partitions) + (partition < rows % partitions ? 1 : 0);

    /// <summary>
    /// How many steps an epoch of sharded training has: step t takes rows t × b … (t + 1) × b − 1 of every partition
    /// (b = <paramref name="localBatch"/>). Without <paramref name="dropLast"/> the largest partition is used up (its
    /// last local batch may be short, and smaller partitions' may be shorter or empty); with it, only steps whose local
    /// batches are all full are taken.
    /// </summary>
    /// <param name="rows">The number of rows.</param>
    /// <param name="partitions">M.</param>
    /// <param name="localBatch">Rows per partition per step, at least 1.</param>
    /// <param name="dropLast">Whether partial steps are dropped.</param>
    /// <returns>The count (0 when <paramref name="dropLast"/> leaves no full step).</returns>
    public static int PartitionedBatchCount(int rows, int partitions, int localBatch, bool dropLast)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(localBatch, 1);
        return dropLast ? rows / partitions / localBatch : BatchCount(PartitionSize(rows, partitions, 0), localBatch);
    }

    private const ulong EpochStream = 0xE90C0000UL;
}
