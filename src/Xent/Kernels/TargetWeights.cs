using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Kernels;

/// <summary>
/// The mean's denominator for class-index targets, Σ w[y] and the count of targets that are not ignored, in fixed blocks
/// of <see cref="BlockTargets"/> targets on the <see cref="WorkerPool"/>. Each block checks its targets against
/// [0, C) and reports its first offender; the blocks' results are combined in block order, so the first offender in scan
/// order wins and the total does not depend on <see cref="Parallelism.MaxDegree"/>.
/// </summary>
/// <remarks>
/// With class weights this pass runs before the kernel, because the gradient's scale 1/Σw must be known before it is
/// written; single-threaded it was a fixed cost that a second thread did not share (128 MiB of targets at C = 2 for
/// 256 MiB of logits).
/// </remarks>
internal static unsafe class TargetWeights
{
    /// <summary>Targets a block holds (1 MiB); the blocks depend only on the length.</summary>
    internal const int BlockTargets = 1 << 18;

    /// <summary>The most classes whose targets are counted by class (then Σ w[y] = Σ_k w_k·n_k) rather than gathered.</summary>
    private const int CountedClasses = 8;

    /// <summary>
    /// Σ w[y] and the count over targets that are not ignored (an empty <paramref name="weight"/> counts each as 1).
    /// Float weights need AVX2 for the gather; the caller takes its scalar loop otherwise.
    /// </summary>
    /// <param name="targets">The targets.</param>
    /// <param name="c">C.</param>
    /// <param name="ignoreIndex">The ignored target value.</param>
    /// <param name="weight">The class weights, C of them, or empty.</param>
    /// <returns>The total weight and the count.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A target is outside [0, C) and is not the ignore index.</exception>
    public static (double TotalWeight, long Count) Sum(ReadOnlySpan<int> targets, int c, int ignoreIndex, ReadOnlySpan<float> weight)
    {
        int blocks = Math.Max(1, (targets.Length + BlockTargets - 1) / BlockTargets);
        Mode mode = weight.IsEmpty ? Mode.Unweighted : c <= CountedClasses ? Mode.Counted : Mode.Gathered;
        long[] counts = ArrayPool<long>.Shared.Rent(blocks * CountedClasses);
        double[] sums = ArrayPool<double>.Shared.Rent(blocks);
        int[] bad = ArrayPool<int>.Shared.Rent(blocks);
        try
        {
            fixed (int* t = targets)
            fixed (float* w = weight)
            {
                Work work = Work.ForThisThread;
                work.Targets = t;
                work.Weight = w;
                (work.Length, work.C, work.IgnoreIndex, work.Mode) = (targets.Length, c, ignoreIndex, mode);
                (work.Counts, work.Sums, work.Bad) = (counts, sums, bad);
                if (blocks == 1 || Parallelism.MaxDegree == 1)
                {
                    for (int b = 0; b < blocks; b++)
                    {
                        work.Run(b);
                    }
                }
                else
                {
                    WorkerPool.For(blocks, Parallelism.MaxDegree, work);
                }

                (work.Counts, work.Sums, work.Bad) = (null, null, null);
                work.Targets = null;
                work.Weight = null;
            }

            return Combine(targets, blocks, mode, weight, counts, sums, bad);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(counts);
            ArrayPool<double>.Shared.Return(sums);
            ArrayPool<int>.Shared.Return(bad);
        }
    }

    private static (double TotalWeight, long Count) Combine(ReadOnlySpan<int> targets, int blocks, Mode mode, ReadOnlySpan<float> weight, long[] counts, double[] sums, int[] bad)
    {
        for (int b = 0; b < blocks; b++)
        {
            if (bad[b] >= 0)
            {
                throw TargetCount.OutOfBounds(targets[(b * BlockTargets) + bad[b]]);
            }
        }

        double total = 0;
        long count = 0;
        if (mode == Mode.Counted)
        {
            for (int k = 0; k < weight.Length; k++)
            {
                long n = 0;
                for (int b = 0; b < blocks; b++)
                {
                    n += counts[(b * CountedClasses) + k];
                }

                total += weight[k] * (double)n;
                count += n;
            }

            return (total, count);
        }

        for (int b = 0; b < blocks; b++)
        {
            total += sums[b];
            count += counts[b * CountedClasses];
        }

        return (mode == Mode.Unweighted ? count : total, count);
    }

    /// <summary>How a block adds up its targets.</summary>
    private enum Mode
    {
        /// <summary>No weights: the count of targets that are not ignored.</summary>
        Unweighted,

        /// <summary>At most <see cref="CountedClasses"/> classes: the targets of each class are counted.</summary>
        Counted,

        /// <summary>More classes: the weights are gathered 8 at a time and summed in double lanes.</summary>
        Gathered,
    }

    /// <summary>The blocks of one call, reused per calling thread so that parallel calls allocate nothing.</summary>
    private sealed class Work : IParallelWork
    {
        [ThreadStatic]
        private static Work? t_instance;

        public int* Targets;
        public float* Weight;
        public int Length, C, IgnoreIndex;
        public Mode Mode;
        public long[]? Counts;
        public double[]? Sums;
        public int[]? Bad;

        public static Work ForThisThread => t_instance ??= new Work();

        public void Run(int index)
        {
            int from = index * BlockTargets, length = Math.Min(BlockTargets, Length - from);
            var targets = new ReadOnlySpan<int>(Targets + from, length);
            Span<long> counts = Counts.AsSpan(index * CountedClasses, CountedClasses);
            counts.Clear();
            Sums![index] = 0;
            switch (Mode)
            {
                case Mode.Unweighted:
                    long ignored = TargetCount.Ignored(targets, C, IgnoreIndex, out Bad![index]);
                    counts[0] = length - ignored;
                    break;
                case Mode.Counted:
                    Bad![index] = CountByClass(targets, C, IgnoreIndex, counts);
                    break;
                default:
                    Bad![index] = Gather(targets, C, IgnoreIndex, Weight, out Sums[index], out counts[0]);
                    break;
            }
        }
    }

    /// <summary>
    /// Up to 8 classes: each class's targets counted in vector lanes (a compare and a subtract per class and 8 targets).
    /// The gather and the widening to double took 20% of a two-class call with weights at 256 MiB on a Zen 3 core, and
    /// Σ_k w_k·n_k is exact up to its one rounding per class. Returns the first offender's position, or −1.
    /// </summary>
    private static int CountByClass(ReadOnlySpan<int> targets, int c, int ignoreIndex, Span<long> counts)
    {
        var ignore = Vector256.Create(ignoreIndex);
        var classes = Vector256.Create((uint)c);
        Vector256<int> n0 = default, n1 = default, n2 = default, n3 = default, n4 = default, n5 = default, n6 = default, n7 = default;
        int i = 0;
        for (; i <= targets.Length - 8; i += 8)
        {
            if (!Load(targets.Slice(i, 8), ignore, classes, out Vector256<int> y, out Vector256<int> isIgnored))
            {
                break; // the scalar loop below finds the first offender
            }

            // A class equal to ignore_index is never counted (its targets are the ignored ones), so the compares need
            // no mask; the lanes count down by the compares' −1 (a block's 2^15 targets a lane cannot overflow them).
            n0 += Vector256.Equals(y, Vector256<int>.Zero);
            n1 += Vector256.Equals(y, Vector256<int>.One);
            if (c > 2)
            {
                n2 += Vector256.Equals(y, Vector256.Create(2));
                n3 += Vector256.Equals(y, Vector256.Create(3));
                if (c > 4)
                {
                    n4 += Vector256.Equals(y, Vector256.Create(4));
                    n5 += Vector256.Equals(y, Vector256.Create(5));
                    n6 += Vector256.Equals(y, Vector256.Create(6));
                    n7 += Vector256.Equals(y, Vector256.Create(7));
                }
            }
        }

        ReadOnlySpan<Vector256<int>> lanes = [n0, n1, n2, n3, n4, n5, n6, n7];
        for (int k = 0; k < c; k++)
        {
            if (k != ignoreIndex)
            {
                counts[k] = -(long)Vector256.Sum(Vector256.WidenLower(lanes[k]) + Vector256.WidenUpper(lanes[k]));
            }
        }

        // The tail, and a step that held an offender: find it first, then count.
        if (TargetCount.Ignored(targets[i..], c, ignoreIndex, out int bad) < 0)
        {
            return i + bad;
        }

        for (; i < targets.Length; i++)
        {
            if (targets[i] != ignoreIndex)
            {
                counts[targets[i]]++;
            }
        }

        return -1;
    }

    /// <summary>More than 8 classes: Σ w[y] gathered 8 at a time and summed in double lanes. Returns the first offender's position, or −1.</summary>
    private static int Gather(ReadOnlySpan<int> targets, int c, int ignoreIndex, float* w, out double sum, out long count)
    {
        var ignore = Vector256.Create(ignoreIndex);
        var classes = Vector256.Create((uint)c);
        Vector256<double> total = Vector256<double>.Zero;
        long ignored = 0;
        int i = 0;
        for (; i <= targets.Length - 8; i += 8)
        {
            if (!Load(targets.Slice(i, 8), ignore, classes, out Vector256<int> y, out Vector256<int> isIgnored))
            {
                break; // the scalar loop below finds the first offender
            }

            Vector256<float> wy = Avx2.GatherVector256(w, Vector256.AndNot(y, isIgnored), 4);
            wy = Vector256.AndNot(wy.AsInt32(), isIgnored).AsSingle();
            (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(wy);
            total += lo + hi;
            ignored += System.Numerics.BitOperations.PopCount(isIgnored.ExtractMostSignificantBits());
        }

        sum = Vector256.Sum(total);
        count = i - ignored;
        if (TargetCount.Ignored(targets[i..], c, ignoreIndex, out int bad) < 0)
        {
            return i + bad;
        }

        for (; i < targets.Length; i++)
        {
            if (targets[i] != ignoreIndex)
            {
                sum += w[targets[i]];
                count++;
            }
        }

        return -1;
    }

    /// <summary>8 targets and their ignore mask; false where one of them is outside [0, C) and not ignored.</summary>
    private static bool Load(ReadOnlySpan<int> targets, Vector256<int> ignore, Vector256<uint> classes, out Vector256<int> y, out Vector256<int> isIgnored)
    {
        y = Vector256.Create(targets);
        isIgnored = Vector256.Equals(y, ignore);
        return Vector256.AndNot(Vector256.GreaterThanOrEqual(y.AsUInt32(), classes).AsInt32(), isIgnored) == Vector256<int>.Zero;
    }
}
