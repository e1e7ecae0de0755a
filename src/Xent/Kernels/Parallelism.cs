namespace Xent.Kernels;

/// <summary>
/// How many threads Xent's kernels may use. Work is always split into the same fixed chunks and
/// their partial results are combined in chunk order, so results are bit-identical for any setting.
/// </summary>
public static class Parallelism
{
    private static int s_maxDegree = Environment.ProcessorCount;

    /// <summary>
    /// The largest number of threads a kernel uses. Default: <see cref="Environment.ProcessorCount"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int MaxDegree
    {
        get => s_maxDegree;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(MaxDegree));
            s_maxDegree = value;
        }
    }

    /// <summary>Below this many elements a kernel runs on the calling thread (no scheduling cost, no allocation).</summary>
    internal const long ParallelThreshold = 1 << 18;

    /// <summary>Elements a chunk aims at; chunk boundaries depend only on the shape.</summary>
    internal const int ChunkElements = 1 << 15;
}
