using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

/// <summary>
/// softmax(x) = exp(x − max x) / Σ exp(x − max x), one row at a time. The shift keeps exp in range: without it (as in
/// TensorPrimitives.SoftMax) a logit above about 88 overflows float32 and a confident row comes out as inf / inf = NaN.
/// </summary>
public static class StableSoftmax
{
    /// <summary>Writes the softmax of one row.</summary>
    /// <param name="logits">The row.</param>
    /// <param name="destination">As long as <paramref name="logits"/>; may be the same span.</param>
    public static void Row(ReadOnlySpan<float> logits, Span<float> destination)
    {
        if (destination.Length != logits.Length)
        {
            throw new ArgumentException($"The destination has {destination.Length} values; the row has {logits.Length}.", nameof(destination));
        }

        if (logits.IsEmpty)
        {
            return;
        }

        if (Vector512.IsHardwareAccelerated && logits.Length <= Vector512<float>.Count)
        {
            ShortRow(logits, destination);
            return;
        }

        TensorPrimitives.Subtract(logits, TensorPrimitives.Max(logits), destination);
        TensorPrimitives.Exp(destination, destination);
        TensorPrimitives.Divide(destination, TensorPrimitives.Sum<float>(destination), destination);
    }

    /// <summary>
    /// A row that fits in one vector (a classifier's handful of classes), in registers: five library calls on ten
    /// values cost far more than the arithmetic. The exp is <see cref="FastExp"/> (1 ulp on the shifted logits, all ≤ 0);
    /// padding lanes are −∞, whose exp is 0.
    /// </summary>
    private static void ShortRow(ReadOnlySpan<float> logits, Span<float> destination)
    {
        Span<float> lanes = stackalloc float[Vector512<float>.Count];
        lanes.Fill(float.NegativeInfinity);
        logits.CopyTo(lanes);
        float max = logits[0];
        for (int i = 1; i < logits.Length; i++)
        {
            max = MathF.Max(max, logits[i]); // NaN propagates, as in TensorPrimitives.Max
        }

        Vector512<float> e = FastExp.Exp(Vector512.Create<float>(lanes) - Vector512.Create(max));
        (e / Vector512.Create(Vector512.Sum(e))).CopyTo(lanes);
        lanes[..logits.Length].CopyTo(destination);
    }
}
