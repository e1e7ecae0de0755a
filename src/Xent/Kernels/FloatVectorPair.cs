using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Kernels;

/// <summary>
/// Two 256-bit vectors as one of 16 lanes, each operation applied to both halves one after the other: for kernels whose
/// work per vector is one long chain of dependent operations (the lane kernel's max, exps, log and division), so that the
/// processor always has a second, independent chain to run while the first waits. Lanes 0–7 are <see cref="Low"/>,
/// 8–15 <see cref="High"/>; each lane gets the bits <see cref="V256"/> gives it.
/// </summary>
internal readonly struct V256x2 : IFloatVector<V256x2>
{
    /// <summary>Lanes 0–7.</summary>
    public readonly Vector256<float> Low;

    /// <summary>Lanes 8–15.</summary>
    public readonly Vector256<float> High;

    public V256x2(Vector256<float> low, Vector256<float> high) => (Low, High) = (low, high);

    public static int Count => 2 * Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 Load(ref float source)
        => new(Vector256.LoadUnsafe(ref source), Vector256.LoadUnsafe(ref Unsafe.Add(ref source, Vector256<float>.Count)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 LoadInts(ref int source)
        => new(Vector256.ConvertToSingle(Vector256.LoadUnsafe(ref source)), Vector256.ConvertToSingle(Vector256.LoadUnsafe(ref Unsafe.Add(ref source, Vector256<int>.Count))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V256x2 value, ref float destination)
    {
        value.Low.StoreUnsafe(ref destination);
        value.High.StoreUnsafe(ref Unsafe.Add(ref destination, Vector256<float>.Count));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 Create(float value) => new(Vector256.Create(value), Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 Add(V256x2 a, V256x2 b) => new(a.Low + b.Low, a.High + b.High);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 Subtract(V256x2 a, V256x2 b) => new(a.Low - b.Low, a.High - b.High);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 Multiply(V256x2 a, V256x2 b) => new(a.Low * b.Low, a.High * b.High);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 Divide(V256x2 a, V256x2 b) => new(a.Low / b.Low, a.High / b.High);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 Max(V256x2 a, V256x2 b) => new(Vector256.Max(a.Low, b.Low), Vector256.Max(a.High, b.High));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 FusedMultiplyAdd(V256x2 a, V256x2 b, V256x2 c)
        => new(Vector256.FusedMultiplyAdd(a.Low, b.Low, c.Low), Vector256.FusedMultiplyAdd(a.High, b.High, c.High));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 Relu(V256x2 x) => new(Vector256.MaxNative(Vector256<float>.Zero, x.Low), Vector256.MaxNative(Vector256<float>.Zero, x.High));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 Exp(V256x2 x) => new(FastExp.Exp(x.Low), FastExp.Exp(x.High));

    public static bool HasNormalExp => V256.HasNormalExp;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 NormalExp(V256x2 x) => new(FastExp.NormalExp(x.Low), FastExp.NormalExp(x.High));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 MinNative(V256x2 a, V256x2 b) => new(Vector256.MinNative(a.Low, b.Low), Vector256.MinNative(a.High, b.High));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 MaxNative(V256x2 a, V256x2 b) => new(Vector256.MaxNative(a.Low, b.Low), Vector256.MaxNative(a.High, b.High));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AllAtLeast(V256x2 a, V256x2 b)
        => Vector256.GreaterThanOrEqualAll(a.Low, b.Low) && Vector256.GreaterThanOrEqualAll(a.High, b.High);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 Log(V256x2 x) => new(FastLog.Log(x.Low), FastLog.Log(x.High));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 Equal(V256x2 a, V256x2 b) => new(Vector256.Equals(a.Low, b.Low), Vector256.Equals(a.High, b.High));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256x2 Select(V256x2 mask, V256x2 ifTrue, V256x2 ifFalse) => Avx.IsSupported
        ? new(Avx.BlendVariable(ifFalse.Low, ifTrue.Low, mask.Low), Avx.BlendVariable(ifFalse.High, ifTrue.High, mask.High))
        : new(Vector256.ConditionalSelect(mask.Low, ifTrue.Low, ifFalse.Low), Vector256.ConditionalSelect(mask.High, ifTrue.High, ifFalse.High));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumToDouble(V256x2 value)
    {
        (Vector256<double> a, Vector256<double> b) = Vector256.Widen(value.Low);
        (Vector256<double> c, Vector256<double> d) = Vector256.Widen(value.High);
        return Vector256.Sum((a + b) + (c + d));
    }
}
