using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Kernels;

/// <summary>
/// Products at most 16 columns wide, such as a 10-class layer's forward pass (64×10×128, B transposed): op(B) is
/// packed into one panel one vector wide (two 8-wide vectors for 9–16 columns without AVX-512) and C computed eight
/// rows at a time (four with two vectors), with A read where it lies. The packed path's tiles would spend most of
/// their multiply-adds on zero padding, and packing A costs more than the multiply-adds.
/// </summary>
/// <remarks>
/// Each element is summed as the packed path sums it: k in the same blocks (<see cref="KBlock"/>), each block
/// from zero by fused multiply-adds in k order, merged into C in block order (α·sum + β·C for the first block,
/// α·sum + C after). So the bits are those of the packed path.
/// </remarks>
public static partial class Sgemm
{
    /// <summary>The widest product that takes the narrow path.</summary>
    private const int NarrowWidth = 16;

    /// <summary>Whether <paramref name="job"/> takes the narrow path: n ≤ 16, few enough flops for one thread, and 256- or 512-bit vectors.</summary>
    private static bool IsNarrow(in Job job) =>
        Vector256.IsHardwareAccelerated && job.N <= NarrowWidth && 2L * job.M * job.N * job.K < ParallelFlops;

    /// <summary>C = α·op(A)·op(B) + β·C for <see cref="IsNarrow"/> products.</summary>
    private static void RunNarrow(in Job job)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            RunNarrow<V512>(job);
        }
        else
        {
            RunNarrow<V256>(job);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static unsafe void RunNarrow<TV>(in Job job)
        where TV : struct, IFloatVector<TV>
    {
        int v = TV.Count, w = job.N <= v ? v : 2 * v;
        long aRow = job.TransA == Transpose.No ? job.Lda : 1, aCol = job.TransA == Transpose.No ? 1 : job.Lda;
        int kb = KBlock(job.K);
        float[] rented = ArrayPool<float>.Shared.Rent(kb * w);
        float* lanes = stackalloc float[16];
        try
        {
            fixed (float* panel = rented)
            {
                for (int pc = 0; pc < job.K; pc += kb)
                {
                    int kc = Math.Min(kb, job.K - pc);
                    PackNarrow(job, pc, kc, w, panel);
                    var merge = new NarrowMerge(job, pc == 0, lanes);
                    int i = 0;
                    if (w == v)
                    {
                        for (; i + 8 <= job.M; i += 8)
                        {
                            NarrowRows8<TV>(job.A + (i * aRow) + (pc * aCol), aRow, aCol, panel, kc, job.C + ((long)i * job.Ldc), job.Ldc, merge);
                        }
                    }
                    else
                    {
                        for (; i + 4 <= job.M; i += 4)
                        {
                            NarrowRows4x2<TV>(job.A + (i * aRow) + (pc * aCol), aRow, aCol, panel, w, kc, job.C + ((long)i * job.Ldc), job.Ldc, merge, job.N - v);
                        }
                    }

                    for (; i < job.M; i++)
                    {
                        NarrowRow<TV>(job.A + (i * aRow) + (pc * aCol), aCol, panel, w, kc, job.C + ((long)i * job.Ldc), merge);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>One row of C against the <paramref name="w"/>-wide panel (one or two vectors, both summed in one pass).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void NarrowRow<TV>(float* a, long aCol, float* panel, int w, int kc, float* c, in NarrowMerge merge)
        where TV : struct, IFloatVector<TV>
    {
        int v = TV.Count;
        if (w == v)
        {
            TV acc = default;
            for (int p = 0; p < kc; p++)
            {
                acc = TV.FusedMultiplyAdd(TV.Create(a[p * aCol]), TV.Load(ref panel[p * w]), acc);
            }

            merge.Put(c, acc, merge.N);
            return;
        }

        TV acc0 = default, acc1 = default;
        for (int p = 0; p < kc; p++)
        {
            TV x = TV.Create(a[p * aCol]);
            acc0 = TV.FusedMultiplyAdd(x, TV.Load(ref panel[p * w]), acc0);
            acc1 = TV.FusedMultiplyAdd(x, TV.Load(ref panel[(p * w) + v]), acc1);
        }

        merge.Put(c, acc0, v);
        merge.Put(c + v, acc1, merge.N - v);
    }

    /// <summary>Eight rows of C, one vector wide (the panel is one vector wide). Not inlined: the caller's inlining budget would run out and leave the vector operations as calls.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void NarrowRows8<TV>(float* a, long aRow, long aCol, float* b, int kc, float* c, long ldc, in NarrowMerge merge)
        where TV : struct, IFloatVector<TV>
    {
        TV c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int p = 0; p < kc; p++, a += aCol, b += TV.Count)
        {
            TV bv = TV.Load(ref *b);
            c0 = TV.FusedMultiplyAdd(TV.Create(a[0]), bv, c0);
            c1 = TV.FusedMultiplyAdd(TV.Create(a[aRow]), bv, c1);
            c2 = TV.FusedMultiplyAdd(TV.Create(a[2 * aRow]), bv, c2);
            c3 = TV.FusedMultiplyAdd(TV.Create(a[3 * aRow]), bv, c3);
            c4 = TV.FusedMultiplyAdd(TV.Create(a[4 * aRow]), bv, c4);
            c5 = TV.FusedMultiplyAdd(TV.Create(a[5 * aRow]), bv, c5);
            c6 = TV.FusedMultiplyAdd(TV.Create(a[6 * aRow]), bv, c6);
            c7 = TV.FusedMultiplyAdd(TV.Create(a[7 * aRow]), bv, c7);
        }

        int n = merge.N;
        merge.Put(c, c0, n);
        merge.Put(c + ldc, c1, n);
        merge.Put(c + (2 * ldc), c2, n);
        merge.Put(c + (3 * ldc), c3, n);
        merge.Put(c + (4 * ldc), c4, n);
        merge.Put(c + (5 * ldc), c5, n);
        merge.Put(c + (6 * ldc), c6, n);
        merge.Put(c + (7 * ldc), c7, n);
    }

    /// <summary>
    /// Four rows of C, two vectors wide, from B's rows <paramref name="ldb"/> apart (the narrow panel, or B itself for
    /// <see cref="RunSmallKBlock"/>); the second vector's first <paramref name="secondColumns"/> columns are merged.
    /// Not inlined, as <see cref="NarrowRows8"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void NarrowRows4x2<TV>(float* a, long aRow, long aCol, float* b, long ldb, int kc, float* c, long ldc, in NarrowMerge merge, int secondColumns)
        where TV : struct, IFloatVector<TV>
    {
        TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        int v = TV.Count;
        for (int p = 0; p < kc; p++, a += aCol, b += ldb)
        {
            TV b0 = TV.Load(ref *b), b1 = TV.Load(ref b[v]);
            TV x = TV.Create(a[0]);
            c00 = TV.FusedMultiplyAdd(x, b0, c00);
            c01 = TV.FusedMultiplyAdd(x, b1, c01);
            x = TV.Create(a[aRow]);
            c10 = TV.FusedMultiplyAdd(x, b0, c10);
            c11 = TV.FusedMultiplyAdd(x, b1, c11);
            x = TV.Create(a[2 * aRow]);
            c20 = TV.FusedMultiplyAdd(x, b0, c20);
            c21 = TV.FusedMultiplyAdd(x, b1, c21);
            x = TV.Create(a[3 * aRow]);
            c30 = TV.FusedMultiplyAdd(x, b0, c30);
            c31 = TV.FusedMultiplyAdd(x, b1, c31);
        }

        int n = secondColumns;
        merge.Put(c, c00, v);
        merge.Put(c + v, c01, n);
        merge.Put(c + ldc, c10, v);
        merge.Put(c + ldc + v, c11, n);
        merge.Put(c + (2 * ldc), c20, v);
        merge.Put(c + (2 * ldc) + v, c21, n);
        merge.Put(c + (3 * ldc), c30, v);
        merge.Put(c + (3 * ldc) + v, c31, n);
    }

    /// <summary>Packs op(B)[pc..pc+kc, 0..n] into kc rows of <paramref name="w"/>, zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackNarrow(in Job job, int pc, int kc, int w, float* panel)
    {
        new Span<float>(panel, kc * w).Clear();
        if (job.TransB == Transpose.No)
        {
            for (int p = 0; p < kc; p++)
            {
                new ReadOnlySpan<float>(job.B + ((long)(pc + p) * job.Ldb), job.N).CopyTo(new Span<float>(panel + (p * w), job.N));
            }

            return;
        }

        int done = 0;
        if (Avx.IsSupported)
        {
            // Bᵀ: eight of its rows (columns of op(B)) at a time, 8×8 blocks transposed in registers (a copy: the
            // same bits as the scalar loop below, which takes the rest).
            for (; done + 8 <= job.N; done += 8)
            {
                float* src = job.B + ((long)done * job.Ldb) + pc;
                int p = 0;
                for (; p + 8 <= kc; p += 8)
                {
                    Transpose8x8(src + p, job.Ldb, panel + ((long)p * w) + done, w);
                }

                for (; p < kc; p++)
                {
                    for (int j = 0; j < 8; j++)
                    {
                        panel[((long)p * w) + done + j] = src[((long)j * job.Ldb) + p];
                    }
                }
            }
        }

        for (int j = done; j < job.N; j++)
        {
            float* src = job.B + ((long)j * job.Ldb) + pc;
            for (int p = 0; p < kc; p++)
            {
                panel[(p * w) + j] = src[p];
            }
        }
    }

    /// <summary>The packed path's merge of one k block's sums into C: α·sum + β·C for the first block (α·sum when β = 0), α·sum + C after.</summary>
    private readonly unsafe struct NarrowMerge(in Job job, bool first, float* lanes)
    {
        /// <summary>The columns of C.</summary>
        public readonly int N = job.N;
        private readonly float _alpha = job.Alpha, _beta = first ? job.Beta : 1f;
        private readonly bool _overwrite = first && job.Beta == 0;
        private readonly float* _lanes = lanes;

        /// <summary>Merges the first <paramref name="count"/> lanes of <paramref name="acc"/> (all of them when it is at least their number) into c.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Put<TV>(float* c, TV acc, int count)
            where TV : struct, IFloatVector<TV>
        {
            if (count >= TV.Count)
            {
                MergeVector(c, acc, _alpha, _beta, _overwrite);
                return;
            }

            TV.Store(acc, ref *_lanes);
            Merge(new ReadOnlySpan<float>(_lanes, count), new Span<float>(c, count), _alpha, _beta, _overwrite);
        }
    }

    /// <summary>c[0..TV.Count] = α·acc, plus β·c unless <paramref name="overwrite"/>: the packed path's merge.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MergeVector<TV>(float* c, TV acc, float alpha, float beta, bool overwrite)
        where TV : struct, IFloatVector<TV>
    {
        TV v = TV.Multiply(acc, TV.Create(alpha));
        if (!overwrite)
        {
            v = TV.Add(v, TV.Multiply(TV.Create(beta), TV.Load(ref *c)));
        }

        TV.Store(v, ref *c);
    }
}
