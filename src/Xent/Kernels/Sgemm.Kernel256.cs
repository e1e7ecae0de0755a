using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// The AVX2 microkernel written with <see cref="Vector256{T}"/> itself rather than as <see cref="MicroKernel{TV}"/> over
/// <see cref="V256"/>: the same operations and bits, but the JIT keeps each accumulator in its register across the loop.
/// Through the wrapper struct it writes each row's second multiply-add into the broadcast's dying register and moves
/// six accumulators back at the end of every iteration; measured on the AVX2 host (Zen 3, eighth session, one thread,
/// 1024³ against OpenBLAS's Zen kernel in the same process, three runs each) the generic kernel took 1.099–1.106× OpenBLAS's
/// time and this one 1.050–1.054× (docs/benchmarks.md). The AVX-512 path keeps the generic kernel (32 registers).
/// </summary>
public static partial class Sgemm
{

    /// <summary>
    /// C[6×16] = α·Σ_p aPanel[p, 0..6] ⊗ bPanel[p, 0..16] + β·C (C overwritten when <paramref name="overwrite"/>): the
    /// Vector256 microkernel of a whole tile, two k a step with the panels' references bumped, merged into C from
    /// its twelve accumulators. Each accumulator sums its k in order and the merge is <see cref="Merge"/>'s
    /// multiply, multiply and add, so the bits are those of <see cref="MicroKernel(int, ref float, ref float, Span{float}, int)"/> followed by <see cref="Merge"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MicroKernel256(int kc, ref float a, ref float b, float* c, long ldc, float alpha, float beta, bool overwrite)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        ref float bp = ref b;
        ref float ap = ref a;
        int p = 0;
        for (; p + 1 < kc; p += 2)
        {
            Vector256<float> b0 = Vector256.LoadUnsafe(ref bp);
            Vector256<float> b1 = Vector256.LoadUnsafe(ref bp, 8);
            Vector256<float> x = Vector256.Create(ap);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(Unsafe.Add(ref ap, 1));
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(Unsafe.Add(ref ap, 2));
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(Unsafe.Add(ref ap, 3));
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(Unsafe.Add(ref ap, 4));
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(Unsafe.Add(ref ap, 5));
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            b0 = Vector256.LoadUnsafe(ref bp, 16);
            b1 = Vector256.LoadUnsafe(ref bp, 24);
            x = Vector256.Create(Unsafe.Add(ref ap, 6));
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(Unsafe.Add(ref ap, 7));
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(Unsafe.Add(ref ap, 8));
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(Unsafe.Add(ref ap, 9));
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(Unsafe.Add(ref ap, 10));
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(Unsafe.Add(ref ap, 11));
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            bp = ref Unsafe.Add(ref bp, 32);
            ap = ref Unsafe.Add(ref ap, 2 * MR);
        }

        if (p < kc)
        {
            Vector256<float> b0 = Vector256.LoadUnsafe(ref bp);
            Vector256<float> b1 = Vector256.LoadUnsafe(ref bp, 8);
            Vector256<float> x = Vector256.Create(ap);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(Unsafe.Add(ref ap, 1));
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(Unsafe.Add(ref ap, 2));
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(Unsafe.Add(ref ap, 3));
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(Unsafe.Add(ref ap, 4));
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(Unsafe.Add(ref ap, 5));
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }

        Vector256<float> va = Vector256.Create(alpha), vb = Vector256.Create(beta);
        MergeRow256(c, c00, c01, va, vb, overwrite);
        MergeRow256(c + ldc, c10, c11, va, vb, overwrite);
        MergeRow256(c + (2 * ldc), c20, c21, va, vb, overwrite);
        MergeRow256(c + (3 * ldc), c30, c31, va, vb, overwrite);
        MergeRow256(c + (4 * ldc), c40, c41, va, vb, overwrite);
        MergeRow256(c + (5 * ldc), c50, c51, va, vb, overwrite);
    }

    /// <summary>C[0..16] = α·(s0, s1) + β·C[0..16] (or α·(s0, s1) when <paramref name="overwrite"/>), as <see cref="Merge"/> computes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MergeRow256(float* c, Vector256<float> s0, Vector256<float> s1, Vector256<float> alpha, Vector256<float> beta, bool overwrite)
    {
        Vector256<float> v0 = s0 * alpha, v1 = s1 * alpha;
        if (!overwrite)
        {
            v0 += beta * Vector256.Load(c);
            v1 += beta * Vector256.Load(c + 8);
        }

        Vector256.Store(v0, c);
        Vector256.Store(v1, c + 8);
    }
}
