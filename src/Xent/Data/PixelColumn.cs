namespace Xent.Data;

/// <summary>
/// One pixel of every image, read from the images' bytes where they lie: row i's value is
/// <c>pixels[i × stride + offset] ÷ 255</c>, in [0, 1]. The columns of an image table share one buffer, so 60,000
/// Fashion-MNIST images take their 47 MB of bytes rather than 188 MB of floats. Its values, hashes and encoding are
/// those of a <see cref="NumericColumn"/> holding the same floats.
/// </summary>
public sealed class PixelColumn : FeatureColumn, INumericColumn
{
    private readonly byte[] _pixels;

    /// <summary>Creates the column.</summary>
    /// <param name="name">The header name.</param>
    /// <param name="pixels">The images' bytes, image after image.</param>
    /// <param name="offset">This pixel's place in an image, from 0 to <paramref name="stride"/> − 1.</param>
    /// <param name="stride">Bytes per image.</param>
    /// <param name="count">Images (rows): at most <paramref name="pixels"/>' length ÷ <paramref name="stride"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The stride is below 1, the offset outside the image, or the buffer holds fewer images.</exception>
    public PixelColumn(string name, byte[] pixels, int offset, int stride, int count)
        : base(name, ColumnKind.Numeric)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(offset, stride);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)count * stride, pixels.LongLength, nameof(count));
        (_pixels, Offset, Stride, Count) = (pixels, offset, stride, count);
    }

    /// <summary>This pixel's place in an image.</summary>
    public int Offset { get; }

    /// <summary>Bytes per image.</summary>
    public int Stride { get; }

    /// <inheritdoc cref="FeatureColumn.Count" />
    public override int Count { get; }

    /// <summary>The images' bytes (shared with the table's other pixel columns).</summary>
    internal byte[] Pixels => _pixels;

    /// <inheritdoc />
    public float ValueAt(int row) => _pixels[((long)row * Stride) + Offset] / 255f;

    /// <inheritdoc />
    public override bool IsMissing(int row) => false;

    /// <inheritdoc />
    public override ulong Hash(int row, ulong hash)
    {
        float v = ValueAt(row);
        return Mix(hash, BitConverter.SingleToUInt32Bits(v == 0 ? 0f : v));
    }

    /// <inheritdoc />
    public override FeatureColumn Take(int rows) => new PixelColumn(Name, _pixels, Offset, Stride, Math.Min(rows, Count));

    /// <summary>
    /// The median of the given rows' values, as sorting them would give it (the middle value, or the mean of the two
    /// middle values in double, rounded to float), from a histogram of the 256 byte values.
    /// </summary>
    /// <param name="rows">At least one row.</param>
    /// <returns>The median.</returns>
    internal float Median(IReadOnlyList<int> rows)
    {
        Span<int> histogram = stackalloc int[256];
        histogram.Clear();
        foreach (int r in rows)
        {
            histogram[_pixels[((long)r * Stride) + Offset]]++;
        }

        int n = rows.Count;
        static float Smallest(int k, ReadOnlySpan<int> counts)
        {
            for (int b = 0, seen = 0; b < 256; b++)
            {
                seen += counts[b];
                if (seen > k)
                {
                    return b / 255f;
                }
            }

            throw new InvalidOperationException("unreachable: k is below the row count");
        }

        return n % 2 == 1 ? Smallest(n / 2, histogram) : (float)((Smallest((n / 2) - 1, histogram) + (double)Smallest(n / 2, histogram)) / 2);
    }
}
