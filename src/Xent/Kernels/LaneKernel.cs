using System.Runtime.CompilerServices;

namespace Xent.Kernels;

/// <summary>
/// Cross-entropy with class-index targets for one SIMD vector of positions at a time: lane j is position j, and the
/// C classes of every lane lie <c>classStride</c> elements apart. That is the natural K-dimensional layout (N, C, S),
/// vectorised across S without any transpose; small-C 2-D input is transposed block-wise into L1 scratch to reach it.
/// Weights, ignore_index and label smoothing cost no extra memory pass.
/// </summary>
/// <remarks>
/// Each class's exp is computed once: the first pass stores exp(x − m) into the gradient destination while summing it,
/// and the second pass rescales those values in place (from L1) into the gradient.
/// </remarks>
internal static class LaneKernel
{
    /// <summary>Settings shared by every vector of one call.</summary>
    internal readonly struct Settings
    {
        public Settings(int classes, float ignoreIndex, float smoothing, float weightSum, float kappa)
        {
            Classes = classes;
            IgnoreIndex = ignoreIndex;
            Smoothing = smoothing;
            WeightSum = weightSum;
            Kappa = kappa;
        }

        public int Classes { get; }

        public float IgnoreIndex { get; }

        public float Smoothing { get; }

        public float WeightSum { get; }

        public float Kappa { get; }

        /// <summary>The factor s applied to x − max before the softmax (LDAM's scale). Default: 1.</summary>
        public float Scale { get; init; } = 1f;
    }

    /// <summary>Processes one vector of positions; returns the sum of their losses.</summary>
    /// <param name="x">Class 0 of the first lane; class k of lane j is at x[k·stride + j].</param>
    /// <param name="stride">The class stride.</param>
    /// <param name="targets">The lanes' class indices (contiguous).</param>
    /// <param name="weight">Per-class weights, or empty.</param>
    /// <param name="settings">Classes, ignore index, smoothing, Σw, gradient scale.</param>
    /// <param name="gradient">Class 0 of the first lane's gradient (same layout), when <paramref name="wantGradient"/>.</param>
    /// <param name="wantGradient">Whether to write the gradient.</param>
    /// <param name="losses">The lanes' losses (contiguous), when <paramref name="wantLosses"/>.</param>
    /// <param name="wantLosses">Whether to write per-position losses.</param>
    /// <param name="margin">Per-class values subtracted from the target's scaled logit (LDAM's s·Δ), or empty.</param>
    public static double Run<TV>(ref float x, int stride, ref int targets, ReadOnlySpan<float> weight, in Settings settings, ref float gradient, bool wantGradient, ref float losses, bool wantLosses, ReadOnlySpan<float> margin = default)
        where TV : struct, IFloatVector<TV>
        => weight.IsEmpty && settings.Smoothing == 0 && settings.Scale == 1f && margin.IsEmpty
            ? Run<TV, PlainLanes>(ref x, stride, ref targets, weight, settings, ref gradient, wantGradient, ref losses, wantLosses, margin)
            : Run<TV, AnyLanes>(ref x, stride, ref targets, weight, settings, ref gradient, wantGradient, ref losses, wantLosses, margin);

    /// <summary>
    /// Whether the options (weights, smoothing, LDAM's scale and margins) may be in use: <see cref="PlainLanes"/> compiles
    /// them out, so that the plain kernel keeps its few vectors in registers (AVX2 has 16), where the general one spills.
    /// </summary>
    internal interface ILaneOptions
    {
        static abstract bool Any { get; }
    }

    /// <summary>No weights, smoothing, scale or margins.</summary>
    internal readonly struct PlainLanes : ILaneOptions
    {
        public static bool Any => false;
    }

    /// <summary>Any of the options.</summary>
    internal readonly struct AnyLanes : ILaneOptions
    {
        public static bool Any => true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Run<TV, TOptions>(ref float x, int stride, ref int targets, ReadOnlySpan<float> weight, in Settings settings, ref float gradient, bool wantGradient, ref float losses, bool wantLosses, ReadOnlySpan<float> margin)
        where TV : struct, IFloatVector<TV>
        where TOptions : struct, ILaneOptions
    {
        int c = settings.Classes;
        bool weighted = TOptions.Any && !weight.IsEmpty;
        float eps = TOptions.Any ? settings.Smoothing : 0f;
        bool smooth = eps > 0;
        TV y = TV.LoadInts(ref targets);
        TV ignored = TV.Equal(y, TV.Create(settings.IgnoreIndex));
        TV zero = TV.Create(0f);

        TV m = TV.Load(ref x);
        bool scaled = TOptions.Any && settings.Scale != 1f, margined = TOptions.Any && !margin.IsEmpty;
        bool normal = false;
        if (TV.HasNormalExp && !scaled)
        {
            // The lanes' minimum too, so that the exps take the shorter path when every x − m is within its range. Both
            // are native (one instruction each, where the IEEE maximum is several): a lane with a NaN may get any m, but
            // its exps then include exp(NaN), so its Σexp, loss and gradient are NaN all the same (the finite test below
            // reads Σexp for that reason).
            TV lo = m;
            for (int k = 1; k < c; k++)
            {
                TV v = TV.Load(ref Unsafe.Add(ref x, k * stride));
                m = TV.MaxNative(m, v);
                lo = TV.MinNative(lo, v);
            }

            normal = TV.AllAtLeast(TV.Subtract(lo, m), TV.Create(-FastExp.NormalRange));
        }
        else
        {
            for (int k = 1; k < c; k++)
            {
                m = TV.Max(m, TV.Load(ref Unsafe.Add(ref x, k * stride)));
            }
        }

        TV s = zero, t = zero, xy = zero, wy = weighted ? zero : TV.Create(1f);
        TV scaleV = TV.Create(settings.Scale), lowest = TV.Create(FastExp.SmallestNormalExponent);
        for (int k = 0; k < c; k++)
        {
            TV d = TV.Subtract(TV.Load(ref Unsafe.Add(ref x, k * stride)), m);
            TV isY = TV.Equal(y, TV.Create(k));
            if (scaled)
            {
                d = TV.Multiply(d, scaleV);
            }

            if (margined)
            {
                d = TV.Select(isY, TV.Subtract(d, TV.Create(margin[k])), d);
            }

            TV e;
            if (scaled)
            {
                // Scaled logits reach far below exp's normal range (s = 30 turns a gap of 3 into −90): below it, 0, not a
                // subnormal, whose arithmetic is microcoded on many CPUs (it made LDAM 1.7x slower). NaN still propagates.
                TV dc = TV.Max(d, lowest);
                e = TV.Select(TV.Equal(dc, lowest), zero, TV.Exp(dc));
            }
            else
            {
                e = normal ? TV.NormalExp(d) : TV.Exp(d);
            }

            s = TV.Add(s, e);
            if (wantGradient)
            {
                TV.Store(e, ref Unsafe.Add(ref gradient, k * stride));
            }

            xy = TV.Select(isY, d, xy);
            if (weighted)
            {
                TV wk = TV.Create(weight[k]);
                wy = TV.Select(isY, wk, wy);
                if (smooth)
                {
                    t = TV.Add(t, TV.Multiply(d, wk));
                }
            }
            else if (smooth)
            {
                t = TV.Add(t, d);
            }
        }

        TV lse = TV.Log(s);
        TV loss = TV.Multiply(wy, TV.Subtract(lse, xy));
        if (smooth)
        {
            TV smoothTerm = TV.Subtract(TV.Multiply(TV.Create(settings.WeightSum), lse), t);
            loss = TV.Add(TV.Multiply(TV.Create(1 - eps), loss), TV.Multiply(TV.Create(eps / c), smoothTerm));
        }

        loss = TV.Select(ignored, zero, loss);
        if (wantLosses)
        {
            TV.Store(loss, ref losses);
        }

        if (wantGradient)
        {
            float kappa = settings.Kappa;
            TV a = smooth
                ? TV.Add(TV.Multiply(TV.Create(kappa * (1 - eps)), wy), TV.Create(kappa * eps / c * settings.WeightSum))
                : TV.Multiply(TV.Create(kappa), wy);
            TV scale = TV.Divide(a, s);
            TV hit = TV.Multiply(TV.Create(kappa * (1 - eps)), wy);
            // Ignored lanes get 0, or NaN where PyTorch's log_softmax backward gives NaN (a NaN or infinite row maximum).
            // Σexp is NaN exactly there: a NaN logit gives exp(NaN), an infinite maximum exp(inf − inf); otherwise it lies
            // in [1, C].
            TV finite = TV.Equal(s, s);
            TV ignoredValue = TV.Select(finite, zero, TV.Create(float.NaN));
            float offset = smooth ? kappa * eps / c : 0f;
            for (int k = 0; k < c; k++)
            {
                ref float gk = ref Unsafe.Add(ref gradient, k * stride);
                TV g = TV.Multiply(TV.Load(ref gk), scale);
                if (smooth)
                {
                    g = TV.Subtract(g, TV.Create(weighted ? offset * weight[k] : offset));
                }

                g = TV.Subtract(g, TV.Select(TV.Equal(y, TV.Create(k)), hit, zero));
                TV.Store(TV.Select(ignored, ignoredValue, g), ref gk);
            }
        }

        return TV.SumToDouble(loss);
    }
}

/// <summary>
/// Cross-entropy with probability targets for one SIMD vector of positions (lane j is position j; class k of every lane
/// lies <c>stride</c> elements after class k − 1, in the logits, the targets and the gradient alike). The loss is
/// B·log Σexp − A with A = Σ w·q·(x − m) and B = Σ w·q, q = α·t + β; the gradient is κ·(p·B − w·q).
/// </summary>
internal static class ProbabilityLaneKernel
{
    /// <summary>Processes one vector of positions; returns the sum of their losses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Run<TV>(ref float x, ref float target, int stride, ReadOnlySpan<float> weight, in LaneKernel.Settings settings, ref float gradient, bool wantGradient, ref float losses, bool wantLosses)
        where TV : struct, IFloatVector<TV>
    {
        int c = settings.Classes;
        bool weighted = !weight.IsEmpty;
        float eps = settings.Smoothing;
        TV alpha = TV.Create(eps > 0 ? 1 - eps : 1f), beta = TV.Create(eps > 0 ? eps / c : 0f);
        TV zero = TV.Create(0f);
        TV m = TV.Load(ref x);
        for (int k = 1; k < c; k++)
        {
            m = TV.Max(m, TV.Load(ref Unsafe.Add(ref x, k * stride)));
        }

        TV s = zero, a = zero, b = zero;
        for (int k = 0; k < c; k++)
        {
            TV d = TV.Subtract(TV.Load(ref Unsafe.Add(ref x, k * stride)), m);
            TV e = TV.Exp(d);
            s = TV.Add(s, e);
            if (wantGradient)
            {
                TV.Store(e, ref Unsafe.Add(ref gradient, k * stride));
            }

            TV q = TV.Add(TV.Multiply(TV.Load(ref Unsafe.Add(ref target, k * stride)), alpha), beta);
            if (weighted)
            {
                q = TV.Multiply(q, TV.Create(weight[k]));
            }

            a = TV.Add(a, TV.Multiply(q, d));
            b = TV.Add(b, q);
        }

        TV loss = TV.Subtract(TV.Multiply(b, TV.Log(s)), a);
        if (wantLosses)
        {
            TV.Store(loss, ref losses);
        }

        if (wantGradient)
        {
            TV kappa = TV.Create(settings.Kappa);
            TV scale = TV.Divide(TV.Multiply(kappa, b), s);
            for (int k = 0; k < c; k++)
            {
                ref float gk = ref Unsafe.Add(ref gradient, k * stride);
                TV q = TV.Add(TV.Multiply(TV.Load(ref Unsafe.Add(ref target, k * stride)), alpha), beta);
                if (weighted)
                {
                    q = TV.Multiply(q, TV.Create(weight[k]));
                }

                TV.Store(TV.Subtract(TV.Multiply(TV.Load(ref gk), scale), TV.Multiply(kappa, q)), ref gk);
            }
        }

        return TV.SumToDouble(loss);
    }
}

/// <summary>
/// The lane kernel over a tile of positions (a multiple of the vector width): each class plane is swept contiguously
/// across the whole tile before the next, so K-dimensional input with planes far apart streams well instead of
/// touching every plane once per vector. The per-lane state lives in small stack buffers; for a single vector,
/// <see cref="LaneKernel"/> keeps it in registers instead, which measured 3× faster at small C (so both exist).
/// </summary>
internal static class TiledLaneKernel
{
    /// <summary>Positions per tile.</summary>
    public const int Tile = 256;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Run<TV>(ref float x, int stride, int tile, ref int targets, ReadOnlySpan<float> weight, in LaneKernel.Settings settings, ref float gradient, bool wantGradient, ref float losses, bool wantLosses)
        where TV : struct, IFloatVector<TV>
    {
        int c = settings.Classes, v = TV.Count;
        bool weighted = !weight.IsEmpty;
        float eps = settings.Smoothing;
        bool smooth = eps > 0;
        Span<float> mBuf = stackalloc float[Tile], sBuf = stackalloc float[Tile], tBuf = stackalloc float[Tile], xyBuf = stackalloc float[Tile], wyBuf = stackalloc float[Tile], yBuf = stackalloc float[Tile];
        ref float m0 = ref mBuf[0], s0 = ref sBuf[0], t0 = ref tBuf[0], xy0 = ref xyBuf[0], wy0 = ref wyBuf[0], y0 = ref yBuf[0];
        TV zero = TV.Create(0f);
        for (int j = 0; j < tile; j += v)
        {
            TV.Store(TV.LoadInts(ref Unsafe.Add(ref targets, j)), ref Unsafe.Add(ref y0, j));
            TV.Store(TV.Load(ref Unsafe.Add(ref x, j)), ref Unsafe.Add(ref m0, j));
            TV.Store(zero, ref Unsafe.Add(ref s0, j));
            TV.Store(zero, ref Unsafe.Add(ref t0, j));
            TV.Store(zero, ref Unsafe.Add(ref xy0, j));
            TV.Store(weighted ? zero : TV.Create(1f), ref Unsafe.Add(ref wy0, j));
        }

        for (int k = 1; k < c; k++)
        {
            ref float xk = ref Unsafe.Add(ref x, k * stride);
            for (int j = 0; j < tile; j += v)
            {
                TV.Store(TV.Max(TV.Load(ref Unsafe.Add(ref m0, j)), TV.Load(ref Unsafe.Add(ref xk, j))), ref Unsafe.Add(ref m0, j));
            }
        }

        for (int k = 0; k < c; k++)
        {
            ref float xk = ref Unsafe.Add(ref x, k * stride);
            ref float gk = ref Unsafe.Add(ref gradient, k * stride);
            TV kv = TV.Create(k);
            TV wk = weighted ? TV.Create(weight[k]) : TV.Create(1f);
            for (int j = 0; j < tile; j += v)
            {
                TV d = TV.Subtract(TV.Load(ref Unsafe.Add(ref xk, j)), TV.Load(ref Unsafe.Add(ref m0, j)));
                TV e = TV.Exp(d);
                TV.Store(TV.Add(TV.Load(ref Unsafe.Add(ref s0, j)), e), ref Unsafe.Add(ref s0, j));
                if (wantGradient)
                {
                    TV.Store(e, ref Unsafe.Add(ref gk, j));
                }

                TV isY = TV.Equal(TV.Load(ref Unsafe.Add(ref y0, j)), kv);
                TV.Store(TV.Select(isY, d, TV.Load(ref Unsafe.Add(ref xy0, j))), ref Unsafe.Add(ref xy0, j));
                if (weighted)
                {
                    TV.Store(TV.Select(isY, wk, TV.Load(ref Unsafe.Add(ref wy0, j))), ref Unsafe.Add(ref wy0, j));
                }

                if (smooth)
                {
                    TV.Store(TV.Add(TV.Load(ref Unsafe.Add(ref t0, j)), weighted ? TV.Multiply(d, wk) : d), ref Unsafe.Add(ref t0, j));
                }
            }
        }

        double sum = 0;
        TV ignoreValue = TV.Create(settings.IgnoreIndex);
        for (int j = 0; j < tile; j += v)
        {
            TV s = TV.Load(ref Unsafe.Add(ref s0, j)), wy = TV.Load(ref Unsafe.Add(ref wy0, j));
            TV lse = TV.Log(s);
            TV loss = TV.Multiply(wy, TV.Subtract(lse, TV.Load(ref Unsafe.Add(ref xy0, j))));
            if (smooth)
            {
                TV smoothTerm = TV.Subtract(TV.Multiply(TV.Create(settings.WeightSum), lse), TV.Load(ref Unsafe.Add(ref t0, j)));
                loss = TV.Add(TV.Multiply(TV.Create(1 - eps), loss), TV.Multiply(TV.Create(eps / c), smoothTerm));
            }

            TV ignored = TV.Equal(TV.Load(ref Unsafe.Add(ref y0, j)), ignoreValue);
            loss = TV.Select(ignored, zero, loss);
            if (wantLosses)
            {
                TV.Store(loss, ref Unsafe.Add(ref losses, j));
            }

            sum += TV.SumToDouble(loss);
            if (wantGradient)
            {
                // Reuse the buffers: s ← a/Σ (the softmax scale), t ← the target's subtrahend, wy ← the ignored lanes' value.
                float kappa = settings.Kappa;
                TV a = smooth
                    ? TV.Add(TV.Multiply(TV.Create(kappa * (1 - eps)), wy), TV.Create(kappa * eps / c * settings.WeightSum))
                    : TV.Multiply(TV.Create(kappa), wy);
                TV m = TV.Load(ref Unsafe.Add(ref m0, j));
                TV.Store(TV.Divide(a, s), ref Unsafe.Add(ref s0, j));
                TV.Store(TV.Multiply(TV.Create(kappa * (1 - eps)), wy), ref Unsafe.Add(ref t0, j));
                TV ignoredValue = TV.Select(TV.Equal(TV.Subtract(m, m), zero), zero, TV.Create(float.NaN));
                TV.Store(TV.Select(ignored, ignoredValue, TV.Create(float.PositiveInfinity)), ref Unsafe.Add(ref wy0, j));
            }
        }

        if (wantGradient)
        {
            float offset = smooth ? settings.Kappa * eps / c : 0f;
            TV infinity = TV.Create(float.PositiveInfinity);
            for (int k = 0; k < c; k++)
            {
                ref float gk = ref Unsafe.Add(ref gradient, k * stride);
                TV kv = TV.Create(k);
                TV off = TV.Create(weighted ? offset * weight[k] : offset);
                for (int j = 0; j < tile; j += v)
                {
                    TV g = TV.Multiply(TV.Load(ref Unsafe.Add(ref gk, j)), TV.Load(ref Unsafe.Add(ref s0, j)));
                    if (smooth)
                    {
                        g = TV.Subtract(g, off);
                    }

                    g = TV.Subtract(g, TV.Select(TV.Equal(TV.Load(ref Unsafe.Add(ref y0, j)), kv), TV.Load(ref Unsafe.Add(ref t0, j)), zero));
                    TV special = TV.Load(ref Unsafe.Add(ref wy0, j)); // +inf marks lanes that are not ignored
                    TV.Store(TV.Select(TV.Equal(special, infinity), g, special), ref Unsafe.Add(ref gk, j));
                }
            }
        }

        return sum;
    }
}
