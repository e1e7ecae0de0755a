using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// Type dispatch for the kernels' generic element type: <see cref="float"/> uses <see cref="FastExp"/>,
/// <see cref="double"/> uses the runtime's vector exp. The JIT removes the untaken branch.
/// </summary>
internal static class SimdMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp<T>(Vector512<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            return FastExp.Exp(x.AsSingle()).As<float, T>();
        }

        return Vector512.Exp(x.AsDouble()).As<double, T>();
    }

    /// <summary>exp of lanes known to lie in [−<see cref="FastExp.NormalRange"/>, <see cref="FastExp.NormalRange"/>] (float: <see cref="FastExp.NormalExp(Vector512{float})"/>; double: the runtime's exp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> NormalExp<T>(Vector512<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            return FastExp.NormalExp(x.AsSingle()).As<float, T>();
        }

        return Vector512.Exp(x.AsDouble()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp<T>(Vector256<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            return FastExp.Exp(x.AsSingle()).As<float, T>();
        }

        return Vector256.Exp(x.AsDouble()).As<double, T>();
    }

    /// <summary>exp of lanes known to lie in [−<see cref="FastExp.NormalRange"/>, <see cref="FastExp.NormalRange"/>] (float: <see cref="FastExp.NormalExp(Vector256{float})"/>; double: the runtime's exp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> NormalExp<T>(Vector256<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            return FastExp.NormalExp(x.AsSingle()).As<float, T>();
        }

        return Vector256.Exp(x.AsDouble()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Exp<T>(T x)
        where T : IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            return (T)(object)FastExp.Exp((float)(object)x);
        }

        return T.Exp(x);
    }

    /// <summary>Largest lane, NaN if any lane is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaxAcross<T>(Vector256<T> v)
        where T : IFloatingPointIeee754<T>
    {
        // Halves folded in registers (the vector Max has the scalar one's NaN and signed-zero rules, and a maximum does
        // not round, so the order does not change the result): a short chain once per row instead of 7 scalar steps.
        Vector128<T> h = Vector128.Max(v.GetLower(), v.GetUpper());
        if (typeof(T) == typeof(float))
        {
            Vector128<float> f = h.AsSingle();
            f = Vector128.Max(f, Vector128.Shuffle(f, Vector128.Create(2, 3, 0, 1)));
            f = Vector128.Max(f, Vector128.Shuffle(f, Vector128.Create(1, 0, 3, 2)));
            return (T)(object)f.ToScalar();
        }

        T m = h.GetElement(0);
        for (int i = 1; i < Vector128<T>.Count; i++)
        {
            m = T.Max(m, h.GetElement(i));
        }

        return m;
    }

    /// <summary>Largest lane, NaN if any lane is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaxAcross<T>(Vector512<T> v)
        where T : IFloatingPointIeee754<T>
        => MaxAcross(Vector256.Max(v.GetLower(), v.GetUpper()));
}
