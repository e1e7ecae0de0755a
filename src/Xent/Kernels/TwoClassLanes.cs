using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Kernels;

/// <summary>
/// Two-class cross-entropy (with class weights and label smoothing, not LDAM's scale or margins) on up to 64 interleaved
/// rows, 8 to a vector and one class per vector. With z = x_other − x_y the loss is max(z, 0) + log(1 + e) with
/// e = exp(−|z|), and the gradient is κσ(z) for the other class and −κσ(z) for the target, σ(z) being 1/(1 + e) or
/// e/(1 + e) by the sign of z (each as its own quotient, so that the small one keeps its precision): one exp, one log
/// (<see cref="FastLog.LogOneToTwo"/>, by a table) and one division per row, where the general lane kernel takes two
/// exps and the general log.
/// </summary>
/// <remarks>
/// <para>
/// The rows are taken only when every logit is finite and |z| ≤ <see cref="FastExp.NormalRange"/> (so that the exp
/// is normal); otherwise <see cref="TryRun"/> declines and the caller takes the general kernel, which gives PyTorch's
/// NaNs and subnormals. Both are within the float rounding of the float64 path: the target's gradient here is −κσ(z),
/// not κ(p_y − 1) rounded after the subtraction, so it is if anything nearer.
/// </para>
/// <para>
/// Up to eight groups of 8 rows a call, in passes (<c>Run</c> says why); the general lane kernel took 118 cycles per 8
/// rows on a Zen 3 core (docs/benchmarks.md).
/// </para>
/// </remarks>
internal static unsafe class TwoClassLanes
{
    /// <summary>Rows in a group: one vector per class.</summary>
    public const int GroupRows = 8;

    /// <summary>The most groups one call takes (64 rows).</summary>
    public const int MaxGroups = 8;

    /// <summary>Whether <see cref="TryRun"/> may be used: AVX2 (it is written for the 256-bit path).</summary>
    public static bool IsSupported => Avx2.IsSupported;

    /// <summary>
    /// The losses and the gradient of <paramref name="groups"/> × 8 rows, or false (with nothing written) when a logit
    /// is not finite or a row's classes are more than <see cref="FastExp.NormalRange"/> apart.
    /// </summary>
    /// <param name="logits">The rows' two logits each, interleaved as stored.</param>
    /// <param name="targets">The rows' class indices (contiguous; validated by the caller: 0, 1 or the ignore index).</param>
    /// <param name="groups">How many groups of 8 rows: 1 to <see cref="MaxGroups"/>.</param>
    /// <param name="ignoreIndex">The target value whose rows give 0.</param>
    /// <param name="options">The class weights, the smoothing and the gradient's scale.</param>
    /// <param name="gradient">Where the rows' gradient goes (interleaved like the logits), or null.</param>
    /// <param name="losses">Where the rows' losses go (0 where ignored), or null.</param>
    /// <param name="sum">The running sum of the losses (<see cref="Sum.Total"/> gives it at the end).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRun(float* logits, int* targets, int groups, int ignoreIndex, in Options options, float* gradient, float* losses, ref Sum sum)
        => options.Plain
            ? Run<LaneKernel.PlainLanes>(logits, targets, groups, ignoreIndex, options, gradient, losses, ref sum)
            : Run<LaneKernel.AnyLanes>(logits, targets, groups, ignoreIndex, options, gradient, losses, ref sum);

    /// <summary>
    /// <see cref="TryRun"/> for one kind of options: <see cref="LaneKernel.PlainLanes"/> where <see cref="Options.Plain"/>
    /// (the weights and smoothing compiled out: with them in, the plain rows took 20% longer), else
    /// <see cref="LaneKernel.AnyLanes"/>.
    /// </summary>
    /// <remarks>
    /// Four passes over the groups, through 768 bytes of stack: the differences and the range test, the exps, the logs,
    /// then the division, the gradient and the stores (without per-row losses the logs' pass is left out: the rows'
    /// 1 + e multiply into <see cref="Sum"/>'s products instead). Each row's exp, log and division form one long chain of dependent
    /// operations; in a pass of its own each group's chain is short and independent of the next group's, so the
    /// processor overlaps several groups where one whole group at a time left it waiting. The rows sit in the lanes as
    /// 0, 1, 4, 5, 2, 3, 6, 7, so that no shuffle crosses the 128-bit halves (docs/benchmarks.md has the measurements).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static bool Run<TOptions>(float* logits, int* targets, int groups, int ignoreIndex, in Options options, float* gradient, float* losses, ref Sum sum)
        where TOptions : struct, LaneKernel.ILaneOptions
    {
        Vector256<float>* d = stackalloc Vector256<float>[MaxGroups];
        Vector256<float>* e = stackalloc Vector256<float>[MaxGroups];
        Vector256<float>* l = stackalloc Vector256<float>[MaxGroups];

        // A NaN or infinite logit makes its row's difference NaN or infinite, which fails the range test.
        Vector256<float> range = Vector256.Create(FastExp.NormalRange);
        Vector256<float> inRange = Vector256<float>.AllBitsSet;
        for (int g = 0; g < groups; g++)
        {
            // Rows 0, 1, 4, 5, 2, 3, 6, 7 in the lanes: in-lane shuffles only (a lane-crossing permute per class cost
            // 3 of the pass's 8 cycles); the targets and the losses are permuted to match, the gradient's unpacks
            // undo it for free.
            Vector256<float> a = Avx.LoadVector256(logits + (g * 2 * GroupRows)), b = Avx.LoadVector256(logits + (g * 2 * GroupRows) + 8);
            Vector256<float> diff = Avx.Shuffle(a, b, 0xDD) - Avx.Shuffle(a, b, 0x88);
            inRange = Avx.And(inRange, Avx.CompareLessThanOrEqual(Vector256.Abs(diff), range));
            d[g] = diff;
        }

        if (Avx.MoveMask(inRange) != 0xFF)
        {
            return false;
        }

        for (int g = 0; g < groups; g++)
        {
            e[g] = FastExp.NormalExp(-Vector256.Abs(d[g]));
        }

        if (losses != null)
        {
            for (int g = 0; g < groups; g++)
            {
                l[g] = FastLog.LogOneToTwo(Vector256<float>.One + e[g]);
            }
        }

        Vector256<float> total = Vector256<float>.Zero;
        Vector256<float> product0 = sum.Product0, product1 = sum.Product1;
        Vector256<int> ignore = Vector256.Create(ignoreIndex);
        for (int g = 0; g < groups; g++)
        {
            Vector256<int> y = Avx2.Permute4x64(Avx.LoadVector256(targets + (g * GroupRows)).AsInt64(), 0xD8).AsInt32();
            Vector256<float> log1p = Vector256<float>.Zero;
            if (losses != null)
            {
                log1p = l[g];
            }
            else
            {
                // The loss is linear in log(1 + e) with a coefficient per class (Sum.Total), so the rows' 1 + e multiply
                // into a product per class (1 where ignored) and the rows' losses here are their other terms.
                Vector256<float> onePlus = Vector256<float>.One + e[g];
                Vector256<float> ignored = Avx2.CompareEqual(y, ignore).AsSingle();
                if (!TOptions.Any)
                {
                    product0 *= Avx.BlendVariable(onePlus, Vector256<float>.One, ignored);
                }
                else
                {
                    Vector256<float> isOne = Avx2.CompareEqual(y, Vector256<int>.One).AsSingle();
                    product0 *= Avx.BlendVariable(onePlus, Vector256<float>.One, Avx.Or(ignored, isOne));
                    product1 *= Avx.BlendVariable(Vector256<float>.One, onePlus, Avx.AndNot(ignored, isOne));
                }
            }

            Vector256<float> loss = Rows8<TOptions>(d[g], e[g], log1p, y, ignore, options, out Vector256<float> g0, out Vector256<float> g1);
            total += loss;
            if (losses != null)
            {
                Avx.Store(losses + (g * GroupRows), Avx2.Permute4x64(loss.AsDouble(), 0xD8).AsSingle());
            }

            if (gradient != null)
            {
                // Rows 0-3 are the low halves of the two 128-bit lanes, rows 4-7 the high halves.
                float* rows = gradient + (g * 2 * GroupRows);
                Avx.Store(rows, Avx.UnpackLow(g0, g1));
                Avx.Store(rows + 8, Avx.UnpackHigh(g0, g1));
            }
        }

        (Vector256<double> low, Vector256<double> high) = Vector256.Widen(total);
        sum.Linear += low + high;
        sum.Product0 = product0;
        sum.Product1 = product1;
        sum.Renormalize();
        return true;
    }

    /// <summary>8 two-class rows as stored (16 floats) into one vector per class: in-lane shuffles and a 64-bit permute.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave(float* rows, out Vector256<float> class0, out Vector256<float> class1)
    {
        Vector256<float> a = Avx.LoadVector256(rows), b = Avx.LoadVector256(rows + 8);
        class0 = Avx2.Permute4x64(Avx.Shuffle(a, b, 0x88).AsDouble(), 0xD8).AsSingle();
        class1 = Avx2.Permute4x64(Avx.Shuffle(a, b, 0xDD).AsDouble(), 0xD8).AsSingle();
    }

    /// <summary><see cref="Deinterleave"/> undone: two class vectors stored as 8 rows (unpacks and 128-bit lane permutes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(Vector256<float> class0, Vector256<float> class1, float* rows)
    {
        Vector256<float> low = Avx.UnpackLow(class0, class1), high = Avx.UnpackHigh(class0, class1);
        Avx.Store(rows, Avx.Permute2x128(low, high, 0x20));
        Avx.Store(rows + 8, Avx.Permute2x128(low, high, 0x31));
    }

    /// <summary>8 rows: the losses (0 where ignored) and both classes' gradient, from d = x₁ − x₀ and e = exp(−|d|).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Rows8<TOptions>(Vector256<float> d, Vector256<float> e, Vector256<float> log1p, Vector256<int> y, Vector256<int> ignoreIndex, in Options options, out Vector256<float> g0, out Vector256<float> g1)
        where TOptions : struct, LaneKernel.ILaneOptions
    {
        // Compare results are whole-lane masks, so the selects are single blends and the and-nots single instructions.
        Vector256<float> ignored = Avx2.CompareEqual(y, ignoreIndex).AsSingle();
        Vector256<float> isOne = Avx2.CompareEqual(y, Vector256<int>.One).AsSingle();
        Vector256<float> sign = Vector256.Create(-0f);
        Vector256<float> flip = Avx.And(isOne, sign); // −0 where class 1 is the target: z = ∓d by a sign flip
        Vector256<float> z = Avx.Xor(d, flip);
        Vector256<float> onePlus = Vector256<float>.One + e;
        Vector256<float> nll = Vector256.MaxNative(z, Vector256<float>.Zero) + log1p; // −log p_y

        // σ(z) = 1/(1 + e) for z ≥ 0, e/(1 + e) below: the other class's probability; the target's is the other quotient.
        Vector256<float> big = Vector256<float>.One / onePlus, small = e * big;
        Vector256<float> positive = Avx.CompareGreaterThanOrEqual(z, Vector256<float>.Zero);
        Vector256<float> sigma = Avx.BlendVariable(small, big, positive);
        if (!TOptions.Any)
        {
            // The target's class gets −κσ(z), the other κσ(z): class 1 gets κσ(z) with the flip, class 0 its negation
            // (the targets are 0 or 1). Ignored rows get +0, masked after the signs (with ignore_index 0 or 1 an
            // ignored row's target is a class).
            Vector256<float> class1 = Avx.Xor(Vector256.Create(options.Kappa) * sigma, flip);
            g0 = Avx.AndNot(ignored, Avx.Xor(class1, sign));
            g1 = Avx.AndNot(ignored, class1);
            return Avx.AndNot(ignored, nll);
        }

        // Weights and smoothing, as LaneKernel: ℓ = (1 − ε)·w_y·ℓ_y + (ε/2)·(w_y·ℓ_y + w_o·ℓ_o) with ℓ_o = ℓ_y − z, and
        // g_k = a·p_k − (κε/2)·w_k − [k = y]·κ(1 − ε)·w_y with a = κ((1 − ε)·w_y + (ε/2)·W).
        Vector256<float> w0 = Vector256.Create(options.Weight0), w1 = Vector256.Create(options.Weight1);
        Vector256<float> wy = Avx.BlendVariable(w0, w1, isOne), wo = Avx.BlendVariable(w1, w0, isOne);
        float eps = options.Smoothing, kappa = options.Kappa;
        Vector256<float> loss = Vector256.Create(1 - eps) * wy * nll;
        Vector256<float> pTarget = Avx.BlendVariable(big, small, positive);
        Vector256<float> hit = Vector256.Create(kappa * (1 - eps)) * wy;
        Vector256<float> a = hit;
        Vector256<float> gy = Vector256<float>.Zero, go = Vector256<float>.Zero;
        if (eps > 0)
        {
            Vector256<float> half = Vector256.Create(eps / 2);
            loss += half * ((wy * nll) + (wo * (nll - z)));
            a += Vector256.Create(kappa * eps / 2 * options.WeightSum);
            Vector256<float> offset = Vector256.Create(kappa * eps / 2);
            gy = offset * wy;
            go = offset * wo;
        }

        Vector256<float> gTarget = Avx.AndNot(ignored, (a * pTarget) - gy - hit);
        Vector256<float> gOther = Avx.AndNot(ignored, (a * sigma) - go);
        g0 = Avx.BlendVariable(gTarget, gOther, isOne);
        g1 = Avx.BlendVariable(gOther, gTarget, isOne);
        return Avx.AndNot(ignored, loss);
    }

    /// <summary>
    /// The running loss sum of <see cref="TryRun"/>: the terms other than log(1 + e) in double lanes, and for each class
    /// the product of its rows' 1 + e (each in [1, 2]) as a float in [1, 2) times 2 to a whole power, renormalized after
    /// every call. One multiply per 8 rows instead of a log: the sum of the logs is the log of the product, within the
    /// product's rounding (0.5 ulp a factor, as the log's own error is 0.77 ulp a row).
    /// </summary>
    internal struct Sum
    {
        /// <summary>The loss terms other than log(1 + e).</summary>
        public Vector256<double> Linear;

        /// <summary>Class 0's product of 1 + e (all rows' without weights or smoothing), the mantissa part.</summary>
        public Vector256<float> Product0;

        /// <summary>Class 1's product.</summary>
        public Vector256<float> Product1;

        /// <summary>The products' powers of 2.</summary>
        public Vector256<int> Exponent0, Exponent1;

        /// <summary>An empty sum: products 1.</summary>
        public static Sum Empty => new() { Product0 = Vector256<float>.One, Product1 = Vector256<float>.One };

        /// <summary>The products' powers of 2 moved into the exponents (an exact split: the products stay in [1, 2)).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Renormalize()
        {
            Vector256<int> mantissa = Vector256.Create(0x007FFFFF), one = Vector256.Create(0x3F800000);
            Vector256<int> bits0 = Product0.AsInt32(), bits1 = Product1.AsInt32();
            Exponent0 += Vector256.ShiftRightLogical(bits0 - one, 23);
            Exponent1 += Vector256.ShiftRightLogical(bits1 - one, 23);
            Product0 = ((bits0 & mantissa) | one).AsSingle();
            Product1 = ((bits1 & mantissa) | one).AsSingle();
        }

        /// <summary>The sum of the losses: the linear terms plus each class's log-product times its coefficient.</summary>
        /// <param name="options">The options the rows ran with (their weights and smoothing give the coefficients).</param>
        /// <returns>The sum.</returns>
        public readonly double Total(in Options options)
        {
            // ℓ = c_y·log(1 + e) + (terms without the log), c_y = (1 − ε/2)·w_y + (ε/2)·w_o (Rows8's loss, regrouped).
            double eps = options.Smoothing, w0 = options.Weight0, w1 = options.Weight1;
            double c0 = ((1 - (eps / 2)) * w0) + (eps / 2 * w1), c1 = ((1 - (eps / 2)) * w1) + (eps / 2 * w0);
            double log0 = 0, log1 = 0;
            for (int i = 0; i < Vector256<float>.Count; i++)
            {
                log0 += (Exponent0[i] * Math.Log(2)) + Math.Log(Product0[i]);
                log1 += (Exponent1[i] * Math.Log(2)) + Math.Log(Product1[i]);
            }

            return Vector256.Sum(Linear) + (c0 * log0) + (c1 * log1);
        }
    }

    /// <summary>What the rows need besides their logits and targets.</summary>
    /// <param name="Weight0">Class 0's weight (1 without weights).</param>
    /// <param name="Weight1">Class 1's weight.</param>
    /// <param name="Smoothing">Label smoothing ε.</param>
    /// <param name="WeightSum">w₀ + w₁ (2 without weights).</param>
    /// <param name="Kappa">The gradient's scale.</param>
    internal readonly record struct Options(float Weight0, float Weight1, float Smoothing, float WeightSum, float Kappa)
    {
        /// <summary>No weights and no smoothing: the shorter plain path.</summary>
        public bool Plain => Weight0 == 1f && Weight1 == 1f && Smoothing == 0f;
    }
}
