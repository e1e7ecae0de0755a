using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// Small products with op(B) as stored and a short inner dimension or few rows, such as a 10-class layer's dX
/// (64×128×10) and dW (10×128×64): C is computed straight from A and B, four rows by two vectors (32 columns with
/// AVX-512, 16 with AVX2) at a time, with no packing. Packing and merging a whole tile for every 10 multiply-adds,
/// or packing B for ten rows of C, costs more than the multiply-adds themselves.
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

    /// <summary>Whether <paramref name="job"/> takes the direct path: k or m at most <see cref="SmallK"/>, B as stored, few enough flops for one thread, and 256- or 512-bit vectors.</summary>
    private static bool IsSmallK(in Job job) =>
        Vector256.IsHardwareAccelerated && (job.K <= SmallK || job.M <= SmallK) && job.TransB == Transpose.No
        && 2L * job.M * job.N * job.K < ParallelFlops;

    /// <summary>C = α·op(A)·B + β·C for <see cref="IsSmallK"/> products: one pass over C per k block.</summary>
    private static void RunSmallK(in Job job)
    {
        for (int pc = 0, kb = KBlock(job.K); pc < job.K; pc += kb)
        {
            int kc = Math.Min(kb, job.K - pc);
            if (Vector512.IsHardwareAccelerated)
            {
                RunSmallKBlock<V512>(job, pc, kc);
            }
            else
            {
                RunSmallKBlock<V256>(job, pc, kc);
            }
        }
    }

    /// <summary>Merges op(A)[:, pc..pc+kc]·B[pc..pc+kc, :] into C by rows of C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunSmallKBlock<TV>(in Job job, int pc, int kc)
        where TV : struct, IFloatVector<TV>
    {
        long aRow = job.TransA == Transpose.No ? job.Lda : 1, aCol = job.TransA == Transpose.No ? 1 : job.Lda;
        float beta = pc == 0 ? job.Beta : 1f;
        bool overwrite = pc == 0 && job.Beta == 0;
        int v = TV.Count;
        var merge = new NarrowMerge(job, pc == 0, null);
        int i = 0;
        for (; i + 4 <= job.M; i += 4)
        {
            float* a = job.A + (i * aRow) + (pc * aCol);
            int j = 0;
            for (; j + (2 * v) <= job.N; j += 2 * v)
            {
                NarrowRows4x2<TV>(a, aRow, aCol, job.B + ((long)pc * job.Ldb) + j, job.Ldb, kc, job.C + ((long)i * job.Ldc) + j, job.Ldc, merge, v);
            }

            for (int r = 0; r < 4; r++)
            {
                SmallKRowTail<TV>(job, i + r, j, pc, kc, aRow, aCol, beta, overwrite);
            }
        }

        for (; i < job.M; i++)
        {
            SmallKRowTail<TV>(job, i, 0, pc, kc, aRow, aCol, beta, overwrite);
        }
    }

    /// <summary>Row <paramref name="i"/> of C from column <paramref name="j"/> on: four vectors of columns at a time, then one, then single columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SmallKRowTail<TV>(in Job job, int i, int j, int pc, int kc, long aRow, long aCol, float beta, bool overwrite)
        where TV : struct, IFloatVector<TV>
    {
        float* a = job.A + (i * aRow) + (pc * aCol);
        float* b = job.B + ((long)pc * job.Ldb);
        float* c = job.C + ((long)i * job.Ldc);
        int v = TV.Count;
        for (; j + (4 * v) <= job.N; j += 4 * v)
        {
            // Four vectors of the row at once: four independent sums (one alone waits on each multiply-add's latency).
            TV acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            float* bp = b + j;
            for (int p = 0; p < kc; p++, bp += job.Ldb)
            {
                TV x = TV.Create(a[p * aCol]);
                acc0 = TV.FusedMultiplyAdd(x, TV.Load(ref *bp), acc0);
                acc1 = TV.FusedMultiplyAdd(x, TV.Load(ref bp[v]), acc1);
                acc2 = TV.FusedMultiplyAdd(x, TV.Load(ref bp[2 * v]), acc2);
                acc3 = TV.FusedMultiplyAdd(x, TV.Load(ref bp[3 * v]), acc3);
            }

            MergeVector(c + j, acc0, job.Alpha, beta, overwrite);
            MergeVector(c + j + v, acc1, job.Alpha, beta, overwrite);
            MergeVector(c + j + (2 * v), acc2, job.Alpha, beta, overwrite);
            MergeVector(c + j + (3 * v), acc3, job.Alpha, beta, overwrite);
        }

        for (; j + v <= job.N; j += v)
        {
            TV acc = default;
            for (int p = 0; p < kc; p++)
            {
                acc = TV.FusedMultiplyAdd(TV.Create(a[p * aCol]), TV.Load(ref b[((long)p * job.Ldb) + j]), acc);
            }

            MergeVector(c + j, acc, job.Alpha, beta, overwrite);
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
}
