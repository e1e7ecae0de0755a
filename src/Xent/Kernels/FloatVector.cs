using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// The operations the lane-batched kernel needs, over one SIMD width. <see cref="V512"/> and <see cref="V256"/>
/// implement it; kernels are written once as generic methods and the JIT specialises them per width.
/// </summary>
internal interface IFloatVector<TSelf>
    where TSelf : struct, IFloatVector<TSelf>
{
    static abstract int Count { get; }

    static abstract TSelf Load(ref float source);

    static abstract TSelf LoadInts(ref int source);

    static abstract void Store(TSelf value, ref float destination);

    static abstract TSelf Create(float value);

    static abstract TSelf Add(TSelf a, TSelf b);

    static abstract TSelf Subtract(TSelf a, TSelf b);

    static abstract TSelf Multiply(TSelf a, TSelf b);

    static abstract TSelf Divide(TSelf a, TSelf b);

    static abstract TSelf Max(TSelf a, TSelf b);

    /// <summary>a·b + c, rounded once.</summary>
    static abstract TSelf FusedMultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>max(0, x) as the ReLU layer computes it (MaxNative: NaN propagates).</summary>
    static abstract TSelf Relu(TSelf x);

    static abstract TSelf Exp(TSelf x);

    /// <summary>
    /// Whether <see cref="NormalExp"/> is cheaper than <see cref="Exp"/> at this width; where it is not, kernels skip
    /// the range check it needs. (Every width now: with AVX-512 the normal exp drops the clamp and the NaN select.)
    /// </summary>
    static abstract bool HasNormalExp { get; }

    /// <summary>exp of lanes known to lie in [−<see cref="FastExp.NormalRange"/>, <see cref="FastExp.NormalRange"/>], with <see cref="Exp"/>'s bits.</summary>
    static abstract TSelf NormalExp(TSelf x);

    /// <summary>The native minimum (one instruction; a NaN operand gives the second operand).</summary>
    static abstract TSelf MinNative(TSelf a, TSelf b);

    /// <summary>The native maximum (one instruction; a NaN operand gives the second operand, so NaNs are not kept).</summary>
    static abstract TSelf MaxNative(TSelf a, TSelf b);

    /// <summary>Whether every lane of a is at least b (false where either is NaN).</summary>
    static abstract bool AllAtLeast(TSelf a, TSelf b);

    static abstract TSelf Log(TSelf x);

    static abstract TSelf Equal(TSelf a, TSelf b);

    /// <summary>ifTrue where the mask's lane is set: each lane of the mask is all ones or all zeros (a comparison's result).</summary>
    static abstract TSelf Select(TSelf mask, TSelf ifTrue, TSelf ifFalse);

    /// <summary>The sum of the lanes, in double precision and a fixed order.</summary>
    static abstract double SumToDouble(TSelf value);
}

internal readonly struct V512 : IFloatVector<V512>
{
    public readonly Vector512<float> V;

    public V512(Vector512<float> v) => V = v;

    public static int Count => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Load(ref float source) => new(Vector512.LoadUnsafe(ref source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 LoadInts(ref int source) => new(Vector512.ConvertToSingle(Vector512.LoadUnsafe(ref source)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V512 value, ref float destination) => value.V.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Create(float value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Add(V512 a, V512 b) => new(a.V + b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Subtract(V512 a, V512 b) => new(a.V - b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Multiply(V512 a, V512 b) => new(a.V * b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Divide(V512 a, V512 b) => new(a.V / b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Max(V512 a, V512 b) => new(Vector512.Max(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 FusedMultiplyAdd(V512 a, V512 b, V512 c) => new(Vector512.FusedMultiplyAdd(a.V, b.V, c.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Relu(V512 x) => new(Vector512.MaxNative(Vector512<float>.Zero, x.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Exp(V512 x) => new(FastExp.Exp(x.V));

    public static bool HasNormalExp => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 NormalExp(V512 x) => new(FastExp.NormalExp(x.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 MinNative(V512 a, V512 b) => new(Vector512.MinNative(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 MaxNative(V512 a, V512 b) => new(Vector512.MaxNative(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AllAtLeast(V512 a, V512 b) => Vector512.GreaterThanOrEqualAll(a.V, b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Log(V512 x) => new(FastLog.Log(x.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Equal(V512 a, V512 b) => new(Vector512.Equals(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Select(V512 mask, V512 ifTrue, V512 ifFalse) => new(Vector512.ConditionalSelect(mask.V, ifTrue.V, ifFalse.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumToDouble(V512 value)
    {
        (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(value.V);
        return Vector512.Sum(lo + hi);
    }
}

internal readonly struct V256 : IFloatVector<V256>
{
    public readonly Vector256<float> V;

    public V256(Vector256<float> v) => V = v;

    public static int Count => Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Load(ref float source) => new(Vector256.LoadUnsafe(ref source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 LoadInts(ref int source) => new(Vector256.ConvertToSingle(Vector256.LoadUnsafe(ref source)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V256 value, ref float destination) => value.V.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Create(float value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Add(V256 a, V256 b) => new(a.V + b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Subtract(V256 a, V256 b) => new(a.V - b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Multiply(V256 a, V256 b) => new(a.V * b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Divide(V256 a, V256 b) => new(a.V / b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Max(V256 a, V256 b) => new(Vector256.Max(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 FusedMultiplyAdd(V256 a, V256 b, V256 c) => new(Vector256.FusedMultiplyAdd(a.V, b.V, c.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Relu(V256 x) => new(Vector256.MaxNative(Vector256<float>.Zero, x.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Exp(V256 x) => new(FastExp.Exp(x.V));

    public static bool HasNormalExp => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 NormalExp(V256 x) => new(FastExp.NormalExp(x.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 MinNative(V256 a, V256 b) => new(Vector256.MinNative(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 MaxNative(V256 a, V256 b) => new(Vector256.MaxNative(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AllAtLeast(V256 a, V256 b) => Vector256.GreaterThanOrEqualAll(a.V, b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Log(V256 x) => new(FastLog.Log(x.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Equal(V256 a, V256 b) => new(Vector256.Equals(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Select(V256 mask, V256 ifTrue, V256 ifFalse) => new(System.Runtime.Intrinsics.X86.Avx.IsSupported
        ? System.Runtime.Intrinsics.X86.Avx.BlendVariable(ifFalse.V, ifTrue.V, mask.V) // one instruction, not and/and-not/or
        : Vector256.ConditionalSelect(mask.V, ifTrue.V, ifFalse.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumToDouble(V256 value)
    {
        (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(value.V);
        return Vector256.Sum(lo + hi);
    }
}
