using System.Numerics.Tensors;

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

        TensorPrimitives.Subtract(logits, TensorPrimitives.Max(logits), destination);
        TensorPrimitives.Exp(destination, destination);
        TensorPrimitives.Divide(destination, TensorPrimitives.Sum<float>(destination), destination);
    }
}
