using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// Small products with op(B) as stored and a short inner dimension or few rows, such as a 10-class layer's dX
/// (64×128×10) and dW (10×128×64): C is computed straight from A and B, four rows by 32 columns at a time, with no
/// packing. Packing and merging a 6×32 tile for every 10 multiply-adds, or packing B for ten rows of C, costs more
/// than the multiply-adds themselves.
/// </summary>
/// <remarks>
/// Each element is summed as the packed path sums it: k in the same blocks (<see cref="KBlock"/>), each block from
/// zero by fused multiply-adds in k order, merged into C in block order (α·sum + β·C for the first block, α·sum + C
/// after). So the bits are those of the packed path.
/// </remarks>
public static partial class Sgemm
{
    /// <summary>The longest k, or the most rows of C, that take the direct path.</summary>
    private const int SmallK = 16;

    /// <summary>Whether <paramref name="job"/> takes the direct path: k or m at most <see cref="SmallK"/>, B as stored, few enough flops for one thread, and 512-bit vectors.</summary>
    private static bool IsSmallK(in Job job) =>
        Vector512.IsHardwareAccelerated && (job.K <= SmallK || job.M <= SmallK) && job.TransB == Transpose.No
        && 2L * job.M * job.N * job.K < ParallelFlops;

    /// <summary>C = α·op(A)·B + β·C for <see cref="IsSmallK"/> products: one pass over C per k block.</summary>
    private static void RunSmallK(in Job job)
    {
        for (int pc = 0, kb = KBlock(job.K); pc < job.K; pc += kb)
        {
            RunSmallKBlock(job, pc, Math.Min(kb, job.K - pc));
        }
    }

    /// <summary>Merges op(A)[:, pc..pc+kc]·B[pc..pc+kc, :] into C by rows of C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunSmallKBlock(in Job job, int pc, int kc)
    {
        long aRow = job.TransA == Transpose.No ? job.Lda : 1, aCol = job.TransA == Transpose.No ? 1 : job.Lda;
        float beta = pc == 0 ? job.Beta : 1f;
        bool overwrite = pc == 0 && job.Beta == 0;
        int i = 0;
        for (; i + 4 <= job.M; i += 4)
        {
            float* a = job.A + (i * aRow) + (pc * aCol);
            int j = 0;
            for (; j + 32 <= job.N; j += 32)
            {
                Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
                Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
                float* b = job.B + ((long)pc * job.Ldb) + j;
                for (int p = 0; p < kc; p++, b += job.Ldb)
                {
                    Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
                    float* ap = a + (p * aCol);
                    Vector512<float> x = Vector512.Create(*ap);
                    c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
                    c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
                    x = Vector512.Create(ap[aRow]);
                    c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
                    c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
                    x = Vector512.Create(ap[2 * aRow]);
                    c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
                    c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
                    x = Vector512.Create(ap[3 * aRow]);
                    c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
                    c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
                }

                float* c = job.C + ((long)i * job.Ldc) + j;
                MergeSixteen(c, c00, job.Alpha, beta, overwrite);
                MergeSixteen(c + 16, c01, job.Alpha, beta, overwrite);
                MergeSixteen(c + job.Ldc, c10, job.Alpha, beta, overwrite);
                MergeSixteen(c + job.Ldc + 16, c11, job.Alpha, beta, overwrite);
                MergeSixteen(c + (2L * job.Ldc), c20, job.Alpha, beta, overwrite);
                MergeSixteen(c + (2L * job.Ldc) + 16, c21, job.Alpha, beta, overwrite);
                MergeSixteen(c + (3L * job.Ldc), c30, job.Alpha, beta, overwrite);
                MergeSixteen(c + (3L * job.Ldc) + 16, c31, job.Alpha, beta, overwrite);
            }

            for (int r = 0; r < 4; r++)
            {
                SmallKRowTail(job, i + r, j, pc, kc, aRow, aCol, beta, overwrite);
            }
        }

        for (; i < job.M; i++)
        {
            SmallKRowTail(job, i, 0, pc, kc, aRow, aCol, beta, overwrite);
        }
    }

    /// <summary>Row <paramref name="i"/> of C from column <paramref name="j"/> on: 16 columns at a time, then one.</summary>
    private static unsafe void SmallKRowTail(in Job job, int i, int j, int pc, int kc, long aRow, long aCol, float beta, bool overwrite)
    {
        float* a = job.A + (i * aRow) + (pc * aCol);
        float* b = job.B + ((long)pc * job.Ldb);
        float* c = job.C + ((long)i * job.Ldc);
        for (; j + 16 <= job.N; j += 16)
        {
            Vector512<float> acc = default;
            for (int p = 0; p < kc; p++)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.Create(a[p * aCol]), Vector512.Load(b + ((long)p * job.Ldb) + j), acc);
            }

            MergeSixteen(c + j, acc, job.Alpha, beta, overwrite);
        }

        for (; j < job.N; j++)
        {
            float acc = 0f;
            for (int p = 0; p < kc; p++)
            {
                acc = MathF.FusedMultiplyAdd(a[p * aCol], b[((long)p * job.Ldb) + j], acc);
            }

            c[j] = overwrite ? job.Alpha * acc : (job.Alpha * acc) + (beta * c[j]);
        }
    }

    /// <summary>c[0..16] = α·acc, plus β·c unless <paramref name="overwrite"/>: the packed path's merge.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MergeSixteen(float* c, Vector512<float> acc, float alpha, float beta, bool overwrite)
    {
        Vector512<float> v = acc * alpha;
        if (!overwrite)
        {
            v += beta * Vector512.Load(c);
        }

        v.Store(c);
    }
}
