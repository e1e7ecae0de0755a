using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// Products at most 16 columns wide, such as a 10-class layer's forward pass (64×10×128, B transposed): op(B) is
/// packed into one 16-wide panel and C computed eight rows at a time, with A read where it lies. The packed
/// path's 32-wide tiles would spend more than two thirds of their multiply-adds on zero padding.
/// </summary>
/// <remarks>
/// Each element is summed as the packed path sums it: k in the same blocks (<see cref="KBlock"/>), each block
/// from zero by fused multiply-adds in k order, merged into C in block order (α·sum + β·C for the first block,
/// α·sum + C after). So the bits are those of the packed path.
/// </remarks>
public static partial class Sgemm
{
    /// <summary>Whether <paramref name="job"/> takes the narrow path: n ≤ 16, few enough flops for one thread, and 512-bit vectors.</summary>
    private static bool IsNarrow(in Job job) =>
        Vector512.IsHardwareAccelerated && job.N <= Vector512<float>.Count && 2L * job.M * job.N * job.K < ParallelFlops;

    /// <summary>C = α·op(A)·op(B) + β·C for <see cref="IsNarrow"/> products.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static unsafe void RunNarrow(in Job job)
    {
        const int W = 16;
        long aRow = job.TransA == Transpose.No ? job.Lda : 1, aCol = job.TransA == Transpose.No ? 1 : job.Lda;
        int kb = KBlock(job.K);
        float[] rented = ArrayPool<float>.Shared.Rent(kb * W);
        float* lanes = stackalloc float[W];
        try
        {
            fixed (float* panel = rented)
            {
                for (int pc = 0; pc < job.K; pc += kb)
                {
                    int kc = Math.Min(kb, job.K - pc);
                    PackNarrow(job, pc, kc, panel);
                    bool first = pc == 0;
                    float beta = first ? job.Beta : 1f;
                    bool overwrite = first && job.Beta == 0;
                    int i = 0;
                    for (; i + 8 <= job.M; i += 8)
                    {
                        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
                        Vector512<float> c4 = default, c5 = default, c6 = default, c7 = default;
                        float* a = job.A + (i * aRow) + (pc * aCol);
                        float* b = panel;
                        for (int p = 0; p < kc; p++, a += aCol, b += W)
                        {
                            Vector512<float> bv = Vector512.Load(b);
                            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), bv, c0);
                            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[aRow]), bv, c1);
                            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2 * aRow]), bv, c2);
                            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3 * aRow]), bv, c3);
                            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4 * aRow]), bv, c4);
                            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5 * aRow]), bv, c5);
                            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6 * aRow]), bv, c6);
                            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7 * aRow]), bv, c7);
                        }

                        float* c = job.C + ((long)i * job.Ldc);
                        MergeNarrow(c, c0, job, beta, overwrite, lanes);
                        MergeNarrow(c + job.Ldc, c1, job, beta, overwrite, lanes);
                        MergeNarrow(c + (2L * job.Ldc), c2, job, beta, overwrite, lanes);
                        MergeNarrow(c + (3L * job.Ldc), c3, job, beta, overwrite, lanes);
                        MergeNarrow(c + (4L * job.Ldc), c4, job, beta, overwrite, lanes);
                        MergeNarrow(c + (5L * job.Ldc), c5, job, beta, overwrite, lanes);
                        MergeNarrow(c + (6L * job.Ldc), c6, job, beta, overwrite, lanes);
                        MergeNarrow(c + (7L * job.Ldc), c7, job, beta, overwrite, lanes);
                    }

                    for (; i < job.M; i++)
                    {
                        Vector512<float> acc = default;
                        float* a = job.A + (i * aRow) + (pc * aCol);
                        for (int p = 0; p < kc; p++)
                        {
                            acc = Vector512.FusedMultiplyAdd(Vector512.Create(a[p * aCol]), Vector512.Load(panel + (p * W)), acc);
                        }

                        MergeNarrow(job.C + ((long)i * job.Ldc), acc, job, beta, overwrite, lanes);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>Packs op(B)[pc..pc+kc, 0..n] into kc rows of 16, zero-padded.</summary>
    private static unsafe void PackNarrow(in Job job, int pc, int kc, float* panel)
    {
        new Span<float>(panel, kc * 16).Clear();
        if (job.TransB == Transpose.No)
        {
            for (int p = 0; p < kc; p++)
            {
                new ReadOnlySpan<float>(job.B + ((long)(pc + p) * job.Ldb), job.N).CopyTo(new Span<float>(panel + (p * 16), job.N));
            }

            return;
        }

        for (int j = 0; j < job.N; j++)
        {
            float* src = job.B + ((long)j * job.Ldb) + pc;
            for (int p = 0; p < kc; p++)
            {
                panel[(p * 16) + j] = src[p];
            }
        }
    }

    /// <summary>The first n elements of c = α·acc, plus β·c unless <paramref name="overwrite"/>: the packed path's merge.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MergeNarrow(float* c, Vector512<float> acc, in Job job, float beta, bool overwrite, float* lanes)
    {
        if (job.N == 16)
        {
            MergeSixteen(c, acc, job.Alpha, beta, overwrite);
            return;
        }

        acc.Store(lanes);
        Merge(new ReadOnlySpan<float>(lanes, job.N), new Span<float>(c, job.N), job.Alpha, beta, overwrite);
    }
}
