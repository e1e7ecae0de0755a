using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Kernels;

/// <summary>
/// A 16 × 16 float transpose in AVX-512 registers (unpack, unpack as pairs, then two 128-bit lane shuffles: 64
/// shuffles for 256 values), used to move 16 rows of a (rows, C) block into lanes and back when C is a multiple of 16.
/// </summary>
internal static unsafe class Transpose16
{
    /// <summary>Whether <see cref="Block"/> can run here.</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>
    /// Writes the transpose of a 16 × 16 block: element (i, j) of the source, at <c>source[i·sourceStride + j]</c>,
    /// goes to <c>destination[j·destinationStride + i]</c>.
    /// </summary>
    /// <param name="source">The block's first element.</param>
    /// <param name="sourceStride">Floats between the source's rows.</param>
    /// <param name="destination">Where the transpose's first element goes.</param>
    /// <param name="destinationStride">Floats between the destination's rows.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block(float* source, long sourceStride, float* destination, long destinationStride)
    {
        Vector512<float> r0 = Avx512F.LoadVector512(source), r1 = Avx512F.LoadVector512(source + sourceStride);
        Vector512<float> r2 = Avx512F.LoadVector512(source + (2 * sourceStride)), r3 = Avx512F.LoadVector512(source + (3 * sourceStride));
        Vector512<float> r4 = Avx512F.LoadVector512(source + (4 * sourceStride)), r5 = Avx512F.LoadVector512(source + (5 * sourceStride));
        Vector512<float> r6 = Avx512F.LoadVector512(source + (6 * sourceStride)), r7 = Avx512F.LoadVector512(source + (7 * sourceStride));
        Vector512<float> r8 = Avx512F.LoadVector512(source + (8 * sourceStride)), r9 = Avx512F.LoadVector512(source + (9 * sourceStride));
        Vector512<float> r10 = Avx512F.LoadVector512(source + (10 * sourceStride)), r11 = Avx512F.LoadVector512(source + (11 * sourceStride));
        Vector512<float> r12 = Avx512F.LoadVector512(source + (12 * sourceStride)), r13 = Avx512F.LoadVector512(source + (13 * sourceStride));
        Vector512<float> r14 = Avx512F.LoadVector512(source + (14 * sourceStride)), r15 = Avx512F.LoadVector512(source + (15 * sourceStride));

        // Pairs of rows interleaved by element.
        Vector512<float> t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1);
        Vector512<float> t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
        Vector512<float> t4 = Avx512F.UnpackLow(r4, r5), t5 = Avx512F.UnpackHigh(r4, r5);
        Vector512<float> t6 = Avx512F.UnpackLow(r6, r7), t7 = Avx512F.UnpackHigh(r6, r7);
        Vector512<float> t8 = Avx512F.UnpackLow(r8, r9), t9 = Avx512F.UnpackHigh(r8, r9);
        Vector512<float> t10 = Avx512F.UnpackLow(r10, r11), t11 = Avx512F.UnpackHigh(r10, r11);
        Vector512<float> t12 = Avx512F.UnpackLow(r12, r13), t13 = Avx512F.UnpackHigh(r12, r13);
        Vector512<float> t14 = Avx512F.UnpackLow(r14, r15), t15 = Avx512F.UnpackHigh(r14, r15);

        // Quads of rows: interleave the pairs two floats at a time.
        r0 = D(Avx512F.UnpackLow(P(t0), P(t2))); r1 = D(Avx512F.UnpackHigh(P(t0), P(t2)));
        r2 = D(Avx512F.UnpackLow(P(t1), P(t3))); r3 = D(Avx512F.UnpackHigh(P(t1), P(t3)));
        r4 = D(Avx512F.UnpackLow(P(t4), P(t6))); r5 = D(Avx512F.UnpackHigh(P(t4), P(t6)));
        r6 = D(Avx512F.UnpackLow(P(t5), P(t7))); r7 = D(Avx512F.UnpackHigh(P(t5), P(t7)));
        r8 = D(Avx512F.UnpackLow(P(t8), P(t10))); r9 = D(Avx512F.UnpackHigh(P(t8), P(t10)));
        r10 = D(Avx512F.UnpackLow(P(t9), P(t11))); r11 = D(Avx512F.UnpackHigh(P(t9), P(t11)));
        r12 = D(Avx512F.UnpackLow(P(t12), P(t14))); r13 = D(Avx512F.UnpackHigh(P(t12), P(t14)));
        r14 = D(Avx512F.UnpackLow(P(t13), P(t15))); r15 = D(Avx512F.UnpackHigh(P(t13), P(t15)));

        // 128-bit lanes: even lanes of two quads (0x88), odd lanes (0xDD).
        t0 = Avx512F.Shuffle4x128(r0, r4, 0x88); t1 = Avx512F.Shuffle4x128(r1, r5, 0x88);
        t2 = Avx512F.Shuffle4x128(r2, r6, 0x88); t3 = Avx512F.Shuffle4x128(r3, r7, 0x88);
        t4 = Avx512F.Shuffle4x128(r0, r4, 0xDD); t5 = Avx512F.Shuffle4x128(r1, r5, 0xDD);
        t6 = Avx512F.Shuffle4x128(r2, r6, 0xDD); t7 = Avx512F.Shuffle4x128(r3, r7, 0xDD);
        t8 = Avx512F.Shuffle4x128(r8, r12, 0x88); t9 = Avx512F.Shuffle4x128(r9, r13, 0x88);
        t10 = Avx512F.Shuffle4x128(r10, r14, 0x88); t11 = Avx512F.Shuffle4x128(r11, r15, 0x88);
        t12 = Avx512F.Shuffle4x128(r8, r12, 0xDD); t13 = Avx512F.Shuffle4x128(r9, r13, 0xDD);
        t14 = Avx512F.Shuffle4x128(r10, r14, 0xDD); t15 = Avx512F.Shuffle4x128(r11, r15, 0xDD);

        Avx512F.Store(destination, Avx512F.Shuffle4x128(t0, t8, 0x88));
        Avx512F.Store(destination + destinationStride, Avx512F.Shuffle4x128(t1, t9, 0x88));
        Avx512F.Store(destination + (2 * destinationStride), Avx512F.Shuffle4x128(t2, t10, 0x88));
        Avx512F.Store(destination + (3 * destinationStride), Avx512F.Shuffle4x128(t3, t11, 0x88));
        Avx512F.Store(destination + (4 * destinationStride), Avx512F.Shuffle4x128(t4, t12, 0x88));
        Avx512F.Store(destination + (5 * destinationStride), Avx512F.Shuffle4x128(t5, t13, 0x88));
        Avx512F.Store(destination + (6 * destinationStride), Avx512F.Shuffle4x128(t6, t14, 0x88));
        Avx512F.Store(destination + (7 * destinationStride), Avx512F.Shuffle4x128(t7, t15, 0x88));
        Avx512F.Store(destination + (8 * destinationStride), Avx512F.Shuffle4x128(t0, t8, 0xDD));
        Avx512F.Store(destination + (9 * destinationStride), Avx512F.Shuffle4x128(t1, t9, 0xDD));
        Avx512F.Store(destination + (10 * destinationStride), Avx512F.Shuffle4x128(t2, t10, 0xDD));
        Avx512F.Store(destination + (11 * destinationStride), Avx512F.Shuffle4x128(t3, t11, 0xDD));
        Avx512F.Store(destination + (12 * destinationStride), Avx512F.Shuffle4x128(t4, t12, 0xDD));
        Avx512F.Store(destination + (13 * destinationStride), Avx512F.Shuffle4x128(t5, t13, 0xDD));
        Avx512F.Store(destination + (14 * destinationStride), Avx512F.Shuffle4x128(t6, t14, 0xDD));
        Avx512F.Store(destination + (15 * destinationStride), Avx512F.Shuffle4x128(t7, t15, 0xDD));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> P(Vector512<float> v) => v.AsDouble();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> D(Vector512<double> v) => v.AsSingle();
}
