using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Kernels;

/// <summary>
/// A loss built on cross-entropy whose value depends on log p_y only and whose gradient is g·(softmax − e_y): the
/// kernel's row path asks it for ℓ and g once per row, between its summing pass and its scaling pass.
/// </summary>
internal interface IRowHook
{
    /// <summary>ℓ and g of one position from its log p_y (unweighted).</summary>
    double Apply(double logPy, out double scale);
}

/// <summary>
/// The fused cross-entropy forward and backward over logits laid out as (N, C, S): N batch rows,
/// C classes with stride S, and S positions per row (S = d1·…·dk, 1 for 2-D input).
/// </summary>
/// <remarks>
/// <para>Rows (S = 1, C above 32, and double): per chunk of 1024 classes, the chunk's maximum, then Σexp against the
/// running maximum (rescaled when it rises), storing each exp into the gradient; a second pass, from cache, rescales
/// the stored exps into the gradient. One read of the row from memory and one exp per element.</para>
/// <para>Float lanes (small C, and K-dimensional input): positions are SIMD lanes with the class stride S, tiled 256
/// positions at a time (<see cref="TiledLaneKernel"/>); small-C 2-D input is block-transposed into L1 to reach that layout.</para>
/// <para>Nothing N×C is allocated. Per-position losses are summed in double over fixed chunks, combined in order, so
/// the result does not depend on <see cref="Parallelism.MaxDegree"/>. The caller has validated shapes and targets.</para>
/// </remarks>
internal static unsafe class CrossEntropyKernel
{
    /// <summary>Everything one call needs, as raw pointers so that worker threads can share it.</summary>
    internal struct Job<T>
        where T : unmanaged
    {
        public T* Logits;
        public int N;
        public int C;
        public int S;
        public int* Targets;
        public T* Probabilities;
        public T* Weight;
        public double WeightSum;
        public int IgnoreIndex;
        public double Smoothing;
        public T* Losses;
        public T* Gradient;
        public double Kappa;
        public T* ChunkWeightSums;
        public float Scale;
        public float* Margin;
        public IRowHook? Hook;
        public T* Offset;
        public T OffsetMax;

        /// <summary>A job with the fields that every caller sets; the others (weights, smoothing, …) follow with <c>with</c>.</summary>
        public static Job<T> Of(T* logits, int n, int c, int s, int* targets, int ignoreIndex, T* losses, T* gradient, double kappa) => new()
        {
            Logits = logits, N = n, C = c, S = s, Targets = targets, IgnoreIndex = ignoreIndex,
            Losses = losses, Gradient = gradient, Kappa = kappa,
        };
    }

    /// <summary>Runs the kernel and returns the sum of the per-position losses.</summary>
    /// <param name="logits">(N, C, S) logits.</param>
    /// <param name="n">N.</param>
    /// <param name="c">C.</param>
    /// <param name="s">S.</param>
    /// <param name="targets">Class indices (N·S), or empty for probability targets.</param>
    /// <param name="probabilities">Probability targets (N·C·S), or empty for class-index targets.</param>
    /// <param name="weight">Per-class weights (C) or empty.</param>
    /// <param name="ignoreIndex">Target value to skip (index targets only).</param>
    /// <param name="smoothing">Label smoothing ε in [0, 1].</param>
    /// <param name="losses">Per-position losses (N·S) or empty.</param>
    /// <param name="gradient">Gradient (N·C·S) or empty for forward only.</param>
    /// <param name="kappa">Scale of the gradient: upstream gradient divided by the mean's denominator.</param>
    public static double Run<T>(
        ReadOnlySpan<T> logits, int n, int c, int s,
        ReadOnlySpan<int> targets, ReadOnlySpan<T> probabilities, ReadOnlySpan<T> weight,
        int ignoreIndex, double smoothing, Span<T> losses, Span<T> gradient, double kappa)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long positions = (long)n * s;
        if (positions == 0 || c == 0)
        {
            // Nothing to reduce; positions with C = 0 have no classes and contribute nothing.
            losses.Clear();
            return 0;
        }

        double weightSum = 0;
        if (weight.IsEmpty)
        {
            weightSum = c;
        }
        else
        {
            foreach (T w in weight)
            {
                weightSum += double.CreateTruncating(w);
            }
        }

        // Σw of each 1024-class chunk, once per call (the online smoothing sum needs it for every row).
        int chunkCount = (c + Chunk - 1) / Chunk;
        T[]? chunkWeights = null;
        if (!weight.IsEmpty && smoothing > 0)
        {
            chunkWeights = ArrayPool<T>.Shared.Rent(chunkCount);
            for (int k = 0; k < chunkCount; k++)
            {
                T total = T.Zero;
                foreach (T w in weight.Slice(k * Chunk, Math.Min(Chunk, c - (k * Chunk))))
                {
                    total += w;
                }

                chunkWeights[k] = total;
            }
        }

        try
        {
            return RunPinned(logits, n, c, s, targets, probabilities, weight, ignoreIndex, smoothing, losses, gradient, kappa, weightSum, positions, chunkWeights);
        }
        finally
        {
            if (chunkWeights is not null)
            {
                ArrayPool<T>.Shared.Return(chunkWeights);
            }
        }
    }

    /// <summary>
    /// Runs the positions of one block on the calling thread (no parallel split), for callers that split the work
    /// into blocks of their own and finish each block while it is in cache.
    /// </summary>
    /// <param name="logits">(n, C, S) logits.</param>
    /// <param name="n">Rows.</param>
    /// <param name="c">C.</param>
    /// <param name="s">S.</param>
    /// <param name="targets">Class indices (n·S).</param>
    /// <param name="weight">Per-class weights (C) or empty.</param>
    /// <param name="weightSum">Σ weight (C when unweighted).</param>
    /// <param name="ignoreIndex">Target value to skip.</param>
    /// <param name="losses">Per-position losses (n·S) or empty.</param>
    /// <param name="gradient">Gradient (n·C·S) or empty.</param>
    /// <param name="kappa">Scale of the gradient.</param>
    /// <param name="scale">LDAM's s, applied to x − max (the gradient's κ must include it); other than 1 only for float lanes: C ≤ <see cref="LaneLimit"/>, S = 1, n a multiple of 16.</param>
    /// <param name="margin">Per-class values subtracted from the target's scaled logit (s·Δ), or empty; as <paramref name="scale"/>.</param>
    /// <param name="offset">Per-class offsets added to the logits (logit adjustment), or empty; rows of one chunk only (S = 1, C ≤ 1024, and above <see cref="LaneLimit"/> for float), no smoothing.</param>
    /// <param name="hook">ℓ and g per row (softmax-form losses), or <see langword="null"/> for cross-entropy; rows only (S = 1, and C above <see cref="LaneLimit"/> for float), no smoothing.</param>
    /// <returns>The sum of the per-position losses.</returns>
    internal static double RunBlock<T>(
        ReadOnlySpan<T> logits, int n, int c, int s, ReadOnlySpan<int> targets, ReadOnlySpan<T> weight, double weightSum,
        int ignoreIndex, Span<T> losses, Span<T> gradient, double kappa, float scale = 1f, ReadOnlySpan<float> margin = default, IRowHook? hook = null, ReadOnlySpan<T> offset = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        System.Diagnostics.Debug.Assert(offset.IsEmpty || (s == 1 && c <= RowChunk && (c > LaneLimit || typeof(T) != typeof(float))), "Offsets need the one-chunk row path.");
        System.Diagnostics.Debug.Assert(hook is null || (s == 1 && (c > LaneLimit || typeof(T) != typeof(float))), "A row hook needs the row path.");
        System.Diagnostics.Debug.Assert((scale == 1f && margin.IsEmpty) || (typeof(T) == typeof(float) && s == 1 && ((c <= LaneLimit && n % 16 == 0 && (Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated)) || (c > LaneLimit && c <= RowChunk))), "A scale or margin needs the float lane path or one-chunk rows.");
        fixed (float* pm = margin)
        fixed (T* po = offset)
        fixed (T* px = logits)
        fixed (int* pt = targets)
        fixed (T* pw = weight)
        fixed (T* pl = losses)
        fixed (T* pg = gradient)
        {
            Job<T> job = Job<T>.Of(px, n, c, s, pt, ignoreIndex, losses.IsEmpty ? null : pl, gradient.IsEmpty ? null : pg, kappa) with
            {
                Weight = weight.IsEmpty ? null : pw,
                WeightSum = weightSum,
                Scale = scale,
                Margin = margin.IsEmpty ? null : pm,
                Hook = hook,
                Offset = offset.IsEmpty ? null : po,
                OffsetMax = offset.IsEmpty ? T.Zero : RowOps.Max(offset),
            };
            return RunRange(job, 0, (long)n * s);
        }
    }

    private static double RunPinned<T>(
        ReadOnlySpan<T> logits, int n, int c, int s, ReadOnlySpan<int> targets, ReadOnlySpan<T> probabilities, ReadOnlySpan<T> weight,
        int ignoreIndex, double smoothing, Span<T> losses, Span<T> gradient, double kappa, double weightSum, long positions, T[]? chunkWeights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* pcw = chunkWeights)
        fixed (T* px = logits)
        fixed (int* pt = targets)
        fixed (T* pp = probabilities)
        fixed (T* pw = weight)
        fixed (T* pl = losses)
        fixed (T* pg = gradient)
        {
            Job<T> job = Job<T>.Of(px, n, c, s, targets.IsEmpty ? null : pt, ignoreIndex, losses.IsEmpty ? null : pl, gradient.IsEmpty ? null : pg, kappa) with
            {
                Probabilities = probabilities.IsEmpty ? null : pp,
                Weight = weight.IsEmpty ? null : pw,
                WeightSum = weightSum,
                Smoothing = smoothing,
                ChunkWeightSums = chunkWeights is null ? null : pcw,
            };
            return RunChunks(job, positions);
        }
    }

    private static double RunChunks<T>(Job<T> job, long positions)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long perChunk = Math.Max(1, Parallelism.ChunkElements / ((long)job.C));
        long chunks = (positions + perChunk - 1) / perChunk;
        long elements = positions * job.C;
        if (chunks == 1 || Parallelism.MaxDegree == 1 || elements < Parallelism.ParallelThreshold)
        {
            double total = 0;
            for (long k = 0; k < chunks; k++)
            {
                total += RunRange(job, k * perChunk, Math.Min(positions, (k + 1) * perChunk));
            }

            return total;
        }

        return RunParallel(job, positions, perChunk, chunks);
    }

    /// <summary>Chunks of <see cref="RunCounting{T}"/> between the checks of its speculative scale (2M elements, 8 MiB of floats).</summary>
    internal const long CountingBlockElements = 1L << 21;

    /// <summary>
    /// <see cref="Run{T}"/> for unweighted class-index targets that nobody has checked or counted yet: each chunk's
    /// targets are checked against [0, C) and counted just before the chunk runs, while they are in cache, instead of
    /// in a pass of their own over all of them first (at C = 2 on 256 MiB that pass took 13-16% of the call).
    /// </summary>
    /// <remarks>
    /// <para>The mean's gradient scale needs the count before any gradient is written. The first block of
    /// <see cref="CountingBlockElements"/> is counted first; when it holds an ignored target, so do the rest (one pass,
    /// as before) and the scale is exact from the start. Otherwise the blocks run with the scale for no ignored targets
    /// (the common case), and after each block its chunks' counts are added up: at the first block that held an ignored
    /// target the rest are counted, every block so far is rescaled (one multiply an element), and the later blocks
    /// run with the exact scale. The blocks are fixed by the sizes alone and run their chunks in parallel, so the
    /// result does not depend on <see cref="Parallelism.MaxDegree"/>.</para>
    /// <para>Without the mean (sum or none) the scale needs no count and every block's targets are counted as it
    /// goes. An out-of-range target throws (the first in scan order, with PyTorch's message) after the chunks before
    /// it, and in parallel some after it, have been written to <paramref name="losses"/> and <paramref name="gradient"/>.</para>
    /// </remarks>
    /// <param name="logits">(N, C, S) logits.</param>
    /// <param name="n">N.</param>
    /// <param name="c">C.</param>
    /// <param name="s">S.</param>
    /// <param name="targets">Class indices (N·S), not yet checked.</param>
    /// <param name="ignoreIndex">Target value to skip.</param>
    /// <param name="smoothing">Label smoothing ε in [0, 1].</param>
    /// <param name="losses">Per-position losses (N·S) or empty.</param>
    /// <param name="gradient">Gradient (N·C·S) or empty.</param>
    /// <param name="gradientScale">The upstream gradient (for the mean, before the division by the count).</param>
    /// <param name="mean">Whether the gradient is divided by the count of targets that are not ignored.</param>
    /// <param name="count">The count of targets that are not ignored.</param>
    /// <returns>The sum of the per-position losses.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A target is outside [0, C) and is not the ignore index.</exception>
    internal static double RunCounting<T>(
        ReadOnlySpan<T> logits, int n, int c, int s, ReadOnlySpan<int> targets, int ignoreIndex, double smoothing,
        Span<T> losses, Span<T> gradient, double gradientScale, bool mean, out long count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long positions = (long)n * s;
        long perChunk = Math.Max(1, Parallelism.ChunkElements / Math.Max(1, (long)c));
        long perBlock = perChunk * Math.Max(1, CountingBlockElements / (perChunk * Math.Max(1, c)));
        if (positions == 0 || c == 0 || positions <= perBlock)
        {
            // One block or none: nothing to gain from counting as it goes.
            count = positions - TargetCount.Ignored(targets, c, ignoreIndex);
            return Run(logits, n, c, s, targets, default, default, ignoreIndex, smoothing, losses, gradient, mean ? gradientScale / count : gradientScale);
        }

        long ignored = TargetCount.Ignored(targets[..(int)perBlock], c, ignoreIndex);
        bool counted = false; // whether every target has been checked and counted
        if (mean && ignored > 0)
        {
            ignored += TargetCount.Ignored(targets[(int)perBlock..], c, ignoreIndex);
            counted = true;
        }

        long chunks = (positions + perChunk - 1) / perChunk;
        double[] partials = ArrayPool<double>.Shared.Rent(checked((int)chunks));
        long[] chunkIgnored = ArrayPool<long>.Shared.Rent((int)(perBlock / perChunk));
        int[] chunkBad = ArrayPool<int>.Shared.Rent((int)(perBlock / perChunk));
        try
        {
            fixed (T* px = logits)
            fixed (int* pt = targets)
            fixed (T* pl = losses)
            fixed (T* pg = gradient)
            {
                double kappa = mean ? gradientScale / (positions - ignored) : gradientScale;
                Job<T> job = Job<T>.Of(px, n, c, s, pt, ignoreIndex, losses.IsEmpty ? null : pl, gradient.IsEmpty ? null : pg, kappa) with
                {
                    WeightSum = c,
                    Smoothing = smoothing,
                };
                bool parallel = Parallelism.MaxDegree > 1 && positions * c >= Parallelism.ParallelThreshold;
                CountingWork<T> work = CountingWork<T>.ForThisThread;
                (work.Partials, work.Ignored, work.Bad, work.PerChunk, work.Positions) = (partials, chunkIgnored, chunkBad, perChunk, positions);

                // Two float classes take the lanes (TwoClassLanes and LaneKernel), which only compare the targets.
                work.CheckAfter = typeof(T) == typeof(float) && c == 2 && s == 1 && (Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated);
                for (long from = 0; from < positions; from += perBlock)
                {
                    long end = Math.Min(positions, from + perBlock);
                    int blockChunks = (int)((end - from + perChunk - 1) / perChunk);
                    (work.Job, work.FirstChunk, work.Check) = (job, from / perChunk, !counted && from > 0);
                    if (parallel)
                    {
                        WorkerPool.For(blockChunks, Parallelism.MaxDegree, work);
                    }
                    else
                    {
                        for (int k = 0; k < blockChunks; k++)
                        {
                            work.Run(k);
                            if (work.Check && chunkBad[k] >= 0)
                            {
                                break;
                            }
                        }
                    }

                    if (!work.Check)
                    {
                        continue;
                    }

                    long here = 0;
                    for (int k = 0; k < blockChunks; k++)
                    {
                        if (chunkBad[k] >= 0)
                        {
                            throw TargetCount.OutOfBounds(targets[chunkBad[k]]);
                        }

                        here += chunkIgnored[k];
                    }

                    ignored += here;
                    if (mean && here > 0)
                    {
                        // The first ignored targets: the rest counted at once, the blocks so far rescaled.
                        ignored += TargetCount.Ignored(targets[(int)end..], c, ignoreIndex);
                        counted = true;
                        job.Kappa = gradientScale / (positions - ignored);
                        if (!gradient.IsEmpty)
                        {
                            RescalePositions(gradient, c, s, end, positions / (double)(positions - ignored));
                        }
                    }
                }

                work.Partials = null;
                double total = 0;
                for (long k = 0; k < chunks; k++)
                {
                    total += partials[k];
                }

                count = positions - ignored;
                return total;
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partials);
            ArrayPool<long>.Shared.Return(chunkIgnored);
            ArrayPool<int>.Shared.Return(chunkBad);
        }
    }

    /// <summary>Multiplies the gradient of positions [0, <paramref name="end"/>) of (N, C, S) by <paramref name="factor"/>.</summary>
    private static void RescalePositions<T>(Span<T> gradient, int c, int s, long end, double factor)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long rows = end / s;
        int partial = (int)(end % s);
        Scale(gradient[..checked((int)(rows * c * s))], factor);
        if (partial > 0)
        {
            for (int k = 0; k < c; k++)
            {
                Scale(gradient.Slice((int)((rows * c * s) + ((long)k * s)), partial), factor);
            }
        }

        static void Scale(Span<T> values, double factor)
        {
            foreach (ref T v in values)
            {
                v = T.CreateTruncating(double.CreateTruncating(v) * factor);
            }
        }
    }

    /// <summary>The chunks of one <see cref="RunCounting{T}"/> block, each checked and counted first where asked.</summary>
    private sealed class CountingWork<T> : IParallelWork
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic]
        private static CountingWork<T>? t_instance;

        public Job<T> Job;
        public long FirstChunk, PerChunk, Positions;
        public bool Check, CheckAfter;
        public double[]? Partials;
        public long[]? Ignored;
        public int[]? Bad;

        public static CountingWork<T> ForThisThread => t_instance ??= new CountingWork<T>();

        public void Run(int index)
        {
            long k = FirstChunk + index, from = k * PerChunk, end = Math.Min(Positions, from + PerChunk);
            Partials![k] = 0;
            var targets = new ReadOnlySpan<int>(Job.Targets + from, (int)(end - from));
            if (Check && CheckAfter)
            {
                // The lanes compare the targets and never index by them; the tail rows (the row path) do, so they are
                // checked first. The chunk's targets are then counted from cache: counted before the chunk their
                // reads from memory came on top of the kernel's (a single thread gained nothing), in it they overlap.
                int tail = targets.Length % 16;
                if (TargetCount.Ignored(targets[^tail..], Job.C, Job.IgnoreIndex, out _) >= 0)
                {
                    Partials[k] = RunRange(Job, from, end);
                }

                Ignored![index] = TargetCount.Ignored(targets, Job.C, Job.IgnoreIndex, out int bad);
                Bad![index] = bad < 0 ? -1 : checked((int)(from + bad));
                return;
            }

            if (Check)
            {
                Ignored![index] = TargetCount.Ignored(targets, Job.C, Job.IgnoreIndex, out int bad);
                Bad![index] = bad < 0 ? -1 : checked((int)(from + bad));
                if (bad >= 0)
                {
                    return;
                }
            }

            Partials[k] = RunRange(Job, from, end);
        }
    }

    /// <summary>The chunks on the <see cref="WorkerPool"/>; partial sums are combined in chunk order.</summary>
    private static double RunParallel<T>(Job<T> job, long positions, long perChunk, long chunks)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double[] partials = ArrayPool<double>.Shared.Rent(checked((int)chunks));
        ChunkWork<T> work = ChunkWork<T>.ForThisThread;
        (work.Job, work.Positions, work.PerChunk, work.Partials) = (job, positions, perChunk, partials);
        WorkerPool.For(checked((int)chunks), Parallelism.MaxDegree, work);
        work.Partials = null;
        double total = 0;
        for (long k = 0; k < chunks; k++)
        {
            total += partials[k];
        }

        ArrayPool<double>.Shared.Return(partials);
        return total;
    }

    /// <summary>The chunks of one call, reused per calling thread so that parallel calls allocate nothing.</summary>
    private sealed class ChunkWork<T> : IParallelWork
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic]
        private static ChunkWork<T>? t_instance;

        public Job<T> Job;
        public long Positions, PerChunk;
        public double[]? Partials;

        public static ChunkWork<T> ForThisThread => t_instance ??= new ChunkWork<T>();

        public void Run(int index) => Partials![index] = RunRange(Job, index * PerChunk, Math.Min(Positions, (index + 1) * PerChunk));
    }

    /// <summary>The most classes the lane scratch holds, and the lane limit (above it, rows are vectorised along C).</summary>
    internal const int LaneClasses = 64;

    /// <summary>
    /// Classes up to which float 2-D input takes the lanes: <see cref="LaneClasses"/>. With AVX2 alone the limit was 32
    /// until the lane kernel's selects and maximum became single instructions and its blocks were prefetched
    /// (2026-12-07); since then the lanes are faster at C = 64 there too (256 MiB, one thread: 72–73 against 93 ms).
    /// </summary>
    internal const int LaneLimit = LaneClasses;

    /// <summary>
    /// Whether 2-D rows of up to <see cref="LaneLimit"/> classes take the 256-bit lanes even where AVX-512 is there: they
    /// have their own kernels (<see cref="TwoClassLanes"/> in registers, <see cref="RowBlockLanes"/>, 8 × 8 transposes),
    /// and on the AVX-512 host (AMD EPYC, two cores, one thread) they took 0.45–0.74× the 512-bit lanes' time at C = 2,
    /// 10, 32 and 64, with options too (docs/benchmarks.md, 2026-12-07, seventh session).
    /// </summary>
    private static bool Wide256Rows => Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported;

    private static double RunRange<T>(in Job<T> job, long first, long end)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && (job.S > 1 || job.C <= LaneLimit))
        {
            ref readonly Job<float> f = ref Unsafe.As<Job<T>, Job<float>>(ref Unsafe.AsRef(in job));
            if (Vector512.IsHardwareAccelerated && (job.S > 1 || !Wide256Rows))
            {
                return RunLanes<V512>(f, first, end);
            }

            if (Vector256.IsHardwareAccelerated)
            {
                return RunLanes<V256>(f, first, end);
            }
        }

        int c = job.C;
        ReadOnlySpan<T> weight = job.Weight == null ? default : new ReadOnlySpan<T>(job.Weight, c);
        double sum = 0;
        if (job.S == 1)
        {
            // The next row is prefetched while this one's exp pass runs from L1: forward only on AVX2 machines (16% faster at
            // C = 1000 on 256 MiB there; with a gradient the same prefetch was 12–20% slower), with the gradient too where
            // AVX-512 is (on the AVX-512 host fwd+bwd took 0.77–0.92× the time without it; docs/benchmarks.md, seventh session).
            bool prefetch = typeof(T) == typeof(float) && job.Targets != null && (job.Gradient == null || Vector512.IsHardwareAccelerated);
            for (long p = first; p < end; p++)
            {
                if (prefetch && p + 1 < end)
                {
                    PrefetchNextBlock((float*)job.Logits + (p * c), null, c);
                }

                sum += RowAt(job, p, weight);
            }

            return sum;
        }

        T[] scratch = ArrayPool<T>.Shared.Rent(3 * c);
        for (long p = first; p < end; p++)
        {
            sum += PositionAt(job, p, weight, scratch);
        }

        ArrayPool<T>.Shared.Return(scratch);
        return sum;
    }

    /// <summary>One contiguous row (S = 1).</summary>
    private static double RowAt<T>(in Job<T> job, long p, ReadOnlySpan<T> weight)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = job.C;
        var x = new ReadOnlySpan<T>(job.Logits + (p * c), c);
        Span<T> g = job.Gradient == null ? default : new Span<T>(job.Gradient + (p * c), c);
        double loss = job.Targets != null
            ? IndexRow(job, x, job.Targets[p], weight, g)
            : ProbabilityRow(job, x, new ReadOnlySpan<T>(job.Probabilities + (p * c), c), weight, g);
        if (job.Losses != null)
        {
            job.Losses[p] = T.CreateTruncating(loss);
        }

        return loss;
    }

    /// <summary>One K-dimensional position: its classes (stride S) are gathered into a row, and the gradient scattered back.</summary>
    private static double PositionAt<T>(in Job<T> job, long p, ReadOnlySpan<T> weight, T[] scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = job.C, s = job.S;
        Span<T> row = scratch.AsSpan(0, c), trow = scratch.AsSpan(c, c), grow = scratch.AsSpan(2 * c, c);
        long b = p / s, pos = p % s;
        T* x0 = job.Logits + (b * c * s) + pos;
        for (int k = 0; k < c; k++)
        {
            row[k] = x0[(long)k * s];
        }

        Span<T> g = job.Gradient == null ? default : grow;
        double loss;
        if (job.Targets != null)
        {
            loss = IndexRow(job, row, job.Targets[p], weight, g);
        }
        else
        {
            T* t0 = job.Probabilities + (b * c * s) + pos;
            for (int k = 0; k < c; k++)
            {
                trow[k] = t0[(long)k * s];
            }

            loss = ProbabilityRow(job, row, trow, weight, g);
        }

        if (job.Gradient != null)
        {
            T* g0 = job.Gradient + (b * c * s) + pos;
            for (int k = 0; k < c; k++)
            {
                g0[(long)k * s] = grow[k];
            }
        }

        if (job.Losses != null)
        {
            job.Losses[p] = T.CreateTruncating(loss);
        }

        return loss;
    }

    /// <summary>
    /// 8 rows of C classes into lanes: class k of row j goes to <c>lanes[k·stride + j]</c>, by 8 × 8 register transposes
    /// for the whole columns and, where C is not a multiple of 8, one more for the last C mod 8, whose loads run on into
    /// the next row (the surplus lands in the lanes past the C vectors and is never read).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LanesIn(float* rows, int c, int whole, float* lanes, int stride)
    {
        for (int k = 0; k < whole; k += 8)
        {
            Transpose8.Block(rows + k, c, lanes + (k * stride), stride);
        }

        if (c - whole == 2)
        {
            // Two last columns (C = 10, 18, ...): each row's pair as one 64-bit load, rows 0, 1, 4, 5 in one vector and
            // 2, 3, 6, 7 in another, whose even and odd elements are the two class vectors (12 operations and no
            // loads past the rows, against the 8 × 8 transpose's 40).
            Vector256<float> a = Pairs(rows + whole, c, 0, 1, 4, 5), b = Pairs(rows + whole, c, 2, 3, 6, 7);
            Avx.Store(lanes + (whole * stride), Avx.Shuffle(a, b, 0x88));
            Avx.Store(lanes + ((whole + 1) * stride), Avx.Shuffle(a, b, 0xDD));
        }
        else if (whole < c)
        {
            Transpose8.Block(rows + whole, c, lanes + (whole * stride), stride);
        }
    }

    /// <summary><see cref="Pairs"/> undone: a vector's four 64-bit pairs to rows i, j, k, l.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePairs(Vector256<double> pairs, float* at, int c, int i, int j, int k, int l)
    {
        Vector128<double> low = pairs.GetLower(), high = pairs.GetUpper();
        Sse2.StoreScalar((double*)(at + (i * c)), low);
        Sse2.StoreHigh((double*)(at + (j * c)), low);
        Sse2.StoreScalar((double*)(at + (k * c)), high);
        Sse2.StoreHigh((double*)(at + (l * c)), high);
    }

    /// <summary>The 64-bit pairs at <paramref name="at"/> of four rows, as one vector (rows i, j | k, l).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Pairs(float* at, int c, int i, int j, int k, int l)
    {
        Vector128<double> low = Sse2.LoadHigh(Sse2.LoadScalarVector128((double*)(at + (i * c))), (double*)(at + (j * c)));
        Vector128<double> high = Sse2.LoadHigh(Sse2.LoadScalarVector128((double*)(at + (k * c))), (double*)(at + (l * c)));
        return Vector256.Create(low, high).AsSingle();
    }

    /// <summary>
    /// <see cref="LanesIn"/> undone for the gradient. The last columns first, row by row: a whole 8-float store where it
    /// ends inside the 8 rows (its surplus lands on the next row's first columns, which a later store or the
    /// whole-column transposes after it overwrite), the rest float by float; then the whole columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LanesOut(float* lanes, int stride, float* rows, int c, int whole, int rest, float* tail)
    {
        if (rest == 2)
        {
            // LanesIn's pairs undone: the unpacks give rows 0, 1 | 4, 5 and 2, 3 | 6, 7 as 64-bit pairs.
            Vector256<float> g0 = Avx.LoadVector256(lanes + (whole * stride)), g1 = Avx.LoadVector256(lanes + ((whole + 1) * stride));
            StorePairs(Avx.UnpackLow(g0, g1).AsDouble(), rows + whole, c, 0, 1, 4, 5);
            StorePairs(Avx.UnpackHigh(g0, g1).AsDouble(), rows + whole, c, 2, 3, 6, 7);
        }
        else if (rest != 0)
        {
            Transpose8.Block(lanes + (whole * stride), stride, tail, 8);
            for (int j = 0; j < 8; j++)
            {
                float* to = rows + (j * c) + whole;
                if ((j * c) + whole + 8 <= 8 * c)
                {
                    Avx.Store(to, Avx.LoadVector256(tail + (j * 8)));
                }
                else
                {
                    for (int k = 0; k < rest; k++)
                    {
                        to[k] = tail[(j * 8) + k];
                    }
                }
            }
        }

        for (int k = 0; k < whole; k += 8)
        {
            Transpose8.Block(lanes + (k * stride), stride, rows + k, c);
        }
    }

    /// <summary>
    /// Float class-index targets, one SIMD vector of positions at a time (<see cref="LaneKernel"/>): along S for
    /// K-dimensional input, or through a block transpose in L1 for small C. Leftover positions take the row path.
    /// </summary>
    private static double RunLanes<TV>(in Job<float> job, long first, long end)
        where TV : struct, IFloatVector<TV>
    {
        int c = job.C, s = job.S, v = TV.Count;
        ReadOnlySpan<float> weight = job.Weight == null ? default : new ReadOnlySpan<float>(job.Weight, c);
        var settings = new LaneKernel.Settings(c, job.IgnoreIndex, (float)job.Smoothing, (float)job.WeightSum, (float)job.Kappa) { Scale = job.Scale == 0 ? 1f : job.Scale };
        ReadOnlySpan<float> margin = job.Margin == null ? default : new ReadOnlySpan<float>(job.Margin, c);
        bool wantGradient = job.Gradient != null, wantLosses = job.Losses != null;
        double sum = 0;
        if (s == 1 && job.Targets == null)
        {
            return RunProbabilityLanes<TV>(job, first, end, weight, settings);
        }

        if (s == 1)
        {
            float* xs = stackalloc float[LaneClasses * 16];
            float* gs = stackalloc float[LaneClasses * 16];
            long p = first;
            if (c == 2 && v == 8 && Avx2.IsSupported)
            {
                // Two classes: the loss stays in registers, up to 64 rows at a time (TwoClassLanes) where its lanes allow;
                // otherwise the general lanes, de-interleaved and interleaved back by TwoClassLanes's shuffles.
                bool inRegisters = settings.Scale == 1f && margin.IsEmpty && TwoClassLanes.IsSupported;
                var twoClass = new TwoClassLanes.Options(weight.IsEmpty ? 1f : weight[0], weight.IsEmpty ? 1f : weight[1], (float)job.Smoothing, settings.WeightSum, settings.Kappa);
                TwoClassLanes.Sum twoClassSum = TwoClassLanes.Sum.Empty;
                for (; p + v <= end; p += v)
                {
                    float* x0 = job.Logits + (p * 2);
                    int groups = (int)Math.Min(TwoClassLanes.MaxGroups, (end - p) / TwoClassLanes.GroupRows);
                    if (inRegisters && TwoClassLanes.TryRun(x0, job.Targets + p, groups, job.IgnoreIndex, twoClass, wantGradient ? job.Gradient + (p * 2) : null, wantLosses ? job.Losses + p : null, ref twoClassSum))
                    {
                        p += (groups * TwoClassLanes.GroupRows) - v;
                        continue;
                    }

                    TwoClassLanes.Deinterleave(x0, out Vector256<float> class0, out Vector256<float> class1);
                    Avx.Store(xs, class0);
                    Avx.Store(xs + 8, class1);
                    sum += LaneKernel.Run<TV>(ref *xs, v, ref job.Targets[p], weight, settings, ref *gs, wantGradient, ref wantLosses ? ref job.Losses[p] : ref Unsafe.NullRef<float>(), wantLosses, margin);
                    if (wantGradient)
                    {
                        TwoClassLanes.Interleave(Avx.LoadVector256(gs), Avx.LoadVector256(gs + 8), job.Gradient + (p * 2));
                    }
                }

                sum += twoClassSum.Total(twoClass);
            }

            if (c % 8 == 0 && v == 8 && Transpose8.IsSupported)
            {
                // AVX2: C a multiple of 8, 8 × 8 register transposes into the lanes and back; without LDAM's scale or
                // margins, from 24 classes, the rows read along C where they lie (RowBlockLanes) instead (at C = 16 that measured 4-13% slower).
                bool alongRows = RowBlockLanes.IsSupported && RowBlockLanes.Fits(c) && settings.Scale == 1f && margin.IsEmpty;
                bool plain = weight.IsEmpty && settings.Smoothing == 0;
                if (!alongRows)
                {
                    // 16 rows at a time through the transposes, as two blocks of 8 side by side (V256x2, as for C = 10).
                    for (; p + (2 * v) <= end; p += 2 * v)
                    {
                        float* x0 = job.Logits + (p * c);
                        if (p + (4 * v) <= end)
                        {
                            PrefetchNextBlock(x0, wantGradient ? job.Gradient + (p * c) : null, 2 * v * c);
                        }

                        LanesIn(x0, c, c, xs, 16);
                        LanesIn(x0 + (8 * c), c, c, xs + 8, 16);
                        sum += LaneKernel.Run<V256x2>(ref *xs, 16, ref job.Targets[p], weight, settings, ref *gs, wantGradient, ref wantLosses ? ref job.Losses[p] : ref Unsafe.NullRef<float>(), wantLosses, margin);
                        if (wantGradient)
                        {
                            float* g0 = job.Gradient + (p * c);
                            LanesOut(gs, 16, g0, c, c, 0, null);
                            LanesOut(gs + 8, 16, g0 + (8 * c), c, c, 0, null);
                        }
                    }
                }

                for (; p + v <= end; p += v)
                {
                    float* x0 = job.Logits + (p * c);
                    if (p + (2 * v) <= end)
                    {
                        PrefetchNextBlock(x0, wantGradient ? job.Gradient + (p * c) : null, v * c);
                    }

                    if (alongRows)
                    {
                        float* g0 = wantGradient ? job.Gradient + (p * c) : null, l0 = wantLosses ? job.Losses + p : null;
                        sum += plain
                            ? RowBlockLanes.Run<LaneKernel.PlainLanes>(x0, c, job.Targets + p, job.IgnoreIndex, null, settings, g0, l0)
                            : RowBlockLanes.Run<LaneKernel.AnyLanes>(x0, c, job.Targets + p, job.IgnoreIndex, job.Weight, settings, g0, l0);
                        continue;
                    }

                    for (int k = 0; k < c; k += 8)
                    {
                        Transpose8.Block(x0 + k, c, xs + (k * 8), 8);
                    }

                    sum += LaneKernel.Run<TV>(ref *xs, v, ref job.Targets[p], weight, settings, ref *gs, wantGradient, ref wantLosses ? ref job.Losses[p] : ref Unsafe.NullRef<float>(), wantLosses, margin);
                    if (wantGradient)
                    {
                        float* g0 = job.Gradient + (p * c);
                        for (int k = 0; k < c; k += 8)
                        {
                            Transpose8.Block(gs + (k * 8), 8, g0 + k, c);
                        }
                    }
                }
            }

            if (c % 8 != 0 && c > 2 && v == 8 && Transpose8.IsSupported)
            {
                // (Kept apart from the loop above: merged into one, C = 64 measured 8% slower, 77–79 against 70–73 ms.)
                // AVX2, C not a multiple of 8 (C = 10): 8 × 8 register transposes for the whole columns, and one more
                // for the last c mod 8 columns, whose loads run on into the next row (the surplus lanes land in xs past
                // the C vectors and are never read). So the block's last load ends 8 − c mod 8 floats past it, and the
                // array's last block takes the scalar transpose below; with two last columns (C = 10) they are read as
                // 64-bit pairs instead, and nothing is read past the rows (LanesIn).
                int whole = c / 8 * 8, rest = c - whole, overRead = rest == 2 ? 0 : 8 - rest;
                long total = (long)job.N * c;
                float* tail = stackalloc float[64];

                // 16 rows at a time where they fit, as two blocks of 8 side by side in 16 lanes (V256x2: the lane
                // kernel's chain of max, exps, log and division for one block leaves the core idle without a second).
                for (; p + (2 * v) <= end && ((p + (2 * v)) * c) + overRead <= total; p += 2 * v)
                {
                    float* x0 = job.Logits + (p * c);
                    LanesIn(x0, c, whole, xs, 16);
                    LanesIn(x0 + (8 * c), c, whole, xs + 8, 16);
                    sum += LaneKernel.Run<V256x2>(ref *xs, 16, ref job.Targets[p], weight, settings, ref *gs, wantGradient, ref wantLosses ? ref job.Losses[p] : ref Unsafe.NullRef<float>(), wantLosses, margin);
                    if (wantGradient)
                    {
                        float* g0 = job.Gradient + (p * c);
                        LanesOut(gs, 16, g0, c, whole, rest, tail);
                        LanesOut(gs + 8, 16, g0 + (8 * c), c, whole, rest, tail);
                    }
                }

                for (; p + v <= end && ((p + v) * c) + overRead <= total; p += v)
                {
                    float* x0 = job.Logits + (p * c);
                    LanesIn(x0, c, whole, xs, 8);
                    sum += LaneKernel.Run<TV>(ref *xs, v, ref job.Targets[p], weight, settings, ref *gs, wantGradient, ref wantLosses ? ref job.Losses[p] : ref Unsafe.NullRef<float>(), wantLosses, margin);
                    if (wantGradient)
                    {
                        LanesOut(gs, 8, job.Gradient + (p * c), c, whole, rest, tail);
                    }
                }
            }

            for (; p + v <= end; p += v)
            {
                // Block transpose into L1: class k of row j goes to xs[k·v + j] (strided reads, contiguous writes).
                float* x0 = job.Logits + (p * c);
                for (int k = 0; k < c; k++)
                {
                    float* src = x0 + k;
                    float* dst = xs + (k * v);
                    for (int j = 0; j < v; j++)
                    {
                        dst[j] = src[j * c];
                    }
                }

                sum += LaneKernel.Run<TV>(ref *xs, v, ref job.Targets[p], weight, settings, ref *gs, wantGradient, ref wantLosses ? ref job.Losses[p] : ref Unsafe.NullRef<float>(), wantLosses, margin);
                if (wantGradient)
                {
                    float* g0 = job.Gradient + (p * c);
                    for (int k = 0; k < c; k++)
                    {
                        float* src = gs + (k * v);
                        float* dst = g0 + k;
                        for (int j = 0; j < v; j++)
                        {
                            dst[j * c] = src[j];
                        }
                    }
                }
            }

            for (; p < end; p++)
            {
                sum += RowAt(job, p, weight);
            }

            return sum;
        }

        float[]? scratch = null;
        for (long p = first; p < end;)
        {
            long b = p / s, pos = p % s;
            int tile = job.Targets == null ? 0 : (int)Math.Min(Math.Min(TiledLaneKernel.Tile, s - pos), end - p) / v * v;
            if (tile > v)
            {
                long offset = (b * c * s) + pos;
                sum += TiledLaneKernel.Run<TV>(ref job.Logits[offset], s, tile, ref job.Targets[p], weight, settings,
                    ref wantGradient ? ref job.Gradient[offset] : ref Unsafe.NullRef<float>(), wantGradient,
                    ref wantLosses ? ref job.Losses[p] : ref Unsafe.NullRef<float>(), wantLosses);
                p += tile;
            }
            else if (pos + v <= s && p + v <= end)
            {
                long offset = (b * c * s) + pos;
                ref float gradient = ref wantGradient ? ref job.Gradient[offset] : ref Unsafe.NullRef<float>();
                ref float losses = ref wantLosses ? ref job.Losses[p] : ref Unsafe.NullRef<float>();
                sum += job.Targets == null
                    ? ProbabilityLaneKernel.Run<TV>(ref job.Logits[offset], ref job.Probabilities[offset], s, weight, settings, ref gradient, wantGradient, ref losses, wantLosses)
                    : LaneKernel.Run<TV>(ref job.Logits[offset], s, ref job.Targets[p], weight, settings, ref gradient, wantGradient, ref losses, wantLosses);
                p += v;
            }
            else
            {
                scratch ??= ArrayPool<float>.Shared.Rent(3 * c);
                sum += PositionAt(job, p, weight, scratch);
                p++;
            }
        }

        if (scratch is not null)
        {
            ArrayPool<float>.Shared.Return(scratch);
        }

        return sum;
    }

    /// <summary>
    /// Prefetches the next block of the lane transposes (or the next row of a forward-only row pass): its logits and, where
    /// it is a separate array, its gradient. The
    /// transposes read and write each block at the row stride, an order the hardware prefetchers follow poorly: at C = 64
    /// on a Zen 3 core with 256 MiB of logits, 4.2–4.3 cycles an element without and 3.5–3.6 with (rows in L2: 3.2).
    /// </summary>
    /// <param name="block">The current block's logits.</param>
    /// <param name="gradientBlock">The current block's gradient, or null.</param>
    /// <param name="floats">Floats per block.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchNextBlock(float* block, float* gradientBlock, int floats)
    {
        for (int k = 0; k < floats; k += 16)
        {
            Sse.Prefetch0(block + floats + k);
        }

        if (gradientBlock != null && gradientBlock != block)
        {
            for (int k = 0; k < floats; k += 16)
            {
                Sse.Prefetch0(gradientBlock + floats + k);
            }
        }
    }

    /// <summary>Probability targets in 2-D input with small C: blocks of rows transposed into lanes in L1 (K-dim input takes <see cref="RunLanes{TV}"/>'s loop).</summary>
    private static double RunProbabilityLanes<TV>(in Job<float> job, long first, long end, ReadOnlySpan<float> weight, in LaneKernel.Settings settings)
        where TV : struct, IFloatVector<TV>
    {
        int c = job.C, v = TV.Count;
        bool wantGradient = job.Gradient != null, wantLosses = job.Losses != null;
        double sum = 0;
        long p = first;
        float* xs = stackalloc float[LaneClasses * 16];
        float* ts = stackalloc float[LaneClasses * 16];
        float* gs = stackalloc float[LaneClasses * 16];
        for (; p + v <= end; p += v)
        {
            float* x0 = job.Logits + (p * c), t0 = job.Probabilities + (p * c);
            for (int k = 0; k < c; k++)
            {
                for (int j = 0; j < v; j++)
                {
                    xs[(k * v) + j] = x0[(j * c) + k];
                    ts[(k * v) + j] = t0[(j * c) + k];
                }
            }

            sum += ProbabilityLaneKernel.Run<TV>(ref *xs, ref *ts, v, weight, settings, ref *gs, wantGradient, ref wantLosses ? ref job.Losses[p] : ref Unsafe.NullRef<float>(), wantLosses);
            if (wantGradient)
            {
                float* g0 = job.Gradient + (p * c);
                for (int k = 0; k < c; k++)
                {
                    for (int j = 0; j < v; j++)
                    {
                        g0[(j * c) + k] = gs[(k * v) + j];
                    }
                }
            }
        }

        for (; p < end; p++)
        {
            sum += RowAt(job, p, weight);
        }

        return sum;
    }

    /// <summary>Elements per chunk of the online maximum and Σexp (4 KiB of floats: it stays in L1 between its two reads).</summary>
    private const int Chunk = 1024;

    /// <summary>
    /// The longest row the one-chunk row path takes: 8192 floats (32 KiB), which stay in L1/L2 between its three passes
    /// (maximum, Σexp storing the exps, scaling), as a plain C kernel keeps them; longer rows take the online path.
    /// </summary>
    internal const int RowChunk = 8192;

    private static double IndexRow<T>(in Job<T> job, ReadOnlySpan<T> x, int y, ReadOnlySpan<T> weight, Span<T> g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (y == job.IgnoreIndex)
        {
            if (!g.IsEmpty)
            {
                // PyTorch's log_softmax backward gives 0 here unless the row's softmax is NaN
                // (a NaN or +inf logit, or every logit -inf); then the whole row is NaN.
                T rowMax = RowOps.Max(x);
                if (T.IsFinite(rowMax))
                {
                    g.Clear();
                }
                else
                {
                    g.Fill(T.NaN);
                }
            }

            return 0;
        }

        double eps = job.Smoothing;
        bool smooth = eps > 0;
        int c = job.C;
        double xY = double.CreateTruncating(x[y]); // read first: in place, the first pass overwrites the logits
        if (!smooth && c <= RowChunk)
        {
            // One chunk, no smoothing (the common case): max, Σexp storing the exps, one scaling pass; the same
            // arithmetic as the general loop below, without its chunk bookkeeping.
            T rowMax = RowOps.MaxMin(x, out T rowMin);
            if (job.Scale is not (0f or 1f) || job.Margin != null)
            {
                return ScaledRow(job, x, y, xY, rowMax, weight, g);
            }

            bool shifted = job.Offset != null;
            if (shifted && !T.IsFinite(rowMax))
            {
                // A NaN or infinite logit, or a row of −inf: NaN, as PyTorch's softmax gives.
                g.Fill(T.NaN);
                return double.NaN;
            }

            if (T.IsFinite(rowMax))
            {
                // With offsets o: exp(x + o − m) against m = max x + max o, an upper bound of x + o (no overflow; the
                // sum keeps the term of argmax x, at least exp(min o − max o)).
                T m1 = shifted ? rowMax + job.OffsetMax : rowMax;
                T total = shifted
                    ? RowOps.SumExpOffset(x, new ReadOnlySpan<T>(job.Offset, c), m1, g)
                    : RowOps.SumExp(x, rowMax, default, false, out _, g, normal: rowMin - rowMax >= NormalLow<T>());
                double zy = shifted ? double.CreateTruncating(T.CreateTruncating(xY) + job.Offset[y]) : xY;
                double wy1 = weight.IsEmpty ? 1.0 : double.CreateTruncating(weight[y]);
                double logp = (zy - double.CreateTruncating(m1)) - Math.Log(double.CreateTruncating(total));
                double value = -wy1 * logp, hooked = 1;
                if (job.Hook is { } rowHook)
                {
                    value = wy1 * rowHook.Apply(logp, out hooked);
                }

                if (!g.IsEmpty)
                {
                    double a1 = job.Kappa * hooked * wy1;
                    RowOps.ScaleAndOffset(g, T.CreateTruncating(a1 / double.CreateTruncating(total)), T.Zero, default);
                    g[y] -= T.CreateTruncating(job.Kappa * hooked * (1 - eps) * wy1);
                }

                return value;
            }
        }

        int chunks = (c + Chunk - 1) / Chunk;
        T[]? rented = chunks > 512 ? ArrayPool<T>.Shared.Rent(chunks) : null;
        Span<T> chunkMax = rented ?? stackalloc T[chunks];

        // One pass over the row, a chunk at a time: the chunk's maximum, then Σexp against the running maximum
        // (rescaling the sum when it rises), storing the exps into the gradient for the second pass.
        T m = T.NegativeInfinity, sumExp = T.Zero, shiftSum = T.Zero, weightSeen = T.Zero;
        int pending = 0; // leading chunks whose logits are all -inf: kept until a finite maximum appears
        for (int k = 0; k < chunks; k++)
        {
            int start = k * Chunk, length = Math.Min(Chunk, c - start);
            ReadOnlySpan<T> xc = x.Slice(start, length);
            T cm = RowOps.MaxMin(xc, out T cmin);
            if (T.IsNegativeInfinity(cm) && T.IsNegativeInfinity(m) && k < chunks - 1)
            {
                pending++;
                continue;
            }

            if (!(cm <= m))
            {
                T oldM = m;
                m = cm;
                if (!T.IsNegativeInfinity(oldM))
                {
                    sumExp *= SimdMath.Exp(oldM - m);
                    shiftSum -= (m - oldM) * weightSeen;
                }
            }

            for (int q = pending; q > 0; q--)
            {
                sumExp += Accumulate(job, x, weight, g, smooth, k - q, m, chunkMax, ref shiftSum, ref weightSeen, false);
            }

            pending = 0;
            sumExp += Accumulate(job, x, weight, g, smooth, k, m, chunkMax, ref shiftSum, ref weightSeen, cmin - m >= NormalLow<T>());
        }

        double lse = Math.Log(double.CreateTruncating(sumExp));
        double wy = weight.IsEmpty ? 1.0 : double.CreateTruncating(weight[y]);
        double logpY = (xY - double.CreateTruncating(m)) - lse;
        double loss = -wy * logpY, hookScale = 1;
        if (job.Hook is { } hook)
        {
            loss = wy * hook.Apply(logpY, out hookScale);
        }

        if (smooth)
        {
            double smoothTerm = (job.WeightSum * lse) - double.CreateTruncating(shiftSum);
            loss = ((1 - eps) * loss) + (eps / c * smoothTerm);
        }

        if (!g.IsEmpty)
        {
            // Second pass, from cache: g = exp(x − m_chunk)·exp(m_chunk − m)·a/Σ − κ·(ε/C)·w − (target) κ·(1 − ε)·w[y].
            double kappa = job.Kappa;
            double a = kappa * hookScale * (smooth ? ((1 - eps) * wy) + (eps / c * job.WeightSum) : wy);
            double scale = a / double.CreateTruncating(sumExp);
            T offset = smooth ? T.CreateTruncating(kappa * eps / c) : T.Zero;
            for (int k = 0; k < chunks; k++)
            {
                int start = k * Chunk, length = Math.Min(Chunk, c - start);
                T factor = T.CreateTruncating(scale * double.CreateTruncating(SimdMath.Exp(chunkMax[k] - m)));
                RowOps.ScaleAndOffset(g.Slice(start, length), factor, offset, weight.IsEmpty ? default : weight.Slice(start, length));
            }

            g[y] -= T.CreateTruncating(kappa * hookScale * (1 - eps) * wy);
        }

        if (rented is not null)
        {
            ArrayPool<T>.Shared.Return(rented);
        }

        return loss;
    }

    /// <summary>
    /// LDAM's CE(s·(z − max z) − s·Δ_y·e_y, y) on one row of one chunk: the target's term is left out of the vector sum and
    /// added on its own (no cancellation when the margin shrinks a dominant target).
    /// </summary>
    private static double ScaledRow<T>(in Job<T> job, ReadOnlySpan<T> x, int y, double xY, T rowMax, ReadOnlySpan<T> weight, Span<T> g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!T.IsFinite(rowMax))
        {
            g.Fill(T.NaN);
            return double.NaN;
        }

        T s = T.CreateTruncating(job.Scale is 0f ? 1f : job.Scale);
        T dy = ((T.CreateTruncating(xY) - rowMax) * s) - (job.Margin == null ? T.Zero : T.CreateTruncating(job.Margin[y]));
        bool storing = !g.IsEmpty;
        T total = RowOps.SumExpScaled(x, rowMax, s, y, g);
        T ey = SimdMath.Exp(dy);
        total += ey;
        double wy = weight.IsEmpty ? 1.0 : double.CreateTruncating(weight[y]);
        double logp = double.CreateTruncating(dy) - Math.Log(double.CreateTruncating(total));
        if (storing)
        {
            g[y] = ey;
            double a = job.Kappa * wy;
            RowOps.ScaleAndOffset(g, T.CreateTruncating(a / double.CreateTruncating(total)), T.Zero, default);
            g[y] -= T.CreateTruncating(a);
        }

        return -wy * logp;
    }

    /// <summary>
    /// −<see cref="FastExp.NormalRange"/> in T: a row (or chunk) whose minimum minus the maximum is at least this has
    /// every exp(x − m) in the normal range, where <see cref="RowOps.SumExp{T}"/> may take the shorter exp.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T NormalLow<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
        => T.CreateTruncating(-FastExp.NormalRange);

    /// <summary>Σexp of chunk k against the maximum m (storing the exps into the gradient), and its smoothing sums.</summary>
    private static T Accumulate<T>(in Job<T> job, ReadOnlySpan<T> x, ReadOnlySpan<T> weight, Span<T> g, bool smooth, int k, T m, Span<T> chunkMax, ref T shiftSum, ref T weightSeen, bool normal)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int start = k * Chunk, length = Math.Min(Chunk, job.C - start);
        ReadOnlySpan<T> w = weight.IsEmpty ? default : weight.Slice(start, length);
        T s = RowOps.SumExp(x.Slice(start, length), m, w, smooth, out T t, g.IsEmpty ? default : g.Slice(start, length), normal);
        chunkMax[k] = m;
        if (smooth)
        {
            shiftSum += t;
            weightSeen += job.ChunkWeightSums == null ? T.CreateTruncating(length) : job.ChunkWeightSums[k];
        }

        return s;
    }

    private static double ProbabilityRow<T>(in Job<T> job, ReadOnlySpan<T> x, ReadOnlySpan<T> target, ReadOnlySpan<T> weight, Span<T> g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double eps = job.Smoothing;
        T alpha = eps > 0 ? T.CreateTruncating(1 - eps) : T.One;
        T beta = eps > 0 ? T.CreateTruncating(eps / job.C) : T.Zero;
        T m = RowOps.Max(x);
        T sumExp = RowOps.SumExpProbability(x, m, target, alpha, beta, weight, out T shift, out T mass);
        double lse = Math.Log(double.CreateTruncating(sumExp));
        double loss = -double.CreateTruncating(shift) + (double.CreateTruncating(mass) * lse);
        if (!g.IsEmpty)
        {
            double kappa = job.Kappa;
            T scale = T.CreateTruncating(kappa * double.CreateTruncating(mass) / double.CreateTruncating(sumExp));
            RowOps.WriteProbabilityGradient(x, m, scale, T.CreateTruncating(kappa), target, alpha, beta, weight, g);
        }

        return loss;
    }
}
