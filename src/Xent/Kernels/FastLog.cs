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
    /// log x for x in [1, 2] (the log(1 + e) of two-class softplus, e in (0, 1]) by eight-entry tables: x rounded to
    /// an eighth gives j (the last entry also takes x up to 2), r = x·R_j − 1 with R_j = round(32/(1 + j/8))/32, which
    /// five bits make exact, |r| ≤ 0.069, and log x = T_j + r + r²·Q(r) with T_j = −log R_j as two floats (the low one
    /// added to r²·Q(r), where its rounding is negligible). <c>tools/log_polynomial.py</c> makes the tables and fits Q
    /// (degree 4, 2^−29.2), and says why j = 1 starts at 1.0649. Fifteen operations, against nineteen for the
    /// normalisation and the degree-8 polynomial of <see cref="Log(Vector256{float})"/>, and half as deep. At j = 0,
    /// R = 1 and r = x − 1, so the precision is relative near 1. Within 0.77 ulp of log x over every float in [1, 2],
    /// where the general log is within 0.83 (the tests measure it). Outside [1, 2] the result is wrong, not merely
    /// inexact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LogOneToTwo(Vector256<float> x)
    {
        // (bits − bits(1) + 0x7B000) >> 20: x to an eighth above 1, j = 1 from 1.0649 (not 1.0625: see the tool); 2 gives
        // 8, taken as 7.
        Vector256<int> j = Vector256.Min(Vector256.ShiftRightLogical(x.AsInt32() - Vector256.Create(0x3F785000), 20), Vector256.Create(7));
        Vector256<float> r = Vector256.FusedMultiplyAdd(x, Lookup(Reciprocals(), j), Vector256.Create(-1f));
        Vector256<float> q = Vector256.FusedMultiplyAdd(Vector256.Create(Q4), r, Vector256.Create(Q3));
        q = Vector256.FusedMultiplyAdd(q, r, Vector256.Create(Q2));
        q = Vector256.FusedMultiplyAdd(q, r, Vector256.Create(Q1));
        q = Vector256.FusedMultiplyAdd(q, r, Vector256.Create(Q0));
        return (Vector256.FusedMultiplyAdd(r * r, q, Lookup(LogsLow(), j)) + r) + Lookup(LogsHigh(), j);
    }

    private const float Q0 = -0.4999999403953552f;
    private const float Q1 = 0.33333146572113037f;
    private const float Q2 = -0.2500242590904236f;
    private const float Q3 = 0.2010645717382431f;
    private const float Q4 = -0.16407255828380585f;

    /// <summary>Lane j of <paramref name="table"/> for each j in 0…7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Lookup(Vector256<float> table, Vector256<int> j)
        => Avx2.IsSupported ? Avx2.PermuteVar8x32(table, j) : Vector256.Shuffle(table, j);

    /// <summary>
    /// R_j = round(32/(1 + j/8))/32: constant vectors built where they are used (as <c>FastExp</c>'s table, and for the
    /// same reason).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Reciprocals() => Vector256.Create(1f, 0.875f, 0.8125f, 0.71875f, 0.65625f, 0.625f, 0.5625f, 0.53125f);

    /// <summary>−log R_j rounded to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LogsHigh() => Vector256.Create(
        0f, 0.133531391620636f, 0.20763936638832092f, 0.33024168014526367f, 0.4212134778499603f, 0.4700036346912384f, 0.5753641724586487f, 0.6325225830078125f);

    /// <summary>−log R_j less <see cref="LogsHigh"/>, rounded to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LogsLow() => Vector256.Create(
        0f, 1.0038866404826763e-09f, -1.610076405533789e-09f, 6.725313195232729e-09f, -1.2773656798970023e-08f, -5.4455027154176605e-09f, -2.7555087100950004e-08f, -2.426430256718959e-08f);

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
