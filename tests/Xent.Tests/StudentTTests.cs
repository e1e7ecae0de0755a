using System.Text.Json;
using Xent.Metrics;

namespace Xent.Tests;

/// <summary>Student's t distribution and the paired t-test against SciPy 1.10 (tools/generate_student_t_cases.py).</summary>
public sealed class StudentTTests
{
    private static readonly Lazy<JsonDocument> Golden = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "student-t-cases.json"))));

    private static IEnumerable<JsonElement> Cases(string name) => Golden.Value.RootElement.GetProperty(name).EnumerateArray();

    private static double D(JsonElement e, string name) => e.GetProperty(name).GetDouble();

    /// <summary>A relative error, plus an absolute one (1e-300 unless given) for values at or near 0.</summary>
    private static void Close(double expected, double actual, double relative, string what, double absolute = 1e-300)
        => Assert.True(Math.Abs(actual - expected) <= (relative * Math.Abs(expected)) + absolute, $"{what}: expected {expected:R}, got {actual:R} (relative error {Math.Abs(actual - expected) / Math.Abs(expected):E2})");

    [Fact]
    public void Log_gamma_matches_scipy()
    {
        foreach (JsonElement c in Cases("log_gamma"))
        {
            Close(D(c, "value"), StudentT.LogGamma(D(c, "x")), 1e-13, $"lgamma({D(c, "x")})", absolute: 1e-15);
        }
    }

    [Fact]
    public void Regularized_incomplete_beta_matches_scipy()
    {
        int count = 0;
        foreach (JsonElement c in Cases("betainc"))
        {
            double a = D(c, "a"), b = D(c, "b"), x = D(c, "x");
            Close(D(c, "value"), StudentT.RegularizedIncompleteBeta(a, b, x), 1e-11, $"I_{x}({a}, {b})");
            count++;
        }

        Assert.Equal(196, count);
        Assert.Equal(0, StudentT.RegularizedIncompleteBeta(2, 3, 0));
        Assert.Equal(1, StudentT.RegularizedIncompleteBeta(2, 3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.RegularizedIncompleteBeta(0, 1, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.RegularizedIncompleteBeta(1, 1, 1.5));
    }

    [Fact]
    public void T_cdf_and_two_sided_p_values_match_scipy()
    {
        foreach (JsonElement c in Cases("t_cdf"))
        {
            Close(D(c, "value"), StudentT.Cdf(D(c, "t"), D(c, "df")), 1e-11, $"cdf({D(c, "t")}, {D(c, "df")})");
        }

        foreach (JsonElement c in Cases("t_two_sided"))
        {
            Close(D(c, "value"), StudentT.TwoSidedPValue(D(c, "t"), D(c, "df")), 1e-11, $"p({D(c, "t")}, {D(c, "df")})");
        }

        // The textbook critical values (SciPy's t.ppf(0.975, ν), itself good to about 1e-11): t(0.975, 9) = 2.262157, t(0.975, 4) = 2.776445.
        Assert.Equal(0.05, StudentT.TwoSidedPValue(2.2621571627409915, 9), 1e-10);
        Assert.Equal(0.05, StudentT.TwoSidedPValue(2.7764451051977987, 4), 1e-10);
        Assert.Equal(0, StudentT.TwoSidedPValue(double.PositiveInfinity, 3));
        Assert.Equal(1, StudentT.Cdf(double.PositiveInfinity, 3));
        Assert.Equal(0, StudentT.Cdf(double.NegativeInfinity, 3));
        Assert.True(double.IsNaN(StudentT.TwoSidedPValue(double.NaN, 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Cdf(1, 0));
    }

    [Fact]
    public void Paired_t_test_matches_scipy_ttest_rel()
    {
        foreach (JsonElement c in Cases("paired"))
        {
            double[] a = [.. c.GetProperty("a").EnumerateArray().Select(v => v.GetDouble())];
            double[] b = [.. c.GetProperty("b").EnumerateArray().Select(v => v.GetDouble())];
            PairedTTestResult r = PairedTTest.Compute(a, b);
            Assert.Equal(PairedTTestCase.Test, r.Case);
            Assert.Equal(a.Length - 1, r.DegreesOfFreedom);
            Close(D(c, "mean"), r.MeanDifference, 1e-9, "mean");
            Close(D(c, "std"), r.StdDifference, 1e-9, "std");
            Close(D(c, "t"), r.T, 1e-9, "t");
            Close(D(c, "p"), r.PValue, 1e-9, $"p of n = {a.Length}");
        }
    }

    [Fact]
    public void Zero_variance_differences_have_defined_p_values()
    {
        // Identical runs: no evidence of a difference.
        PairedTTestResult same = PairedTTest.Compute([0.9, 0.8, 0.85], [0.9, 0.8, 0.85]);
        Assert.Equal((PairedTTestCase.Identical, 1.0, 0.0, 0.0), (same.Case, same.PValue, same.MeanDifference, same.StdDifference));
        Assert.False(same.IsSignificant());

        // The same non-zero difference every time, up to rounding (0.95 − 0.90 and 0.90 − 0.85 differ in the last bits).
        PairedTTestResult constant = PairedTTest.Compute([0.95, 0.90, 0.85], [0.90, 0.85, 0.80]);
        Assert.Equal(PairedTTestCase.ConstantDifference, constant.Case);
        Assert.Equal(0, constant.PValue);
        Assert.Equal(double.PositiveInfinity, constant.T);
        Assert.Equal(0.05, constant.MeanDifference, 12);
        Assert.True(constant.IsSignificant());
        Assert.Equal(double.NegativeInfinity, PairedTTest.Compute([0.1, 0.2], [0.3, 0.4]).T);

        // Differences at the level of rounding (the same computation in another order) are no difference.
        PairedTTestResult rounding = PairedTTest.Compute([0.4123456789, 0.3987654321, 0.4011111111], [0.4123456789 + 2e-12, 0.3987654321 - 3e-12, 0.4011111111 + 1e-12]);
        Assert.Equal((PairedTTestCase.Identical, 1.0), (rounding.Case, rounding.PValue));
        Assert.Equal(PairedTTestCase.Test, PairedTTest.Compute([0.41, 0.39, 0.40], [0.41 + 2e-6, 0.39 - 3e-6, 0.40 + 1e-6]).Case);

        // One pair, or a NaN: no test.
        Assert.Equal(PairedTTestCase.Undefined, PairedTTest.Compute([0.9], [0.8]).Case);
        Assert.True(double.IsNaN(PairedTTest.Compute([0.9], [0.8]).PValue));
        Assert.Equal(PairedTTestCase.Undefined, PairedTTest.Compute([0.9, double.NaN], [0.8, 0.7]).Case);
        Assert.False(PairedTTest.Compute([0.9, double.NaN], [0.8, 0.7]).IsSignificant());
        Assert.Throws<ArgumentException>(() => PairedTTest.Compute([1, 2], [1]));
    }
}
