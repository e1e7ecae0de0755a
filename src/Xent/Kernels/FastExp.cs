using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Kernels;

/// <summary>
/// A vectorised single-precision <c>exp</c>, accurate to 1 ulp over [-88, 0] and exact at 0 (the runtime's
/// <c>Vector256.Exp</c> returns 1.0000001 there), at the runtime's speed. Cody–Waite range reduction,
/// a degree-6 polynomial fitted for float (evaluated by Estrin's scheme), and a two-step scaling
/// by 2^n so that results in the subnormal range are rounded once, not flushed.
/// </summary>
/// <remarks>
/// Special values: <c>exp(-inf) = 0</c>, <c>exp(+inf) = +inf</c>, <c>exp(NaN) = NaN</c>; inputs below
/// about -103.97 give 0 and above about 88.72 give +inf. The maximum error is measured by the tests
/// over [-88, 0], the range the cross-entropy kernels use.
/// </remarks>
internal static class FastExp
{
    /// <summary>ln of the smallest normal float: exp below it is subnormal, whose arithmetic is microcoded (slow) on many CPUs.</summary>
    internal const float SmallestNormalExponent = -87.33654f;

    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    // exp(r) = 1 + r + r²·Q(r) on |r| ≤ ln 2 / 2, Q of degree 4 (a weighted minimax fit of the relative error, 2^−26.9
    // before rounding; tools/exp_polynomial.py), evaluated by Estrin's scheme.
    private const float Q0 = 0.49999967217445374f;
    private const float Q1 = 0.16666479408740997f;
    private const float Q2 = 0.04167357087135315f;
    private const float Q3 = 0.008372710086405277f;
    private const float Q4 = 0.0013571121962741017f;
    private const float Lowest = -103.972084f;
    private const float Highest = 88.7228394f;

    /// <summary>Inputs are clamped to [ClampLow, ClampHigh] before the range reduction (where 2^n is applied by VSCALEFPS).</summary>
    private const float ClampLow = -104f, ClampHigh = 89f;

    /// <summary>
    /// The |x| up to which <see cref="NormalExp(Vector256{float})"/> holds: 2^n (n = ⌊x·log2 e + ½⌋, at most 126 in
    /// magnitude) is a normal float there, so one multiply applies it.
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
        // clamp is wider (exp(−104) rounds to 0, exp(89) overflows) and only NaN needs a select: 16 operations,
        // against 28 for the portable path below, and the same bits (both scale p exactly, rounding once).
        Vector512<float> xa = Vector512.MinNative(Vector512.MaxNative(x, Vector512.Create(ClampLow)), Vector512.Create(ClampHigh));
        Vector512<float> fa = Vector512.Floor(Vector512.FusedMultiplyAdd(xa, Vector512.Create(Log2E), Vector512.Create(0.5f)));
        Vector512<float> ra = Vector512.FusedMultiplyAdd(fa, Vector512.Create(-Ln2Hi), xa);
        ra = Vector512.FusedMultiplyAdd(fa, Vector512.Create(-Ln2Lo), ra);
        Vector512<float> pa = ExpMinusOne(ra) + Vector512<float>.One;
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), Avx512F.Scale(pa, fa), x);
    }

    /// <summary>exp without AVX-512: 2^n built from its exponent bits, applied in two steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> PortableExp(Vector512<float> x)
    {
        Vector512<float> xc = Vector512.Min(Vector512.Max(x, Vector512.Create(-103.5f)), Vector512.Create(88.7f));
        Vector512<float> fx = Vector512.Floor(Vector512.FusedMultiplyAdd(xc, Vector512.Create(Log2E), Vector512.Create(0.5f)));
        Vector512<float> r = Vector512.FusedMultiplyAdd(fx, Vector512.Create(-Ln2Hi), xc);
        r = Vector512.FusedMultiplyAdd(fx, Vector512.Create(-Ln2Lo), r);
        Vector512<float> p = ExpMinusOne(r);
        Vector512<int> n = Vector512.ConvertToInt32(fx);
        Vector512<int> n1 = Vector512.ShiftRightArithmetic(n, 1);
        Vector512<int> n2 = n - n1;
        Vector512<float> s1 = Vector512.ShiftLeft(n1 + Vector512.Create(127), 23).AsSingle();
        Vector512<float> s2 = Vector512.ShiftLeft(n2 + Vector512.Create(127), 23).AsSingle();
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
        Vector256<float> fa = Vector256.Floor(Vector256.FusedMultiplyAdd(xa, Vector256.Create(Log2E), Vector256.Create(0.5f)));
        Vector256<float> ra = Vector256.FusedMultiplyAdd(fa, Vector256.Create(-Ln2Hi), xa);
        ra = Vector256.FusedMultiplyAdd(fa, Vector256.Create(-Ln2Lo), ra);
        Vector256<float> pa = ExpMinusOne(ra) + Vector256<float>.One;
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), Avx512F.VL.Scale(pa, fa), x);
    }

    /// <summary>exp without AVX-512: 2^n built from its exponent bits, applied in two steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> PortableExp(Vector256<float> x)
    {
        Vector256<float> xc = Vector256.Min(Vector256.Max(x, Vector256.Create(-103.5f)), Vector256.Create(88.7f));
        Vector256<float> fx = Vector256.Floor(Vector256.FusedMultiplyAdd(xc, Vector256.Create(Log2E), Vector256.Create(0.5f)));
        Vector256<float> r = Vector256.FusedMultiplyAdd(fx, Vector256.Create(-Ln2Hi), xc);
        r = Vector256.FusedMultiplyAdd(fx, Vector256.Create(-Ln2Lo), r);
        Vector256<float> p = ExpMinusOne(r);
        Vector256<int> n = Vector256.ConvertToInt32(fx);
        Vector256<int> n1 = Vector256.ShiftRightArithmetic(n, 1);
        Vector256<int> n2 = n - n1;
        Vector256<float> s1 = Vector256.ShiftLeft(n1 + Vector256.Create(127), 23).AsSingle();
        Vector256<float> s2 = Vector256.ShiftLeft(n2 + Vector256.Create(127), 23).AsSingle();
        Vector256<float> result = Vector256.FusedMultiplyAdd(p, s1, s1) * s2;
        result = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(Lowest)), Vector256<float>.Zero, result);
        result = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Highest)), Vector256.Create(float.PositiveInfinity), result);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    /// <summary>
    /// exp of lanes that the caller knows lie in [−<see cref="NormalRange"/>, <see cref="NormalRange"/>] (or are NaN),
    /// with the bits of <see cref="Exp(Vector256{float})"/>: without AVX-512, 2^n is applied with one multiply and
    /// neither the clamp nor the special-value selects are needed (16 operations against 28). Outside the range the
    /// result is wrong, not merely inexact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> NormalExp(Vector256<float> x)
    {
        if (Avx512F.VL.IsSupported)
        {
            return ScaledExp(x);
        }

        Vector256<float> fx = Vector256.Floor(Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(0.5f)));
        Vector256<float> r = Vector256.FusedMultiplyAdd(fx, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(fx, Vector256.Create(-Ln2Lo), r);
        Vector256<float> scale = Vector256.ShiftLeft(Vector256.ConvertToInt32Native(fx) + Vector256.Create(127), 23).AsSingle();
        return Vector256.FusedMultiplyAdd(ExpMinusOne(r), scale, scale);
    }

    /// <summary>
    /// r + r²·Q(r) (exp(r) − 1), as (r + r²·(Q0 + Q1·r)) + r⁴·((Q2 + Q3·r) + r²·Q4): three multiply-adds deep after
    /// r², where Horner's scheme on the classic degree-7 polynomial was six, because on cores whose scheduler fills with
    /// one exp's dependent chain (Zen 3: 10 cycles a vector against 4–5 for its arithmetic) the depth, not the count, sets
    /// the speed. The callers add the 1 in the multiply-add that applies 2^n: s + s·p rounds once to s·(1 + p) rounded,
    /// the bits of (1 + p)·s wherever that is normal.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpMinusOne(Vector512<float> r)
    {
        Vector512<float> r2 = r * r, r4 = r2 * r2;
        Vector512<float> low = Vector512.FusedMultiplyAdd(Vector512.Create(Q1), r, Vector512.Create(Q0));
        Vector512<float> high = Vector512.FusedMultiplyAdd(Vector512.Create(Q3), r, Vector512.Create(Q2));
        return Vector512.FusedMultiplyAdd(r4, Vector512.FusedMultiplyAdd(r2, Vector512.Create(Q4), high), Vector512.FusedMultiplyAdd(r2, low, r));
    }

    /// <summary>The 256-bit twin of <see cref="ExpMinusOne(Vector512{float})"/>, with the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ExpMinusOne(Vector256<float> r)
    {
        Vector256<float> r2 = r * r, r4 = r2 * r2;
        Vector256<float> low = Vector256.FusedMultiplyAdd(Vector256.Create(Q1), r, Vector256.Create(Q0));
        Vector256<float> high = Vector256.FusedMultiplyAdd(Vector256.Create(Q3), r, Vector256.Create(Q2));
        return Vector256.FusedMultiplyAdd(r4, Vector256.FusedMultiplyAdd(r2, Vector256.Create(Q4), high), Vector256.FusedMultiplyAdd(r2, low, r));
    }

    /// <summary>The same algorithm on one value, so that tails agree with the vector lanes.</summary>
    public static float Exp(float x) => Exp(Vector256.Create(x)).ToScalar();
}
