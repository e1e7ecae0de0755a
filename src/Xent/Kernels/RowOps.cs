using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// SIMD building blocks over one contiguous row of class logits: Vector512 where the hardware
/// accelerates it, Vector256 next, then a scalar loop. Each reduction accumulates in lanes and
/// folds the lanes in a fixed order, so a row always gives the same bits.
/// </summary>
internal static class RowOps
{
    /// <summary>Maximum of the row (NaN if any element is NaN; -inf for an empty row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Max<T>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
        => MaxMin(x, out _);

    /// <summary>
    /// Maximum of the row, and its minimum in <paramref name="min"/> (both NaN if any element is NaN; −inf and +inf for
    /// an empty row). The minimum costs one more instruction per vector of a pass that is bound by its loads; the
    /// cross-entropy rows use it to know that every exp(x − max) is a normal float (<see cref="FastExp.NormalExp(Vector256{float})"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T MaxMin<T>(ReadOnlySpan<T> x, out T min)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T r = ref MemoryMarshal.GetReference(x);
        int n = x.Length;
        int i = 0;
        T m = T.NegativeInfinity, lo = T.PositiveInfinity;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            // As the 256-bit path below: the native max and min, and the NaNs tracked on the side (the IEEE Vector512.Max
            // and Min cost several instructions a vector; with them this pass took half the time of the exp pass).
            Vector512<T> acc = Vector512.Create(T.NegativeInfinity), low = Vector512.Create(T.PositiveInfinity), nan = Vector512<T>.Zero;
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                Vector512<T> v = Vector512.LoadUnsafe(ref r, (nuint)i);
                acc = Vector512.MaxNative(acc, v);
                low = Vector512.MinNative(low, v);
                nan |= Vector512.IsNaN(v);
            }

            if (i < n)
            {
                // The last vector again, overlapping the ones read: the maximum and minimum do not mind.
                Vector512<T> v = Vector512.LoadUnsafe(ref r, (nuint)(n - Vector512<T>.Count));
                acc = Vector512.MaxNative(acc, v);
                low = Vector512.MinNative(low, v);
                nan |= Vector512.IsNaN(v);
                i = n;
            }

            if (nan.AsByte() != Vector512<byte>.Zero)
            {
                min = T.NaN;
                return T.NaN;
            }

            m = SimdMath.MaxAcross(acc);
            lo = -SimdMath.MaxAcross(-low);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            // The native max and min (one instruction each, which drop a NaN operand) in two chains of latency 1, and
            // the NaNs tracked on the side: the IEEE Vector256.Max is a chain of several instructions per vector.
            Vector256<T> acc = Vector256.Create(T.NegativeInfinity), low = Vector256.Create(T.PositiveInfinity), nan = Vector256<T>.Zero;
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                Vector256<T> v = Vector256.LoadUnsafe(ref r, (nuint)i);
                acc = Vector256.MaxNative(acc, v);
                low = Vector256.MinNative(low, v);
                nan |= Vector256.IsNaN(v);
            }

            if (i < n)
            {
                Vector256<T> v = Vector256.LoadUnsafe(ref r, (nuint)(n - Vector256<T>.Count));
                acc = Vector256.MaxNative(acc, v);
                low = Vector256.MinNative(low, v);
                nan |= Vector256.IsNaN(v);
                i = n;
            }

            if (nan.AsByte() != Vector256<byte>.Zero)
            {
                min = T.NaN;
                return T.NaN;
            }

            m = SimdMath.MaxAcross(acc);
            lo = -SimdMath.MaxAcross(-low);
        }

        for (; i < n; i++)
        {
            m = T.Max(m, Unsafe.Add(ref r, i));
            lo = T.Min(lo, Unsafe.Add(ref r, i));
        }

        min = lo;
        return m;
    }

    /// <summary>
    /// Returns Σ exp(x_c − m) and, in <paramref name="shiftSum"/>, Σ w_c·(x_c − m) (w ≡ 1 when <paramref name="weight"/>
    /// is empty; computed only when <paramref name="wantShiftSum"/> is set), storing each exp(x_c − m) into
    /// <paramref name="store"/> when it is not empty. <paramref name="normal"/> says that every x_c − m lies in
    /// [−<see cref="FastExp.NormalRange"/>, 0], so that the 256-bit loop may use <see cref="SimdMath.NormalExp{T}(Vector256{T})"/>
    /// (the same bits, fewer instructions).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T SumExp<T>(ReadOnlySpan<T> x, T m, ReadOnlySpan<T> weight, bool wantShiftSum, out T shiftSum, Span<T> store, bool normal = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T r = ref MemoryMarshal.GetReference(x);
        ref T wr = ref MemoryMarshal.GetReference(weight);
        ref T sr = ref MemoryMarshal.GetReference(store);
        bool storing = !store.IsEmpty;
        bool weighted = !weight.IsEmpty;
        int n = x.Length;
        int i = 0;
        T s = T.Zero;
        T t = T.Zero;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            Vector512<T> vm = Vector512.Create(m);
            Vector512<T> vs = Vector512<T>.Zero;
            Vector512<T> vt = Vector512<T>.Zero;
            int last = n - Vector512<T>.Count;
            Vector512<T> tail = Vector512.LoadUnsafe(ref r, (nuint)last); // read before any store: store may be x
            for (; i <= last; i += Vector512<T>.Count)
            {
                Vector512<T> d = Vector512.LoadUnsafe(ref r, (nuint)i) - vm;
                Vector512<T> e = normal ? SimdMath.NormalExp(d) : SimdMath.Exp(d);
                vs += e;
                if (storing)
                {
                    e.StoreUnsafe(ref sr, (nuint)i);
                }

                if (wantShiftSum)
                {
                    vt += weighted ? d * Vector512.LoadUnsafe(ref wr, (nuint)i) : d;
                }
            }

            if (i < n)
            {
                // The last Count elements as one vector, overlapping the ones done: their lanes are masked out of the
                // sums, and storing them again writes the same values.
                Vector512<T> fresh = TailMask512<T>(i - last);
                Vector512<T> d = tail - vm;
                Vector512<T> e = SimdMath.Exp(d);
                vs += e & fresh;
                if (storing)
                {
                    e.StoreUnsafe(ref sr, (nuint)last);
                }

                if (wantShiftSum)
                {
                    vt += (weighted ? d * Vector512.LoadUnsafe(ref wr, (nuint)last) : d) & fresh;
                }

                i = n;
            }

            s = Vector512.Sum(vs);
            t = Vector512.Sum(vt);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            Vector256<T> vm = Vector256.Create(m);
            Vector256<T> vs = Vector256<T>.Zero;
            Vector256<T> vt = Vector256<T>.Zero;
            int last = n - Vector256<T>.Count;
            Vector256<T> tail = Vector256.LoadUnsafe(ref r, (nuint)last); // read before any store: store may be x
            if (normal && !wantShiftSum)
            {
                // The common rows (no smoothing): four vectors a step in loops of their own, with no branch on the options
                // inside, and the sum still added in element order (the same bits as the loop below).
                int count = Vector256<T>.Count;
                if (storing)
                {
                    for (; i <= last - (3 * count); i += 4 * count)
                    {
                        Vector256<T> e0 = SimdMath.NormalExp(Vector256.LoadUnsafe(ref r, (nuint)i) - vm);
                        Vector256<T> e1 = SimdMath.NormalExp(Vector256.LoadUnsafe(ref r, (nuint)(i + count)) - vm);
                        Vector256<T> e2 = SimdMath.NormalExp(Vector256.LoadUnsafe(ref r, (nuint)(i + (2 * count))) - vm);
                        Vector256<T> e3 = SimdMath.NormalExp(Vector256.LoadUnsafe(ref r, (nuint)(i + (3 * count))) - vm);
                        vs += e0;
                        vs += e1;
                        vs += e2;
                        vs += e3;
                        e0.StoreUnsafe(ref sr, (nuint)i);
                        e1.StoreUnsafe(ref sr, (nuint)(i + count));
                        e2.StoreUnsafe(ref sr, (nuint)(i + (2 * count)));
                        e3.StoreUnsafe(ref sr, (nuint)(i + (3 * count)));
                    }
                }
                else
                {
                    for (; i <= last - (3 * count); i += 4 * count)
                    {
                        Vector256<T> e0 = SimdMath.NormalExp(Vector256.LoadUnsafe(ref r, (nuint)i) - vm);
                        Vector256<T> e1 = SimdMath.NormalExp(Vector256.LoadUnsafe(ref r, (nuint)(i + count)) - vm);
                        Vector256<T> e2 = SimdMath.NormalExp(Vector256.LoadUnsafe(ref r, (nuint)(i + (2 * count))) - vm);
                        Vector256<T> e3 = SimdMath.NormalExp(Vector256.LoadUnsafe(ref r, (nuint)(i + (3 * count))) - vm);
                        vs += e0;
                        vs += e1;
                        vs += e2;
                        vs += e3;
                    }
                }
            }

            for (; i <= last; i += Vector256<T>.Count)
            {
                Vector256<T> d = Vector256.LoadUnsafe(ref r, (nuint)i) - vm;
                Vector256<T> e = normal ? SimdMath.NormalExp(d) : SimdMath.Exp(d);
                vs += e;
                if (storing)
                {
                    e.StoreUnsafe(ref sr, (nuint)i);
                }

                if (wantShiftSum)
                {
                    vt += weighted ? d * Vector256.LoadUnsafe(ref wr, (nuint)i) : d;
                }
            }

            if (i < n)
            {
                // The last Count elements as one vector, overlapping the ones done: their lanes are masked out of the
                // sums, and storing them again writes the same values.
                Vector256<T> fresh = TailMask256<T>(i - last);
                Vector256<T> d = tail - vm;
                Vector256<T> e = SimdMath.Exp(d);
                vs += e & fresh;
                if (storing)
                {
                    e.StoreUnsafe(ref sr, (nuint)last);
                }

                if (wantShiftSum)
                {
                    vt += (weighted ? d * Vector256.LoadUnsafe(ref wr, (nuint)last) : d) & fresh;
                }

                i = n;
            }

            s = Vector256.Sum(vs);
            t = wantShiftSum ? Vector256.Sum(vt) : T.Zero;
        }

        for (; i < n; i++)
        {
            T d = Unsafe.Add(ref r, i) - m;
            T e = SimdMath.Exp(d);
            s += e;
            if (storing)
            {
                Unsafe.Add(ref sr, i) = e;
            }

            if (wantShiftSum)
            {
                t += weighted ? d * Unsafe.Add(ref wr, i) : d;
            }
        }

        shiftSum = t;
        return s;
    }

    /// <summary>
    /// Σ_c exp(max((x_c − m)·s, ln of the smallest normal float)), storing each exp into <paramref name="store"/> when
    /// it is not empty (LDAM's scale; the floor keeps every exp normal, where subnormal arithmetic would be slow).
    /// </summary>
    /// <param name="x">The row.</param>
    /// <param name="m">The shift.</param>
    /// <param name="s">The scale.</param>
    /// <param name="skip">An index whose exp is stored but left out of the sum (−1 for none).</param>
    /// <param name="store">Receives the exps, or empty.</param>
    /// <returns>The sum.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T SumExpScaled<T>(ReadOnlySpan<T> x, T m, T s, int skip, Span<T> store)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T r = ref MemoryMarshal.GetReference(x);
        ref T sr = ref MemoryMarshal.GetReference(store);
        bool storing = !store.IsEmpty;
        int n = x.Length, i = 0;
        T floor = T.CreateTruncating(FastExp.SmallestNormalExponent), sum = T.Zero;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            Vector512<T> vm = Vector512.Create(m), vsc = Vector512.Create(s), vf = Vector512.Create(floor), vs = Vector512<T>.Zero;

            // The one vector that holds the skipped index (if any) is masked; the others add every lane.
            int skipStart = skip < 0 ? -1 : skip - (skip % Vector512<T>.Count);
            Vector512<T> keep = ~Vector512.Equals(Vector512.CreateSequence(T.Zero, T.One), Vector512.Create(T.CreateTruncating(skip - skipStart)));
            int last = n - Vector512<T>.Count;
            Vector512<T> tail = Vector512.LoadUnsafe(ref r, (nuint)last); // read before any store: store may be x
            for (; i <= last; i += Vector512<T>.Count)
            {
                Vector512<T> e = SimdMath.Exp(Vector512.Max((Vector512.LoadUnsafe(ref r, (nuint)i) - vm) * vsc, vf));
                if (storing)
                {
                    e.StoreUnsafe(ref sr, (nuint)i);
                }

                vs += i == skipStart ? e & keep : e;
            }

            if (i < n)
            {
                // The last Count elements, overlapping the ones done (masked out of the sum, stored again alike).
                Vector512<T> e = SimdMath.Exp(Vector512.Max((tail - vm) * vsc, vf));
                Vector512<T> fresh = TailMask512<T>(i - last);
                if (skip >= i)
                {
                    fresh &= ~Vector512.Equals(Vector512.CreateSequence(T.Zero, T.One), Vector512.Create(T.CreateTruncating(skip - last)));
                }

                vs += e & fresh;
                if (storing)
                {
                    e.StoreUnsafe(ref sr, (nuint)last);
                }

                i = n;
            }

            sum = Vector512.Sum(vs);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            Vector256<T> vm = Vector256.Create(m), vsc = Vector256.Create(s), vf = Vector256.Create(floor), vs = Vector256<T>.Zero;

            // The one vector that holds the skipped index (if any) is masked; the others add every lane.
            int skipStart = skip < 0 ? -1 : skip - (skip % Vector256<T>.Count);
            Vector256<T> keep = ~Vector256.Equals(Vector256.CreateSequence(T.Zero, T.One), Vector256.Create(T.CreateTruncating(skip - skipStart)));
            int last = n - Vector256<T>.Count;
            Vector256<T> tail = Vector256.LoadUnsafe(ref r, (nuint)last); // read before any store: store may be x
            for (; i <= last; i += Vector256<T>.Count)
            {
                Vector256<T> e = SimdMath.Exp(Vector256.Max((Vector256.LoadUnsafe(ref r, (nuint)i) - vm) * vsc, vf));
                if (storing)
                {
                    e.StoreUnsafe(ref sr, (nuint)i);
                }

                vs += i == skipStart ? e & keep : e;
            }

            if (i < n)
            {
                // The last Count elements, overlapping the ones done (masked out of the sum, stored again alike).
                Vector256<T> e = SimdMath.Exp(Vector256.Max((tail - vm) * vsc, vf));
                Vector256<T> fresh = TailMask256<T>(i - last);
                if (skip >= i)
                {
                    fresh &= ~Vector256.Equals(Vector256.CreateSequence(T.Zero, T.One), Vector256.Create(T.CreateTruncating(skip - last)));
                }

                vs += e & fresh;
                if (storing)
                {
                    e.StoreUnsafe(ref sr, (nuint)last);
                }

                i = n;
            }

            sum = Vector256.Sum(vs);
        }

        for (; i < n; i++)
        {
            T e = SimdMath.Exp(T.Max((Unsafe.Add(ref r, i) - m) * s, floor));
            sum += i == skip ? T.Zero : e;
            if (storing)
            {
                Unsafe.Add(ref sr, i) = e;
            }
        }

        return sum;
    }

    /// <summary>Σ_c exp(x_c + o_c − m), storing each exp into <paramref name="store"/> when it is not empty (per-class offsets o, as logit adjustment adds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T SumExpOffset<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> offset, T m, Span<T> store)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T r = ref MemoryMarshal.GetReference(x);
        ref T or = ref MemoryMarshal.GetReference(offset);
        ref T sr = ref MemoryMarshal.GetReference(store);
        bool storing = !store.IsEmpty;
        int n = x.Length, i = 0;
        T s = T.Zero;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            Vector512<T> vm = Vector512.Create(m), vs = Vector512<T>.Zero;
            int last = n - Vector512<T>.Count;
            Vector512<T> tail = Vector512.LoadUnsafe(ref r, (nuint)last); // read before any store: store may be x
            for (; i <= last; i += Vector512<T>.Count)
            {
                Vector512<T> e = SimdMath.Exp(Vector512.LoadUnsafe(ref r, (nuint)i) + Vector512.LoadUnsafe(ref or, (nuint)i) - vm);
                vs += e;
                if (storing)
                {
                    e.StoreUnsafe(ref sr, (nuint)i);
                }
            }

            if (i < n)
            {
                // The last Count elements, overlapping the ones done (masked out of the sum, stored again alike).
                Vector512<T> e = SimdMath.Exp(tail + Vector512.LoadUnsafe(ref or, (nuint)last) - vm);
                vs += e & TailMask512<T>(i - last);
                if (storing)
                {
                    e.StoreUnsafe(ref sr, (nuint)last);
                }

                i = n;
            }

            s = Vector512.Sum(vs);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            Vector256<T> vm = Vector256.Create(m), vs = Vector256<T>.Zero;
            int last = n - Vector256<T>.Count;
            Vector256<T> tail = Vector256.LoadUnsafe(ref r, (nuint)last); // read before any store: store may be x
            for (; i <= last; i += Vector256<T>.Count)
            {
                Vector256<T> e = SimdMath.Exp(Vector256.LoadUnsafe(ref r, (nuint)i) + Vector256.LoadUnsafe(ref or, (nuint)i) - vm);
                vs += e;
                if (storing)
                {
                    e.StoreUnsafe(ref sr, (nuint)i);
                }
            }

            if (i < n)
            {
                // The last Count elements, overlapping the ones done (masked out of the sum, stored again alike).
                Vector256<T> e = SimdMath.Exp(tail + Vector256.LoadUnsafe(ref or, (nuint)last) - vm);
                vs += e & TailMask256<T>(i - last);
                if (storing)
                {
                    e.StoreUnsafe(ref sr, (nuint)last);
                }

                i = n;
            }

            s = Vector256.Sum(vs);
        }

        for (; i < n; i++)
        {
            T e = SimdMath.Exp(Unsafe.Add(ref r, i) + Unsafe.Add(ref or, i) - m);
            s += e;
            if (storing)
            {
                Unsafe.Add(ref sr, i) = e;
            }
        }

        return s;
    }

    /// <summary>In place: g_c = g_c·scale − offset·w_c (w ≡ 1 when <paramref name="weight"/> is empty; nothing subtracted when offset is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleAndOffset<T>(Span<T> g, T scale, T offset, ReadOnlySpan<T> weight)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T gr = ref MemoryMarshal.GetReference(g);
        ref T wr = ref MemoryMarshal.GetReference(weight);
        bool weighted = !weight.IsEmpty;
        bool subtract = offset != T.Zero;
        int n = g.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            Vector512<T> vs = Vector512.Create(scale), vo = Vector512.Create(offset);
            int last = n - Vector512<T>.Count;
            Vector512<T> tail = Vector512.LoadUnsafe(ref gr, (nuint)last); // the last vector's values before the loop rewrites them
            for (; i <= last; i += Vector512<T>.Count)
            {
                Vector512<T> v = Vector512.LoadUnsafe(ref gr, (nuint)i) * vs;
                if (subtract)
                {
                    v -= weighted ? vo * Vector512.LoadUnsafe(ref wr, (nuint)i) : vo;
                }

                v.StoreUnsafe(ref gr, (nuint)i);
            }

            if (i < n)
            {
                // The last Count elements from their values before the loop: the overlapped ones get the same values again.
                Vector512<T> v = tail * vs;
                if (subtract)
                {
                    v -= weighted ? vo * Vector512.LoadUnsafe(ref wr, (nuint)last) : vo;
                }

                v.StoreUnsafe(ref gr, (nuint)last);
                i = n;
            }
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            Vector256<T> vs = Vector256.Create(scale), vo = Vector256.Create(offset);
            int last = n - Vector256<T>.Count;
            Vector256<T> tail = Vector256.LoadUnsafe(ref gr, (nuint)last); // the last vector's values before the loop rewrites them
            for (; i <= last; i += Vector256<T>.Count)
            {
                Vector256<T> v = Vector256.LoadUnsafe(ref gr, (nuint)i) * vs;
                if (subtract)
                {
                    v -= weighted ? vo * Vector256.LoadUnsafe(ref wr, (nuint)i) : vo;
                }

                v.StoreUnsafe(ref gr, (nuint)i);
            }

            if (i < n)
            {
                // The last Count elements from their values before the loop: the overlapped ones get the same values again.
                Vector256<T> v = tail * vs;
                if (subtract)
                {
                    v -= weighted ? vo * Vector256.LoadUnsafe(ref wr, (nuint)last) : vo;
                }

                v.StoreUnsafe(ref gr, (nuint)last);
                i = n;
            }
        }

        for (; i < n; i++)
        {
            T v = Unsafe.Add(ref gr, i) * scale;
            if (subtract)
            {
                v -= weighted ? offset * Unsafe.Add(ref wr, i) : offset;
            }

            Unsafe.Add(ref gr, i) = v;
        }
    }

    /// <summary>
    /// For probability targets q_c = α·t_c + β: returns Σ exp(x_c − m), and Σ w_c·q_c·(x_c − m) in
    /// <paramref name="weightedShift"/> and Σ w_c·q_c in <paramref name="weightedMass"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T SumExpProbability<T>(ReadOnlySpan<T> x, T m, ReadOnlySpan<T> target, T alpha, T beta, ReadOnlySpan<T> weight, out T weightedShift, out T weightedMass)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T r = ref MemoryMarshal.GetReference(x);
        ref T tr = ref MemoryMarshal.GetReference(target);
        ref T wr = ref MemoryMarshal.GetReference(weight);
        bool weighted = !weight.IsEmpty;
        int n = x.Length;
        int i = 0;
        T s = T.Zero, a = T.Zero, b = T.Zero;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            Vector512<T> vm = Vector512.Create(m), va = Vector512.Create(alpha), vb = Vector512.Create(beta);
            Vector512<T> vs = Vector512<T>.Zero, vA = Vector512<T>.Zero, vB = Vector512<T>.Zero;
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                Vector512<T> d = Vector512.LoadUnsafe(ref r, (nuint)i) - vm;
                Vector512<T> q = Vector512.LoadUnsafe(ref tr, (nuint)i) * va + vb;
                if (weighted)
                {
                    q *= Vector512.LoadUnsafe(ref wr, (nuint)i);
                }

                vs += SimdMath.Exp(d);
                vA += q * d;
                vB += q;
            }

            s = Vector512.Sum(vs);
            a = Vector512.Sum(vA);
            b = Vector512.Sum(vB);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            Vector256<T> vm = Vector256.Create(m), va = Vector256.Create(alpha), vb = Vector256.Create(beta);
            Vector256<T> vs = Vector256<T>.Zero, vA = Vector256<T>.Zero, vB = Vector256<T>.Zero;
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                Vector256<T> d = Vector256.LoadUnsafe(ref r, (nuint)i) - vm;
                Vector256<T> q = Vector256.LoadUnsafe(ref tr, (nuint)i) * va + vb;
                if (weighted)
                {
                    q *= Vector256.LoadUnsafe(ref wr, (nuint)i);
                }

                vs += SimdMath.Exp(d);
                vA += q * d;
                vB += q;
            }

            s = Vector256.Sum(vs);
            a = Vector256.Sum(vA);
            b = Vector256.Sum(vB);
        }

        for (; i < n; i++)
        {
            T d = Unsafe.Add(ref r, i) - m;
            T q = Unsafe.Add(ref tr, i) * alpha + beta;
            if (weighted)
            {
                q *= Unsafe.Add(ref wr, i);
            }

            s += SimdMath.Exp(d);
            a += q * d;
            b += q;
        }

        weightedShift = a;
        weightedMass = b;
        return s;
    }

    /// <summary>
    /// Probability targets: writes g_c = scale·exp(x_c − m) − κ·w_c·(α·t_c + β).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WriteProbabilityGradient<T>(ReadOnlySpan<T> x, T m, T scale, T kappa, ReadOnlySpan<T> target, T alpha, T beta, ReadOnlySpan<T> weight, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T r = ref MemoryMarshal.GetReference(x);
        ref T tr = ref MemoryMarshal.GetReference(target);
        ref T wr = ref MemoryMarshal.GetReference(weight);
        ref T gr = ref MemoryMarshal.GetReference(gradient);
        bool weighted = !weight.IsEmpty;
        int n = x.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            Vector512<T> vm = Vector512.Create(m), vscale = Vector512.Create(scale), vk = Vector512.Create(kappa);
            Vector512<T> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                Vector512<T> q = (Vector512.LoadUnsafe(ref tr, (nuint)i) * va + vb) * vk;
                if (weighted)
                {
                    q *= Vector512.LoadUnsafe(ref wr, (nuint)i);
                }

                (SimdMath.Exp(Vector512.LoadUnsafe(ref r, (nuint)i) - vm) * vscale - q).StoreUnsafe(ref gr, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            Vector256<T> vm = Vector256.Create(m), vscale = Vector256.Create(scale), vk = Vector256.Create(kappa);
            Vector256<T> va = Vector256.Create(alpha), vb = Vector256.Create(beta);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                Vector256<T> q = (Vector256.LoadUnsafe(ref tr, (nuint)i) * va + vb) * vk;
                if (weighted)
                {
                    q *= Vector256.LoadUnsafe(ref wr, (nuint)i);
                }

                (SimdMath.Exp(Vector256.LoadUnsafe(ref r, (nuint)i) - vm) * vscale - q).StoreUnsafe(ref gr, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            T q = (Unsafe.Add(ref tr, i) * alpha + beta) * kappa;
            if (weighted)
            {
                q *= Unsafe.Add(ref wr, i);
            }

            Unsafe.Add(ref gr, i) = SimdMath.Exp(Unsafe.Add(ref r, i) - m) * scale - q;
        }
    }

    /// <summary>All bits set in lanes <paramref name="from"/> and above, clear below (the new lanes of an overlapping last vector).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> TailMask512<T>(int from)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Vector512.GreaterThanOrEqual(Vector512.CreateSequence(T.Zero, T.One), Vector512.Create(T.CreateTruncating(from)));

    /// <summary>All bits set in lanes <paramref name="from"/> and above, clear below (the new lanes of an overlapping last vector).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> TailMask256<T>(int from)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Vector256.GreaterThanOrEqual(Vector256.CreateSequence(T.Zero, T.One), Vector256.Create(T.CreateTruncating(from)));
}
