using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// The passes of batch normalisation over one contiguous slice of a channel: sums in double lanes (each float widened
/// exactly, lanes combined in a fixed order, so a slice's sum does not depend on the thread that takes it), and the
/// affine maps of the forward and backward passes in float with FMA. Vector512, Vector256, and a scalar fallback.
/// </summary>
internal static class ChannelStats
{
    /// <summary>Σ x, in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Sum(ReadOnlySpan<float> x)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        double total = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            Vector512<double> a0 = Vector512<double>.Zero, a1 = Vector512<double>.Zero;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(Vector512.LoadUnsafe(ref xr, (nuint)i));
                a0 += lo;
                a1 += hi;
            }

            total = Vector512.Sum(a0 + a1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            Vector256<double> a0 = Vector256<double>.Zero, a1 = Vector256<double>.Zero;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xr, (nuint)i));
                a0 += lo;
                a1 += hi;
            }

            total = Vector256.Sum(a0 + a1);
        }

        for (; i < n; i++)
        {
            total += Unsafe.Add(ref xr, i);
        }

        return total;
    }

    /// <summary>Σ (x − mean)², in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumSquaredDeviations(ReadOnlySpan<float> x, double mean)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        double total = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            Vector512<double> m = Vector512.Create(mean), a0 = Vector512<double>.Zero, a1 = Vector512<double>.Zero;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(Vector512.LoadUnsafe(ref xr, (nuint)i));
                lo -= m;
                hi -= m;
                a0 = Vector512.FusedMultiplyAdd(lo, lo, a0);
                a1 = Vector512.FusedMultiplyAdd(hi, hi, a1);
            }

            total = Vector512.Sum(a0 + a1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            Vector256<double> m = Vector256.Create(mean), a0 = Vector256<double>.Zero, a1 = Vector256<double>.Zero;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xr, (nuint)i));
                lo -= m;
                hi -= m;
                a0 = Vector256.FusedMultiplyAdd(lo, lo, a0);
                a1 = Vector256.FusedMultiplyAdd(hi, hi, a1);
            }

            total = Vector256.Sum(a0 + a1);
        }

        for (; i < n; i++)
        {
            double d = Unsafe.Add(ref xr, i) - mean;
            total = Math.FusedMultiplyAdd(d, d, total);
        }

        return total;
    }

    /// <summary>Σ dy and Σ dy·(x − mean), in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (double SumDy, double SumDyCentered) BackwardSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, double mean)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        int n = x.Length, i = 0;
        double sumDy = 0, sumDyCentered = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            Vector512<double> m = Vector512.Create(mean), s0 = Vector512<double>.Zero, s1 = Vector512<double>.Zero;
            Vector512<double> c0 = Vector512<double>.Zero, c1 = Vector512<double>.Zero;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                (Vector512<double> xlo, Vector512<double> xhi) = Vector512.Widen(Vector512.LoadUnsafe(ref xr, (nuint)i));
                (Vector512<double> glo, Vector512<double> ghi) = Vector512.Widen(Vector512.LoadUnsafe(ref gr, (nuint)i));
                s0 += glo;
                s1 += ghi;
                c0 = Vector512.FusedMultiplyAdd(glo, xlo - m, c0);
                c1 = Vector512.FusedMultiplyAdd(ghi, xhi - m, c1);
            }

            (sumDy, sumDyCentered) = (Vector512.Sum(s0 + s1), Vector512.Sum(c0 + c1));
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            Vector256<double> m = Vector256.Create(mean), s0 = Vector256<double>.Zero, s1 = Vector256<double>.Zero;
            Vector256<double> c0 = Vector256<double>.Zero, c1 = Vector256<double>.Zero;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                (Vector256<double> xlo, Vector256<double> xhi) = Vector256.Widen(Vector256.LoadUnsafe(ref xr, (nuint)i));
                (Vector256<double> glo, Vector256<double> ghi) = Vector256.Widen(Vector256.LoadUnsafe(ref gr, (nuint)i));
                s0 += glo;
                s1 += ghi;
                c0 = Vector256.FusedMultiplyAdd(glo, xlo - m, c0);
                c1 = Vector256.FusedMultiplyAdd(ghi, xhi - m, c1);
            }

            (sumDy, sumDyCentered) = (Vector256.Sum(s0 + s1), Vector256.Sum(c0 + c1));
        }

        for (; i < n; i++)
        {
            double g = Unsafe.Add(ref gr, i);
            sumDy += g;
            sumDyCentered = Math.FusedMultiplyAdd(g, Unsafe.Add(ref xr, i) - mean, sumDyCentered);
        }

        return (sumDy, sumDyCentered);
    }

    /// <summary>y = x·scale + shift (one rounding, FMA); <paramref name="y"/> may be <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Affine(ReadOnlySpan<float> x, Span<float> y, float scale, float shift)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a = Vector512.Create(scale), b = Vector512.Create(shift);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref xr, (nuint)i), a, b).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a = Vector256.Create(scale), b = Vector256.Create(shift);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref xr, (nuint)i), a, b).StoreUnsafe(ref yr, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref yr, i) = MathF.FusedMultiplyAdd(Unsafe.Add(ref xr, i), scale, shift);
        }
    }

    /// <summary>dx = a·dy + (b·(x − mean) + c), each step in float with FMA; <paramref name="dx"/> may be <paramref name="dy"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardAffine(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float a, float mean, float b, float c)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float dr = ref MemoryMarshal.GetReference(dx);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> va = Vector512.Create(a), vm = Vector512.Create(mean), vb = Vector512.Create(b), vc = Vector512.Create(c);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> t = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref xr, (nuint)i) - vm, vb, vc);
                Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref gr, (nuint)i), va, t).StoreUnsafe(ref dr, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> va = Vector256.Create(a), vm = Vector256.Create(mean), vb = Vector256.Create(b), vc = Vector256.Create(c);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> t = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref xr, (nuint)i) - vm, vb, vc);
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref gr, (nuint)i), va, t).StoreUnsafe(ref dr, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            float t = MathF.FusedMultiplyAdd(Unsafe.Add(ref xr, i) - mean, b, c);
            Unsafe.Add(ref dr, i) = MathF.FusedMultiplyAdd(Unsafe.Add(ref gr, i), a, t);
        }
    }
}
