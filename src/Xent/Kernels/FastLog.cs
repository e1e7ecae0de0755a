using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Kernels;

/// <summary>
/// A vectorised single-precision natural logarithm for positive normal inputs (the cross-entropy kernels take it
/// of Σexp, which is at least 1): x = m·2^e with m in [√½, √2), then the classic Cephes <c>logf</c> polynomial.
/// NaN and +inf pass through; its error is measured by the tests.
/// </summary>
internal static class FastLog
{
    private const float Sqrt1_2 = 0.707106781186547524f;
    private const float Sqrt2 = 1.41421356237309505f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log(Vector512<float> x)
    {
        Vector512<int> bits = x.AsInt32();
        Vector512<int> exponent = Vector512.ShiftRightLogical(bits, 23) - Vector512.Create(126);
        Vector512<float> m = (bits & Vector512.Create(0x007FFFFF) | Vector512.Create(0x3F000000)).AsSingle(); // [0.5, 1)
        Vector512<float> e = Vector512.ConvertToSingle(exponent);
        Vector512<float> small = Vector512.LessThan(m, Vector512.Create(Sqrt1_2));
        e -= Vector512.ConditionalSelect(small, Vector512<float>.One, Vector512<float>.Zero);
        m = Vector512.ConditionalSelect(small, m + m, m) - Vector512<float>.One;
        Vector512<float> z = m * m;
        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(7.0376836292e-2f), m, Vector512.Create(-1.1514610310e-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(1.1676998740e-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(-1.2420140846e-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(1.4249322787e-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(-1.6668057665e-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(2.0000714765e-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(-2.4999993993e-1f));
        p = Vector512.FusedMultiplyAdd(p, m, Vector512.Create(3.3333331174e-1f));
        Vector512<float> y = p * m * z;
        y = Vector512.FusedMultiplyAdd(e, Vector512.Create(Ln2Lo), y);
        y = Vector512.FusedMultiplyAdd(z, Vector512.Create(-0.5f), y);
        Vector512<float> result = m + y;
        result = Vector512.FusedMultiplyAdd(e, Vector512.Create(Ln2Hi), result);
        // NaN and +inf (the exponent field is all ones) pass through unchanged.
        Vector512<float> special = Vector512.GreaterThanOrEqual(bits & Vector512.Create(0x7F800000), Vector512.Create(0x7F800000)).AsSingle();
        return Vector512.ConditionalSelect(special, x, result);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log(Vector256<float> x)
    {
        Vector256<int> bits = x.AsInt32();
        Vector256<int> exponent = Vector256.ShiftRightLogical(bits, 23) - Vector256.Create(126);
        Vector256<float> m = (bits & Vector256.Create(0x007FFFFF) | Vector256.Create(0x3F000000)).AsSingle();
        Vector256<float> e = Vector256.ConvertToSingle(exponent);
        Vector256<float> small = Vector256.LessThan(m, Vector256.Create(Sqrt1_2));
        e -= Vector256.ConditionalSelect(small, Vector256<float>.One, Vector256<float>.Zero);
        m = Vector256.ConditionalSelect(small, m + m, m) - Vector256<float>.One;
        Vector256<float> result = Reduced(m, e);
        Vector256<float> special = Vector256.GreaterThanOrEqual(bits & Vector256.Create(0x7F800000), Vector256.Create(0x7F800000)).AsSingle();
        return Vector256.ConditionalSelect(special, x, result);
    }

    /// <summary>
    /// log x for x in [1, 2] (the log(1 + e) of two-class softplus, e in (0, 1]), with the bits of
    /// <see cref="Log(Vector256{float})"/> there: x = 2^e·(1 + m) with e = 0 below √2 and 1 from it, the same m and e
    /// as the general normalisation, found with one compare instead of the exponent's bits. Outside [1, 2] the result is
    /// wrong, not merely inexact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LogOneToTwo(Vector256<float> x)
    {
        Vector256<float> high = Vector256.GreaterThanOrEqual(x, Vector256.Create(Sqrt2));
        Vector256<float> m = (Avx.IsSupported ? Avx.BlendVariable(x, x * Vector256.Create(0.5f), high) : Vector256.ConditionalSelect(high, x * Vector256.Create(0.5f), x)) - Vector256<float>.One;
        return Reduced(m, high & Vector256<float>.One);
    }

    /// <summary>The Cephes polynomial: log(2^e·(1 + m)) for m in [√½ − 1, √2 − 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Reduced(Vector256<float> m, Vector256<float> e)
    {
        Vector256<float> z = m * m;
        Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(7.0376836292e-2f), m, Vector256.Create(-1.1514610310e-1f));
        p = Vector256.FusedMultiplyAdd(p, m, Vector256.Create(1.1676998740e-1f));
        p = Vector256.FusedMultiplyAdd(p, m, Vector256.Create(-1.2420140846e-1f));
        p = Vector256.FusedMultiplyAdd(p, m, Vector256.Create(1.4249322787e-1f));
        p = Vector256.FusedMultiplyAdd(p, m, Vector256.Create(-1.6668057665e-1f));
        p = Vector256.FusedMultiplyAdd(p, m, Vector256.Create(2.0000714765e-1f));
        p = Vector256.FusedMultiplyAdd(p, m, Vector256.Create(-2.4999993993e-1f));
        p = Vector256.FusedMultiplyAdd(p, m, Vector256.Create(3.3333331174e-1f));
        Vector256<float> y = p * m * z;
        y = Vector256.FusedMultiplyAdd(e, Vector256.Create(Ln2Lo), y);
        y = Vector256.FusedMultiplyAdd(z, Vector256.Create(-0.5f), y);
        Vector256<float> result = m + y;
        return Vector256.FusedMultiplyAdd(e, Vector256.Create(Ln2Hi), result);
    }
}
