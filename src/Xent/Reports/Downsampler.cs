namespace Xent.Reports;

/// <summary>
/// Min-max (M4) decimation of a line: the points are split into buckets by x, and each bucket keeps its first, last,
/// lowest and highest points, in their original order. Every extreme survives, so a spike or a dip stays visible, and
/// the line drawn from the kept points looks like the full one at chart resolution. It is deterministic (no sampling).
/// </summary>
public static class Downsampler
{
    /// <summary>The most points a chart draws per line unless told otherwise: 2000 (a plot is about 450 pixels wide).</summary>
    public const int DefaultMaxPoints = 2000;

    /// <summary>The fewest points a cap may allow: one bucket's worth (first, last, lowest, highest and a gap).</summary>
    public const int MinMaxPoints = PointsPerBucket;

    private const int PointsPerBucket = 5;

    /// <summary>
    /// The indices of the points to draw, ascending: every index when there are at most <paramref name="maxPoints"/>
    /// points, otherwise at most <paramref name="maxPoints"/> of them.
    /// </summary>
    /// <remarks>
    /// When x is non-decreasing (ignoring non-finite values) the buckets are equal slices of the x range; otherwise they
    /// are equal runs of indices. A point is drawable when its x is finite and <paramref name="usable"/> accepts its y
    /// (default: finite y). Each bucket keeps its first and last drawable points, the drawable points with the lowest
    /// and highest y (the first of equal ones), and its first undrawable point, so that a gap in the line stays a gap.
    /// </remarks>
    /// <param name="x">X values.</param>
    /// <param name="y">Y values, as many as x.</param>
    /// <param name="maxPoints">The cap, at least <see cref="MinMaxPoints"/>.</param>
    /// <param name="usable">Which y values can be drawn, or null for finite ones.</param>
    /// <returns>Ascending indices into x and y.</returns>
    /// <exception cref="ArgumentException">x and y differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxPoints"/> is below <see cref="MinMaxPoints"/>.</exception>
    public static int[] Select(IReadOnlyList<double> x, IReadOnlyList<double> y, int maxPoints = DefaultMaxPoints, Func<double, bool>? usable = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count)
        {
            throw new ArgumentException($"{x.Count} x values but {y.Count} y values.", nameof(y));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, MinMaxPoints);
        int n = x.Count;
        if (n <= maxPoints)
        {
            int[] all = new int[n];
            for (int i = 0; i < n; i++)
            {
                all[i] = i;
            }

            return all;
        }

        usable ??= double.IsFinite;
        int buckets = maxPoints / PointsPerBucket;
        Func<int, int> bucketOf = XBuckets(x, buckets) ?? (i => (int)((long)i * buckets / n));
        var kept = new List<int>(buckets * PointsPerBucket);
        int start = 0;
        while (start < n)
        {
            int bucket = bucketOf(start), end = start + 1;
            while (end < n && bucketOf(end) == bucket)
            {
                end++;
            }

            int first = -1, last = -1, low = -1, high = -1, gap = -1;
            for (int i = start; i < end; i++)
            {
                double v = y[i];
                if (!double.IsFinite(x[i]) || !usable(v))
                {
                    if (gap < 0)
                    {
                        gap = i;
                    }

                    continue;
                }

                if (first < 0)
                {
                    first = i;
                }

                last = i;
                if (low < 0 || v < y[low])
                {
                    low = i;
                }

                if (high < 0 || v > y[high])
                {
                    high = i;
                }
            }

            int count = kept.Count;
            foreach (int i in new[] { first, last, low, high, gap })
            {
                if (i >= 0)
                {
                    kept.Add(i);
                }
            }

            kept.Sort(count, kept.Count - count, Comparer<int>.Default);
            for (int k = kept.Count - 1; k > count; k--)
            {
                if (kept[k] == kept[k - 1])
                {
                    kept.RemoveAt(k);
                }
            }

            start = end;
        }

        return [.. kept];
    }

    /// <summary>Equal slices of the x range when x is non-decreasing and spans a range; null otherwise.</summary>
    private static Func<int, int>? XBuckets(IReadOnlyList<double> x, int buckets)
    {
        double min = double.NaN, max = double.NaN, previous = double.NegativeInfinity;
        for (int i = 0; i < x.Count; i++)
        {
            double v = x[i];
            if (!double.IsFinite(v))
            {
                continue;
            }

            if (v < previous)
            {
                return null;
            }

            previous = v;
            if (double.IsNaN(min))
            {
                min = v;
            }

            max = v;
        }

        if (!(max > min))
        {
            return null;
        }

        // A point with a non-finite x joins the bucket of the nearest finite x before it (or the first bucket).
        double width = max - min;
        int[] bucket = new int[x.Count];
        int current = 0;
        for (int i = 0; i < x.Count; i++)
        {
            double v = x[i];
            if (double.IsFinite(v))
            {
                current = Math.Min(buckets - 1, (int)((v - min) / width * buckets));
            }

            bucket[i] = current;
        }

        return i => bucket[i];
    }
}
