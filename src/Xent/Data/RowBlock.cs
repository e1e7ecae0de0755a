namespace Xent.Data;

/// <summary>A block of consecutive rows of an <see cref="ITrainingRows"/> as one row-major span, for inference in blocks.</summary>
internal static class RowBlock
{
    /// <summary>
    /// Rows [start, start + count) of <paramref name="rows"/>: a view of a <see cref="Dataset"/>'s features, else the
    /// rows copied into <paramref name="buffer"/> (allocated, or grown, on first use and kept by the caller for the next block).
    /// </summary>
    /// <param name="rows">The rows.</param>
    /// <param name="start">The first row.</param>
    /// <param name="count">Rows in the block.</param>
    /// <param name="buffer">The caller's buffer, or <see langword="null"/>.</param>
    /// <returns>count × <see cref="ITrainingRows.FeatureCount"/> values.</returns>
    public static ReadOnlySpan<float> Get(ITrainingRows rows, int start, int count, ref float[]? buffer)
    {
        int d = rows.FeatureCount;
        if (rows is Dataset data)
        {
            return data.Features.AsSpan(start * d, count * d);
        }

        int length = count * d;
        if (buffer is null || buffer.Length < length)
        {
            buffer = new float[length];
        }

        for (int i = 0; i < count; i++)
        {
            rows.CopyRow(start + i, buffer.AsSpan(i * d, d));
        }

        return buffer.AsSpan(0, length);
    }
}
