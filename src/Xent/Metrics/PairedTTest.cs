namespace Xent.Metrics;

/// <summary>How a paired t-test's p-value was reached.</summary>
public enum PairedTTestCase
{
    /// <summary>The usual test: t = mean / (std / √n) against Student's t with n − 1 degrees of freedom.</summary>
    Test,

    /// <summary>Every difference is zero (the two series are identical): no evidence of a difference, p = 1.</summary>
    Identical,

    /// <summary>Every difference is the same non-zero value (no spread): t is infinite and p = 0.</summary>
    ConstantDifference,

    /// <summary>Fewer than two pairs, or a NaN among the values: no test, p is NaN.</summary>
    Undefined,
}

/// <summary>The outcome of a paired t-test of <c>a − b</c>.</summary>
/// <param name="Count">Pairs.</param>
/// <param name="MeanDifference">Mean of a_i − b_i.</param>
/// <param name="StdDifference">Sample standard deviation (n − 1) of a_i − b_i; 0 for one pair.</param>
/// <param name="T">The statistic mean / (std / √n); ±∞ for a constant non-zero difference, 0 for identical series, NaN when undefined.</param>
/// <param name="DegreesOfFreedom">n − 1.</param>
/// <param name="PValue">The two-sided p-value; NaN when undefined.</param>
/// <param name="Case">How the p-value was reached.</param>
public sealed record PairedTTestResult(int Count, double MeanDifference, double StdDifference, double T, int DegreesOfFreedom, double PValue, PairedTTestCase Case)
{
    /// <summary>Whether the p-value is below <paramref name="alpha"/> (false when it is undefined).</summary>
    /// <param name="alpha">The significance level, 0.05 by default.</param>
    /// <returns>Whether the difference is significant at that level.</returns>
    public bool IsSignificant(double alpha = PairedTTest.DefaultAlpha) => PValue < alpha;
}

/// <summary>
/// The paired (dependent-samples) t-test, two-sided: do a and b, measured on the same units (for example the same
/// seeds and splits), differ on average? Matches <c>scipy.stats.ttest_rel(a, b)</c>, except that a zero-variance
/// difference gets a defined answer (identical series p = 1; a constant non-zero difference p = 0).
/// </summary>
public static class PairedTTest
{
    /// <summary>The usual significance level, 0.05.</summary>
    public const double DefaultAlpha = 0.05;

    /// <summary>
    /// The spread of the differences below which they count as constant, relative to their largest magnitude (so that
    /// differences equal up to rounding, such as 0.95 − 0.90 and 0.90 − 0.85, count as equal).
    /// </summary>
    public const double RelativeTolerance = 1e-12;

    /// <summary>
    /// A difference of at most this much, relative to the larger value (or absolute below 1), counts as 0: the rounding
    /// of the same computation in another order, not a difference between methods.
    /// </summary>
    public const double RoundingTolerance = 1e-9;

    /// <summary>Tests a_i − b_i against 0 (differences within <see cref="RoundingTolerance"/> count as 0).</summary>
    /// <param name="a">The first series.</param>
    /// <param name="b">The second series, paired with the first by position.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentException">The series differ in length.</exception>
    public static PairedTTestResult Compute(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count)
        {
            throw new ArgumentException($"A paired test needs series of the same length, got {a.Count} and {b.Count}.", nameof(b));
        }

        int n = a.Count;
        var d = new double[n];
        for (int i = 0; i < n; i++)
        {
            // Two runs that compute the same thing in another order (balanced softmax and the logit-adjusted loss at
            // τ = 1, say) differ by rounding; such a difference is no difference.
            double difference = a[i] - b[i];
            d[i] = Math.Abs(difference) <= RoundingTolerance * Math.Max(1, Math.Max(Math.Abs(a[i]), Math.Abs(b[i]))) ? 0 : difference;
        }

        return OfDifferences(d);
    }

    /// <summary>Tests differences against 0.</summary>
    /// <param name="differences">The paired differences.</param>
    /// <returns>The result.</returns>
    public static PairedTTestResult OfDifferences(IReadOnlyList<double> differences)
    {
        ArgumentNullException.ThrowIfNull(differences);
        int n = differences.Count;
        if (n == 0)
        {
            return new PairedTTestResult(0, double.NaN, double.NaN, double.NaN, -1, double.NaN, PairedTTestCase.Undefined);
        }

        double mean = 0;
        foreach (double v in differences)
        {
            mean += v;
        }

        mean /= n;
        double squares = 0, largest = 0;
        foreach (double v in differences)
        {
            squares += (v - mean) * (v - mean);
            largest = Math.Max(largest, Math.Abs(v));
        }

        double std = n > 1 ? Math.Sqrt(squares / (n - 1)) : 0;
        if (double.IsNaN(mean) || double.IsNaN(std) || n < 2)
        {
            return new PairedTTestResult(n, mean, std, double.NaN, n - 1, double.NaN, PairedTTestCase.Undefined);
        }

        if (largest == 0)
        {
            return new PairedTTestResult(n, 0, 0, 0, n - 1, 1, PairedTTestCase.Identical);
        }

        if (std <= RelativeTolerance * largest)
        {
            return new PairedTTestResult(n, mean, std, mean > 0 ? double.PositiveInfinity : double.NegativeInfinity, n - 1, 0, PairedTTestCase.ConstantDifference);
        }

        double t = mean / (std / Math.Sqrt(n));
        return new PairedTTestResult(n, mean, std, t, n - 1, StudentT.TwoSidedPValue(t, n - 1), PairedTTestCase.Test);
    }
}
