using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// Plain two-class cross-entropy (no weights, smoothing, scale or margins) on 8 rows held in AVX registers, one class
/// per vector. With d = x₁ − x₀ and z = x_other − x_y (d for target 0, −d for target 1), the loss is
/// max(z, 0) + log(1 + exp(−|d|)) and the probabilities are 1/(1 + e) and e/(1 + e) with e = exp(−|d|): one exp and
/// one log per row, where the general lane kernel takes two exps, and nothing goes through memory.
/// </summary>
/// <remarks>
/// The vector is taken only when every lane is finite and |d| ≤ <see cref="FastExp.NormalRange"/> (so that the exp is
/// normal); otherwise <see cref="TryRun"/> declines and the caller takes the general kernel, which gives PyTorch's NaNs
/// and subnormals. Both are within the float rounding of the float64 path.
/// </remarks>
internal static class TwoClassLanes
{
    /// <summary>Whether <see cref="TryRun"/> may be used: 256-bit vectors (it is written for the AVX2 path).</summary>
    public static bool IsSupported => Vector256.IsHardwareAccelerated;

    /// <summary>
    /// The losses and the gradient of 8 rows, or false (with nothing computed) when a lane is not finite or its classes
    /// are more than <see cref="FastExp.NormalRange"/> apart.
    /// </summary>
    /// <param name="x0">Class 0's logits of the 8 rows.</param>
    /// <param name="x1">Class 1's logits.</param>
    /// <param name="targets">The rows' class indices (8, contiguous).</param>
    /// <param name="ignoreIndex">The target value whose rows give 0.</param>
    /// <param name="kappa">The gradient's scale.</param>
    /// <param name="loss">The rows' losses (0 where ignored).</param>
    /// <param name="g0">Class 0's gradient.</param>
    /// <param name="g1">Class 1's gradient.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRun(Vector256<float> x0, Vector256<float> x1, ref int targets, int ignoreIndex, float kappa, out Vector256<float> loss, out Vector256<float> g0, out Vector256<float> g1)
    {
        Vector256<float> d = x1 - x0;
        Vector256<float> a = Vector256.Abs(d);
        if (!Vector256.EqualsAll(x0 - x0, Vector256<float>.Zero) || !Vector256.LessThanOrEqualAll(a, Vector256.Create(FastExp.NormalRange)))
        {
            loss = g0 = g1 = default;
            return false;
        }

        Vector256<int> y = Vector256.LoadUnsafe(ref targets);
        Vector256<float> ignored = Vector256.Equals(y, Vector256.Create(ignoreIndex)).AsSingle();
        Vector256<float> isOne = Vector256.Equals(y, Vector256<int>.One).AsSingle();
        Vector256<float> isZero = Vector256.Equals(y, Vector256<int>.Zero).AsSingle();
        Vector256<float> e = FastExp.NormalExp(-a);
        Vector256<float> onePlus = Vector256<float>.One + e;
        Vector256<float> z = Vector256.ConditionalSelect(isOne, -d, d);
        loss = Vector256.AndNot(Vector256.MaxNative(z, Vector256<float>.Zero) + FastLog.Log(onePlus), ignored);

        // σ(d) and 1 − σ(d), each as its own quotient so that the small one keeps its precision.
        Vector256<float> big = Vector256<float>.One / onePlus, small = e * big;
        Vector256<float> positive = Vector256.GreaterThanOrEqual(d, Vector256<float>.Zero);
        Vector256<float> p1 = Vector256.ConditionalSelect(positive, big, small);
        Vector256<float> p0 = Vector256.ConditionalSelect(positive, small, big);
        Vector256<float> k = Vector256.Create(kappa);
        g0 = Vector256.AndNot(k * (p0 - (isZero & Vector256<float>.One)), ignored);
        g1 = Vector256.AndNot(k * (p1 - (isOne & Vector256<float>.One)), ignored);
        return true;
    }
}
