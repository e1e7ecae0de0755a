using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Kernels;

/// <summary>
/// A vectorised single-precision <c>exp</c>, accurate to 1 ulp over [-88, 0] and exact at 0 (the runtime's
/// <c>Vector256.Exp</c> returns 1.0000001 there), faster than the runtime's. exp(x) = 2^(m/8)·exp(r) with
/// m = round(8x·log2 e): 2^(j/8) for j = m mod 8 from an eight-entry table (one lane permute), 2^⌊m/8⌋ from m's bits,
/// and exp(r) on |r| ≤ ln 2 / 16 by a cubic (Cody–Waite reduction, <c>tools/exp_polynomial.py</c>). The scaling by 2^n
/// takes two steps, so that results in the subnormal range are rounded once, not flushed.
/// </summary>
/// <remarks>
/// Special values: <c>exp(-inf) = 0</c>, <c>exp(+inf) = +inf</c>, <c>exp(NaN) = NaN</c>; inputs below
/// about -103.97 give 0 and above about 88.72 give +inf. The maximum error is measured by the tests
/// over [-88, 0], the range the cross-entropy kernels use. The table replaced a degree-6 polynomial on |r| ≤ ln 2 / 2:
/// eleven multiplies and multiply-adds a vector against eight (docs/benchmarks.md, "a table-driven exp").
/// </remarks>
internal static class FastExp
{
    /// <summary>ln of the smallest normal float: exp below it is subnormal, whose arithmetic is microcoded (slow) on many CPUs.</summary>
    internal const float SmallestNormalExponent = -87.33654f;

    /// <summary>8·log2 e: m = round(x · this).</summary>
    private const float Log2E8 = 11.541560173034668f;

    /// <summary>ln 2 / 8 in two parts: the first has 9 significant bits, so m times it is exact for |m| &lt; 2^15.</summary>
    private const float Ln2Hi8 = 0.086669921875f;
    private const float Ln2Lo8 = -2.6524305212660693e-05f;

    /// <summary>1.5·2^23: t = x·8·log2 e + this rounds to an integer m, and t's low bits are m in two's complement.</summary>
    private const float Magic = 12582912f;

    // exp(r) = 1 + r + r²·(D0 + D1·r) on |r| ≤ ln 2 / 16 (a weighted minimax fit of the relative error, 2^−24.8 before
    // rounding; tools/exp_polynomial.py).
    private const float D0 = 0.5000744462013245f;
    private const float D1 = 0.16667987406253815f;
    private const float Lowest = -103.972084f;
    private const float Highest = 88.7228394f;

    /// <summary>Inputs are clamped to [ClampLow, ClampHigh] before the range reduction (where 2^n is applied by VSCALEFPS).</summary>
    private const float ClampLow = -104f, ClampHigh = 89f;

    /// <summary>
    /// The |x| up to which <see cref="NormalExp(Vector256{float})"/> holds: 2^⌊m/8⌋ (at most 126 in magnitude) is a
    /// normal float there, so one multiply-add applies it.
    /// </summary>
    internal const float NormalRange = 87f;

    /// <summary>exp of each lane of a 512-bit vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x) => Avx512F.IsSupported ? ScaledExp(x) : PortableExp(x);

    /// <summary>exp with VSCALEFPS (AVX-512); the same bits as <see cref="PortableExp(Vector512{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ScaledExp(Vector512<float> x)
    {
        // VSCALEFPS applies 2^n with one rounding, to a subnormal result or to 0 and +inf beyond the range, so the
        // clamp is wider (exp(−104) rounds to 0, exp(89) overflows) and only NaN needs a select; the same bits as the
        // portable path (both round 2^(j/8)·exp(r) once, then scale it exactly or with one rounding).
        Vector512<float> xa = Vector512.MinNative(Vector512.MaxNative(x, Vector512.Create(ClampLow)), Vector512.Create(ClampHigh));
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), ScaledCore(xa), x);
    }

    /// <summary>2^(m/8)·exp(r) applied with VSCALEFPS, for x within the clamp: <see cref="ScaledExp(Vector512{float})"/> without its clamp and NaN select.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ScaledCore(Vector512<float> x)
    {
        Vector512<float> t = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E8), Vector512.Create(Magic));
        Vector512<float> fm = t - Vector512.Create(Magic);
        Vector512<float> tj = Lookup(t.AsInt32());
        // VSCALEFPS multiplies by 2^⌊n⌋ itself, but a fractional n measured slower on the AVX-512 host (AMD EPYC): the
        // floor stays.
        return Avx512F.Scale(Vector512.FusedMultiplyAdd(ExpMinusOne(Reduce(x, fm)), tj, tj), Vector512.Floor(fm * Vector512.Create(0.125f)));
    }

    /// <summary>
    /// exp of lanes known to lie in [−<see cref="NormalRange"/>, <see cref="NormalRange"/>] (or NaN), with the bits of
    /// <see cref="Exp(Vector512{float})"/>: with AVX-512, <see cref="ScaledExp(Vector512{float})"/> without its clamp and NaN
    /// select (a NaN lane stays NaN through the arithmetic); without it, the full exp.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> NormalExp(Vector512<float> x)
        => Avx512F.IsSupported ? ScaledCore(x) : PortableExp(x);

    /// <summary>exp without AVX-512: 2^n built from its exponent bits, applied in two steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> PortableExp(Vector512<float> x)
    {
        Vector512<float> xc = Vector512.Min(Vector512.Max(x, Vector512.Create(-103.5f)), Vector512.Create(88.7f));
        Vector512<float> t = Vector512.FusedMultiplyAdd(xc, Vector512.Create(Log2E8), Vector512.Create(Magic));
        Vector512<float> p = ExpMinusOne(Reduce(xc, t - Vector512.Create(Magic)));
        Vector512<int> bits = t.AsInt32();
        Vector512<int> n = Vector512.ShiftRightArithmetic(Vector512.ShiftLeft(bits, 20), 23); // ⌊m/8⌋, in [−150, 128]
        Vector512<int> n1 = Vector512.ShiftRightArithmetic(n, 1);
        Vector512<float> s1 = (Lookup(bits).AsInt32() + Vector512.ShiftLeft(n1, 23)).AsSingle();
        Vector512<float> s2 = Vector512.ShiftLeft(n - n1 + Vector512.Create(127), 23).AsSingle();
        Vector512<float> result = Vector512.FusedMultiplyAdd(p, s1, s1) * s2;
        result = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(Lowest)), Vector512<float>.Zero, result);
        result = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(Highest)), Vector512.Create(float.PositiveInfinity), result);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x);
    }

    /// <summary>exp of each lane of a 256-bit vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x) => Avx512F.VL.IsSupported ? ScaledExp(x) : PortableExp(x);

    /// <summary>exp with VSCALEFPS (AVX-512); the same bits as <see cref="PortableExp(Vector256{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> ScaledExp(Vector256<float> x)
    {
        // As the 512-bit path: VSCALEFPS (AVX-512VL) for 2^n, a NaN select only.
        Vector256<float> xa = Vector256.MinNative(Vector256.MaxNative(x, Vector256.Create(ClampLow)), Vector256.Create(ClampHigh));
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), ScaledCore(xa), x);
    }

    /// <summary>The 256-bit twin of <see cref="ScaledCore(Vector512{float})"/> (AVX-512VL).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ScaledCore(Vector256<float> x)
    {
        Vector256<float> t = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E8), Vector256.Create(Magic));
        Vector256<float> fm = t - Vector256.Create(Magic);
        Vector256<float> tj = Lookup(t.AsInt32());
        return Avx512F.VL.Scale(Vector256.FusedMultiplyAdd(ExpMinusOne(Reduce(x, fm)), tj, tj), Vector256.Floor(fm * Vector256.Create(0.125f)));
    }

    /// <summary>exp without AVX-512: 2^n built from its exponent bits, applied in two steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> PortableExp(Vector256<float> x)
    {
        Vector256<float> xc = Vector256.Min(Vector256.Max(x, Vector256.Create(-103.5f)), Vector256.Create(88.7f));
        Vector256<float> t = Vector256.FusedMultiplyAdd(xc, Vector256.Create(Log2E8), Vector256.Create(Magic));
        Vector256<float> p = ExpMinusOne(Reduce(xc, t - Vector256.Create(Magic)));
        Vector256<int> bits = t.AsInt32();
        Vector256<int> n = Vector256.ShiftRightArithmetic(Vector256.ShiftLeft(bits, 20), 23); // ⌊m/8⌋, in [−150, 128]
        Vector256<int> n1 = Vector256.ShiftRightArithmetic(n, 1);
        Vector256<float> s1 = (Lookup(bits).AsInt32() + Vector256.ShiftLeft(n1, 23)).AsSingle();
        Vector256<float> s2 = Vector256.ShiftLeft(n - n1 + Vector256.Create(127), 23).AsSingle();
        Vector256<float> result = Vector256.FusedMultiplyAdd(p, s1, s1) * s2;
        result = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(Lowest)), Vector256<float>.Zero, result);
        result = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Highest)), Vector256.Create(float.PositiveInfinity), result);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    /// <summary>
    /// exp of lanes that the caller knows lie in [−<see cref="NormalRange"/>, <see cref="NormalRange"/>] (or are NaN),
    /// with the bits of <see cref="Exp(Vector256{float})"/>: without AVX-512, 2^⌊m/8⌋ goes into the table entry's
    /// exponent in one step and neither the clamp nor the special-value selects are needed (13 operations against about 26).
    /// Outside the range the result is wrong, not merely inexact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> NormalExp(Vector256<float> x)
    {
        if (Avx512F.VL.IsSupported)
        {
            return ScaledCore(x); // ScaledExp without its clamp and NaN select
        }

        Vector256<float> t = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E8), Vector256.Create(Magic));

        Vector256<float> p = ExpMinusOne(Reduce(x, t - Vector256.Create(Magic)));
        Vector256<int> bits = t.AsInt32();
        // m << 20 puts ⌊m/8⌋ in the exponent field and m mod 8 in the three bits below it, which the mask drops.
        Vector256<float> scale = (Lookup(bits).AsInt32() + (Vector256.ShiftLeft(bits, 20) & Vector256.Create(unchecked((int)0xFF800000)))).AsSingle();
        return Vector256.FusedMultiplyAdd(p, scale, scale);
    }

    /// <summary>r = x − m·ln 2 / 8 (Cody–Waite: the first product is exact, so r carries the second's rounding only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reduce(Vector512<float> x, Vector512<float> m)
        => Vector512.FusedMultiplyAdd(m, Vector512.Create(-Ln2Lo8), Vector512.FusedMultiplyAdd(m, Vector512.Create(-Ln2Hi8), x));

    /// <summary>The 256-bit twin of <see cref="Reduce(Vector512{float}, Vector512{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Reduce(Vector256<float> x, Vector256<float> m)
        => Vector256.FusedMultiplyAdd(m, Vector256.Create(-Ln2Lo8), Vector256.FusedMultiplyAdd(m, Vector256.Create(-Ln2Hi8), x));

    /// <summary>2^(j/8) for j = m mod 8, from t's bits (the permute reads the low bits of each index lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lookup(Vector512<int> bits)
        => Avx512F.IsSupported
            ? Avx512F.PermuteVar16x32(Vector512.Create(Table(), Table()), bits)
            : Vector512.Create(Lookup(bits.GetLower()), Lookup(bits.GetUpper()));

    /// <summary>The 256-bit twin of <see cref="Lookup(Vector512{int})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Lookup(Vector256<int> bits)
        => Avx2.IsSupported
            ? Avx2.PermuteVar8x32(Table(), bits)
            : Vector256.Shuffle(Table(), bits & Vector256.Create(7));

    /// <summary>
    /// 2^(j/8), j = 0…7, each rounded to float: a constant vector built where it is used (a static readonly field is not
    /// a constant to methods compiled before the class is initialised, such as the kernels' AggressiveOptimization loops).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Table() => Vector256.Create(
        1f, 1.0905077457427979f, 1.1892070770263672f, 1.2968395948410034f, 1.4142135381698608f, 1.5422108173370361f, 1.6817928552627563f, 1.8340080976486206f);

    /// <summary>
    /// r + r²·(D0 + D1·r) (exp(r) − 1): three operations, two deep. The callers add the 1 in the multiply-add that applies
    /// the scale: s + s·p rounds once to s·(1 + p) rounded, the bits of (1 + p)·s wherever that is normal.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpMinusOne(Vector512<float> r)
        => Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.Create(D1), r, Vector512.Create(D0)), r * r, r);

    /// <summary>The 256-bit twin of <see cref="ExpMinusOne(Vector512{float})"/>, with the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ExpMinusOne(Vector256<float> r)
        => Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.Create(D1), r, Vector256.Create(D0)), r * r, r);

    /// <summary>The same algorithm on one value, so that tails agree with the vector lanes.</summary>
    public static float Exp(float x) => Exp(Vector256.Create(x)).ToScalar();
}
