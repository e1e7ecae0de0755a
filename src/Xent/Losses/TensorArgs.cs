using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Xent.Losses;

/// <summary>Shared argument handling for the losses: element types, flat views and shape text.</summary>
internal static class TensorArgs
{
    public static void EnsureSupported<T>()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            throw new NotSupportedException($"Xent losses support float and double elements, not {typeof(T).Name}.");
        }
    }

    /// <summary>The elements of a dense row-major tensor span as a flat span.</summary>
    public static ReadOnlySpan<T> Flat<T>(ReadOnlyTensorSpan<T> tensor, string paramName)
    {
        int count = checked((int)tensor.FlattenedLength);
        if (count == 0)
        {
            return [];
        }

        ReadOnlySpan<nint> lengths = tensor.Lengths;
        ReadOnlySpan<nint> strides = tensor.Strides;
        nint expected = 1;
        for (int d = lengths.Length - 1; d >= 0; d--)
        {
            if (lengths[d] > 1 && strides[d] != expected)
            {
                throw new ArgumentException($"{paramName} must be dense and row-major (contiguous); got lengths {Format(lengths)} with strides {Format(strides)}.", paramName);
            }

            expected *= lengths[d];
        }

        return MemoryMarshal.CreateReadOnlySpan(ref Unsafe.AsRef(in tensor.GetPinnableReference()), count);
    }

    /// <summary>Shapes as PyTorch prints them: <c>[2, 3]</c>.</summary>
    public static string Format(ReadOnlySpan<nint> lengths)
    {
        var parts = new string[lengths.Length];
        for (int i = 0; i < lengths.Length; i++)
        {
            parts[i] = lengths[i].ToString(CultureInfo.InvariantCulture);
        }

        return "[" + string.Join(", ", parts) + "]";
    }

    /// <summary>Numbers as C++ streams print them: 2.0 as <c>2</c>, 1.5 as <c>1.5</c>.</summary>
    public static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    public static bool SameShape(ReadOnlySpan<nint> a, ReadOnlySpan<nint> b) => a.SequenceEqual(b);

    public static void CheckDestination(int length, int required, string paramName, string what)
    {
        if (length != required)
        {
            throw new ArgumentException($"Destination {paramName} has {length} elements but the {what} has {required}.", paramName);
        }
    }
}
