namespace Xent.Kernels;

/// <summary>
/// Offsets of a broadcast operand (NumPy/PyTorch rules: shapes aligned at the trailing dimension,
/// size-1 or missing dimensions repeat) while walking an output shape in row-major order.
/// </summary>
internal static class BroadcastIndex
{
    /// <summary>
    /// The operand's stride for each output dimension (0 where it repeats), or <see langword="null"/> when the
    /// shapes are incompatible; <paramref name="mismatch"/> then names the first offending output dimension.
    /// </summary>
    public static nint[]? Strides(ReadOnlySpan<nint> operand, ReadOnlySpan<nint> output, out int mismatch)
    {
        mismatch = -1;
        if (operand.Length > output.Length)
        {
            mismatch = 0;
            return null;
        }

        var strides = new nint[output.Length];
        nint stride = 1;
        for (int d = output.Length - 1; d >= 0; d--)
        {
            int j = d - (output.Length - operand.Length);
            if (j < 0)
            {
                strides[d] = 0;
                continue;
            }

            if (operand[j] == output[d])
            {
                strides[d] = operand[j] == 1 ? 0 : stride;
            }
            else if (operand[j] == 1)
            {
                strides[d] = 0;
            }
            else
            {
                mismatch = d;
                return null;
            }

            stride *= operand[j];
        }

        return strides;
    }
}
