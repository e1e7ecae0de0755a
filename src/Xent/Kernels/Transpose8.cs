using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Kernels;

/// <summary>
/// An 8 × 8 float transpose in AVX registers (unpack, shuffle, then 128-bit lane permutes: 24 shuffles for 64 values):
/// it moves 8 rows of a (rows, C) block into lanes and back for the 256-bit lanes, which 2-D rows of up to 64 classes
/// take on every AVX2 machine, AVX-512 ones included.
/// </summary>
internal static unsafe class Transpose8
{
    /// <summary>Whether <see cref="Block"/> can run here.</summary>
    public static bool IsSupported => Avx.IsSupported;

    /// <summary>
    /// Writes the transpose of an 8 × 8 block: element (i, j) of the source, at <c>source[i·sourceStride + j]</c>,
    /// goes to <c>destination[j·destinationStride + i]</c>.
    /// </summary>
    /// <param name="source">The block's first element.</param>
    /// <param name="sourceStride">Floats between the source's rows.</param>
    /// <param name="destination">Where the transpose's first element goes.</param>
    /// <param name="destinationStride">Floats between the destination's rows.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block(float* source, long sourceStride, float* destination, long destinationStride)
    {
        Vector256<float> r0 = Avx.LoadVector256(source), r1 = Avx.LoadVector256(source + sourceStride);
        Vector256<float> r2 = Avx.LoadVector256(source + (2 * sourceStride)), r3 = Avx.LoadVector256(source + (3 * sourceStride));
        Vector256<float> r4 = Avx.LoadVector256(source + (4 * sourceStride)), r5 = Avx.LoadVector256(source + (5 * sourceStride));
        Vector256<float> r6 = Avx.LoadVector256(source + (6 * sourceStride)), r7 = Avx.LoadVector256(source + (7 * sourceStride));

        // Pairs of rows interleaved by element (within each 128-bit lane).
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);

        // Quads of rows: the low pair of each pair-vector (0x44) and the high pair (0xEE).
        r0 = Avx.Shuffle(t0, t2, 0x44); r1 = Avx.Shuffle(t0, t2, 0xEE);
        r2 = Avx.Shuffle(t1, t3, 0x44); r3 = Avx.Shuffle(t1, t3, 0xEE);
        r4 = Avx.Shuffle(t4, t6, 0x44); r5 = Avx.Shuffle(t4, t6, 0xEE);
        r6 = Avx.Shuffle(t5, t7, 0x44); r7 = Avx.Shuffle(t5, t7, 0xEE);

        // 128-bit lanes: the low lanes of two quads (0x20) give columns 0-3, the high lanes (0x31) columns 4-7.
        Avx.Store(destination, Avx.Permute2x128(r0, r4, 0x20));
        Avx.Store(destination + destinationStride, Avx.Permute2x128(r1, r5, 0x20));
        Avx.Store(destination + (2 * destinationStride), Avx.Permute2x128(r2, r6, 0x20));
        Avx.Store(destination + (3 * destinationStride), Avx.Permute2x128(r3, r7, 0x20));
        Avx.Store(destination + (4 * destinationStride), Avx.Permute2x128(r0, r4, 0x31));
        Avx.Store(destination + (5 * destinationStride), Avx.Permute2x128(r1, r5, 0x31));
        Avx.Store(destination + (6 * destinationStride), Avx.Permute2x128(r2, r6, 0x31));
        Avx.Store(destination + (7 * destinationStride), Avx.Permute2x128(r3, r7, 0x31));
    }
}
