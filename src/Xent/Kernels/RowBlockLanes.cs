using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Kernels;

/// <summary>
/// Cross-entropy with class-index targets (class weights and label smoothing too, not LDAM's scale or margins) for
/// eight contiguous rows of C floats, C a multiple of 8 from 24 to 64, with AVX2. Each row is read along C where it lies; only its per-vector
/// partial maximum, minimum, Σexp (and smoothed, Σw·(x − max)) are brought into lanes (row j in lane j), by a three-level shuffle tree of 21
/// instructions for eight rows. The lane kernel's block transposes, into its scratch and back out to the gradient,
/// cost about as much as its exps at C = 64.
/// </summary>
/// <remarks>
/// The semantics are the lane kernel's: the exps take the short path when every x − max of the block is within its
/// range; a row with a NaN, or an infinite maximum, has a NaN Σexp and so a NaN loss and gradient; ignored rows get a
/// loss of 0 and a gradient of 0 (NaN where Σexp is NaN). Σexp is summed per row in vectors along C and then across
/// the vector, so its last bit may differ from the lane kernel's (which sums each row's classes in order); the other
/// arithmetic is the lane kernel's, operation for operation.
/// </remarks>
internal static unsafe class RowBlockLanes
{
    /// <summary>The rows of one call.</summary>
    public const int Rows = 8;

    /// <summary>Whether the CPU has the instructions (AVX2 and FMA).</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Whether rows of <paramref name="c"/> classes take this kernel.</summary>
    public static bool Fits(int c) => c % 8 == 0 && c >= 24 && c <= 64;

    /// <summary>
    /// The eight rows from <paramref name="x"/> (row stride <paramref name="c"/>): writes each row's loss to
    /// <paramref name="losses"/> and its gradient to <paramref name="gradient"/> (either may be null), and returns the
    /// sum of the losses. Class weights (<paramref name="weight"/>, or null) and label smoothing come from
    /// <paramref name="settings"/> as in the lane kernel; <see cref="LaneKernel.PlainLanes"/> compiles them out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    public static double Run<TOptions>(float* x, int c, int* targets, int ignoreIndex, float* weight, in LaneKernel.Settings settings, float* gradient, float* losses)
        where TOptions : struct, LaneKernel.ILaneOptions
    {
        bool weighted = TOptions.Any && weight != null;
        float eps = TOptions.Any ? settings.Smoothing : 0f;
        bool smooth = eps > 0;
        Vector256<float>* high = stackalloc Vector256<float>[Rows];
        Vector256<float>* low = stackalloc Vector256<float>[Rows];
        for (int r = 0; r < Rows; r++)
        {
            float* row = x + (r * c);
            Vector256<float> m = Avx.LoadVector256(row), lo = m;
            for (int k = 8; k < c; k += 8)
            {
                Vector256<float> v = Avx.LoadVector256(row + k);
                m = Avx.Max(m, v);
                lo = Avx.Min(lo, v);
            }

            high[r] = m;
            low[r] = lo;
        }

        Vector256<float> max = Reduce<MaxOp>(high), min = Reduce<MinOp>(low);
        bool normal = V256.HasNormalExp && Vector256.GreaterThanOrEqualAll(min - max, Vector256.Create(-FastExp.NormalRange));

        // x[y] − max (and w[y]), read by gathers before the gradient is written (it may be the logits' own storage). An
        // ignored row's index is 0; the clamp only keeps the reads inside the block and the weights.
        Vector256<int> y = Avx.LoadVector256(targets);
        Vector256<float> ignored = Vector256.Equals(y, Vector256.Create(ignoreIndex)).AsSingle();
        Vector256<int> column = Avx2.Min(Avx2.Max(Vector256.AndNot(y, ignored.AsInt32()), Vector256<int>.Zero), Vector256.Create(c - 1));
        Vector256<int> index = column + (Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * Vector256.Create(c));
        Vector256<float> xy = Avx2.GatherVector256(x, index, 4) - max;
        Vector256<float> wy = weighted ? Avx2.GatherVector256(weight, column, 4) : Vector256.Create(1f);

        // Σexp (and, smoothed, Σ w·(x − max)), the exps stored in the gradient on the way.
        Vector256<float>* sums = high, shifts = low;
        for (int r = 0; r < Rows; r++)
        {
            float* row = x + (r * c), g = gradient + (r * c);
            Vector256<float> m = Avx2.PermuteVar8x32(max, Vector256.Create(r)), s = Vector256<float>.Zero, t = Vector256<float>.Zero;
            for (int k = 0; k < c; k += 8)
            {
                Vector256<float> d = Avx.LoadVector256(row + k) - m;
                Vector256<float> e = normal ? FastExp.NormalExp(d) : FastExp.Exp(d);
                s += e;
                if (gradient != null)
                {
                    Avx.Store(g + k, e);
                }

                if (smooth)
                {
                    t += weighted ? d * Avx.LoadVector256(weight + k) : d;
                }
            }

            sums[r] = s;
            shifts[r] = t;
        }

        Vector256<float> sum = Reduce<AddOp>(sums);
        Vector256<float> lse = FastLog.Log(sum);
        Vector256<float> loss = wy * (lse - xy);
        if (smooth)
        {
            Vector256<float> smoothTerm = (Vector256.Create(settings.WeightSum) * lse) - Reduce<AddOp>(shifts);
            loss = (Vector256.Create(1 - eps) * loss) + (Vector256.Create(eps / c) * smoothTerm);
        }

        loss = Avx.BlendVariable(loss, Vector256<float>.Zero, ignored);
        if (losses != null)
        {
            Avx.Store(losses, loss);
        }

        if (gradient != null)
        {
            float kappa = settings.Kappa;
            Vector256<float> a = smooth
                ? (Vector256.Create(kappa * (1 - eps)) * wy) + Vector256.Create(kappa * eps / c * settings.WeightSum)
                : Vector256.Create(kappa) * wy;
            Vector256<float> scale = a / sum;
            float* hit = stackalloc float[Rows];
            Avx.Store(hit, Vector256.Create(kappa * (1 - eps)) * wy);
            Vector256<float> offset = Vector256.Create(smooth ? kappa * eps / c : 0f);
            // As the lane kernel: an ignored row gets 0, or NaN where its Σexp is NaN (a NaN logit or an infinite maximum).
            Vector256<float> ignoredValue = Avx.BlendVariable(Vector256.Create(float.NaN), Vector256<float>.Zero, Vector256.Equals(sum, sum));
            for (int r = 0; r < Rows; r++)
            {
                float* g = gradient + (r * c);
                if (targets[r] == ignoreIndex)
                {
                    Vector256<float> value = Avx2.PermuteVar8x32(ignoredValue, Vector256.Create(r));
                    for (int k = 0; k < c; k += 8)
                    {
                        Avx.Store(g + k, value);
                    }

                    continue;
                }

                Vector256<float> sc = Avx2.PermuteVar8x32(scale, Vector256.Create(r));
                for (int k = 0; k < c; k += 8)
                {
                    Vector256<float> v = Avx.LoadVector256(g + k) * sc;
                    if (smooth)
                    {
                        v -= weighted ? offset * Avx.LoadVector256(weight + k) : offset;
                    }

                    Avx.Store(g + k, v);
                }

                g[targets[r]] -= hit[r];
            }
        }

        return V256.SumToDouble(new V256(loss));
    }

    /// <summary>Lane j of the result is the reduction of the eight lanes of <paramref name="rows"/>[j] (three levels of shuffles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Reduce<TOp>(Vector256<float>* rows)
        where TOp : struct, IReduceOp
    {
        // Level 1: pairs of rows, lanes k and k + 2 of each 128-bit half combined.
        Vector256<float> t01 = TOp.Apply(Avx.UnpackLow(rows[0], rows[1]), Avx.UnpackHigh(rows[0], rows[1]));
        Vector256<float> t23 = TOp.Apply(Avx.UnpackLow(rows[2], rows[3]), Avx.UnpackHigh(rows[2], rows[3]));
        Vector256<float> t45 = TOp.Apply(Avx.UnpackLow(rows[4], rows[5]), Avx.UnpackHigh(rows[4], rows[5]));
        Vector256<float> t67 = TOp.Apply(Avx.UnpackLow(rows[6], rows[7]), Avx.UnpackHigh(rows[6], rows[7]));
        // Level 2: four rows a 128-bit half, each half's two remaining partials combined.
        Vector256<float> u0 = TOp.Apply(Avx.Shuffle(t01, t23, 0x44), Avx.Shuffle(t01, t23, 0xEE));
        Vector256<float> u1 = TOp.Apply(Avx.Shuffle(t45, t67, 0x44), Avx.Shuffle(t45, t67, 0xEE));
        // Level 3: the two halves combined, rows 0–3 from u0 and 4–7 from u1.
        return TOp.Apply(Avx.Permute2x128(u0, u1, 0x20), Avx.Permute2x128(u0, u1, 0x31));
    }

    private interface IReduceOp
    {
        static abstract Vector256<float> Apply(Vector256<float> a, Vector256<float> b);
    }

    private readonly struct MaxOp : IReduceOp
    {
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Avx.Max(a, b);
    }

    private readonly struct MinOp : IReduceOp
    {
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Avx.Min(a, b);
    }

    private readonly struct AddOp : IReduceOp
    {
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => a + b;
    }
}
