using System.Numerics;
using System.Numerics.Tensors;

namespace Xent.Distributed;

/// <summary>
/// Sums M shard vectors (M a power of 2) by one fixed pairwise tree: level by level, node i of a level is
/// node 2i + node 2i+1 of the level below, element by element. Because the tree is fixed, K ranks that each hold a
/// contiguous subtree of M/K shards (K a power of 2 dividing M) reach bit for bit the sum one process reaches over all
/// M shards: each rank sums its subtree (<see cref="SumInPlace(Span{float}, int)"/>), the K subtree sums are gathered in
/// rank order, and the top of the tree is finished on every rank (<see cref="AllReduce(ICommunicator, Span{float}, int, Span{float})"/>).
/// Each addition is one IEEE-754 addition of two values, so vectorisation does not change the result. Nothing is
/// allocated.
/// </summary>
public static class TreeSum
{
    /// <summary>
    /// Sums <paramref name="count"/> vectors stored one after another in <paramref name="vectors"/> by the fixed tree.
    /// The sum is left in the first vector; the others are overwritten with partial sums.
    /// </summary>
    /// <param name="vectors">The vectors, each <c>vectors.Length / count</c> long, shard 0 first.</param>
    /// <param name="count">How many vectors: a power of 2 (1 leaves them as they are).</param>
    /// <returns>The sum: the first <c>vectors.Length / count</c> elements of <paramref name="vectors"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="count"/> is not a power of 2, or does not divide the length of <paramref name="vectors"/>.</exception>
    public static Span<float> SumInPlace(Span<float> vectors, int count) => Sum(vectors, count);

    /// <inheritdoc cref="SumInPlace(Span{float}, int)"/>
    public static Span<double> SumInPlace(Span<double> vectors, int count) => Sum(vectors, count);

    /// <summary>
    /// The tree sum over a job: this rank holds <paramref name="localCount"/> consecutive shards (rank r holds shards
    /// r × localCount to (r + 1) × localCount − 1 of M = localCount × Size). The rank sums them, the ranks' sums are
    /// gathered, and the tree is finished, so every rank gets the bits of
    /// <see cref="SumInPlace(Span{float}, int)"/> over all M shards in one process.
    /// </summary>
    /// <param name="communicator">The job; its size must be a power of 2.</param>
    /// <param name="localVectors">This rank's shard vectors, one after another (overwritten with partial sums).</param>
    /// <param name="localCount">How many shards this rank holds: a power of 2, the same on every rank.</param>
    /// <param name="gathered">Scratch for the ranks' sums: <c>Size</c> × the vector length.</param>
    /// <returns>The total: the first vector-length elements of <paramref name="gathered"/>.</returns>
    /// <exception cref="ArgumentException">A count is not a power of 2, or a buffer has the wrong length.</exception>
    public static Span<float> AllReduce(ICommunicator communicator, Span<float> localVectors, int localCount, Span<float> gathered)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        int length = CheckShape(localVectors.Length, localCount, nameof(localCount));
        CheckJob(communicator, length, gathered.Length);
        communicator.AllGather(Sum(localVectors, localCount)[..length], gathered);
        return Sum(gathered, communicator.Size);
    }

    /// <inheritdoc cref="AllReduce(ICommunicator, Span{float}, int, Span{float})"/>
    public static Span<double> AllReduce(ICommunicator communicator, Span<double> localVectors, int localCount, Span<double> gathered)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        int length = CheckShape(localVectors.Length, localCount, nameof(localCount));
        CheckJob(communicator, length, gathered.Length);
        communicator.AllGather(Sum(localVectors, localCount)[..length], gathered);
        return Sum(gathered, communicator.Size);
    }

    /// <summary>The shards a rank holds: M / size consecutive shards, rank 0's first.</summary>
    /// <param name="shards">M, the number of shards: a power of 2.</param>
    /// <param name="rank">The rank, from 0 to <paramref name="size"/> − 1.</param>
    /// <param name="size">The number of ranks: a power of 2 that divides <paramref name="shards"/>.</param>
    /// <returns>The first shard and the count.</returns>
    /// <exception cref="ArgumentException">The counts are not powers of 2, or <paramref name="size"/> does not divide <paramref name="shards"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> is out of range.</exception>
    public static (int First, int Count) LocalShards(int shards, int rank, int size)
    {
        CheckPowerOfTwo(shards, nameof(shards), "the number of shards");
        CheckPowerOfTwo(size, nameof(size), "the number of ranks");
        if (size > shards)
        {
            throw new ArgumentException($"{size} ranks cannot share {shards} shards: every rank needs at least one; use at least {size} shards.", nameof(size));
        }

        if (rank < 0 || rank >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"The rank must be from 0 to {size - 1}; it is {rank}.");
        }

        int count = shards / size;
        return (rank * count, count);
    }

    private static Span<T> Sum<T>(Span<T> vectors, int count)
        where T : IAdditionOperators<T, T, T>, IAdditiveIdentity<T, T>
    {
        int length = CheckShape(vectors.Length, count, nameof(count));
        for (int stride = 1; stride < count; stride *= 2)
        {
            for (int i = 0; i < count; i += 2 * stride)
            {
                Span<T> left = vectors.Slice(i * length, length);
                TensorPrimitives.Add<T>(left, vectors.Slice((i + stride) * length, length), left);
            }
        }

        return vectors[..length];
    }

    private static int CheckShape(int total, int count, string name)
    {
        CheckPowerOfTwo(count, name, "the number of vectors");
        if (total % count != 0)
        {
            throw new ArgumentException($"{total} values do not split into {count} vectors of equal length.", name);
        }

        return total / count;
    }

    private static void CheckJob(ICommunicator communicator, int length, int gathered)
    {
        CheckPowerOfTwo(communicator.Size, nameof(communicator), "the number of ranks");
        if ((long)length * communicator.Size != gathered)
        {
            throw new ArgumentException($"The gather buffer holds {gathered} values; {communicator.Size} rank(s) × {length} values need exactly {(long)length * communicator.Size}.", nameof(gathered));
        }
    }

    private static void CheckPowerOfTwo(int value, string name, string what)
    {
        if (value < 1 || !BitOperations.IsPow2(value))
        {
            throw new ArgumentException($"The tree sum needs a power of 2 for {what}; it is {value}.", name);
        }
    }
}
