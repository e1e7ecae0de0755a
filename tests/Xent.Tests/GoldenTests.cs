using System.Text.Json;
using Xent.Cli.LossCases;

namespace Xent.Tests;

/// <summary>Every PyTorch golden case: loss and gradient to 1e-6 (float32) and 1e-12 (float64), or PyTorch's error.</summary>
public class GoldenTests
{
    public static IEnumerable<object[]> SharedCases() => GoldenCases.Names(GoldenCases.SharedFile);

    public static IEnumerable<object[]> ExtraCases() => GoldenCases.Names(GoldenCases.ExtraFile);

    [Fact]
    public void Golden_files_hold_the_expected_number_of_cases()
    {
        Assert.Equal(72, SharedCases().Count());
        Assert.True(ExtraCases().Count() >= 250, "the generated file should cover the full matrix");
    }

    [Theory]
    [MemberData(nameof(SharedCases))]
    public void Shared_golden_case_matches_PyTorch(string key) => Check(key);

    [Theory]
    [MemberData(nameof(ExtraCases))]
    public void Generated_golden_case_matches_PyTorch(string key) => Check(key);

    private static void Check(string key)
    {
        (LossCase c, JsonElement raw) = GoldenCases.Get(key);
        if (raw.TryGetProperty("error", out JsonElement error))
        {
            string expected = error.GetString()!;
            string message = expected[(expected.IndexOf(": ", StringComparison.Ordinal) + 2)..];
            var e = Assert.ThrowsAny<ArgumentException>(() => LossCaseRunner.Run(c));
            Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
            return;
        }

        LossCaseResult result = LossCaseRunner.Run(c);
        double tolerance = c.DType == CaseDType.Float32 ? 1e-6 : 1e-12;
        var (expectedLoss, lossShape) = Flatten(raw.GetProperty("loss"));
        var (expectedGrad, gradShape) = Flatten(raw.GetProperty("grad"));
        Assert.Equal(lossShape, result.LossShape.Select(v => (int)v).ToArray());
        if (expectedGrad.Length > 0)
        {
            // An empty expected gradient is written [] whatever its shape; its element count is still checked below.
            Assert.Equal(gradShape, result.GradShape.Select(v => (int)v).ToArray());
        }

        AssertClose(expectedLoss, result.Loss, tolerance, "loss");
        AssertClose(expectedGrad, result.Grad, tolerance, "grad");
    }

    internal static void AssertClose(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) || double.IsInfinity(e))
            {
                Assert.True(e.Equals(a), $"{what}[{i}]: expected {e}, got {a}");
                continue;
            }

            double error = Math.Abs(e - a);
            Assert.True(error <= tolerance * Math.Max(1.0, Math.Abs(e)), $"{what}[{i}]: expected {e:R}, got {a:R} (error {error:E2}, tolerance {tolerance:E0})");
        }
    }

    private static (double[] Values, int[] Shape) Flatten(JsonElement e)
    {
        NestedArray a = NestedArray.Read(e, "expected");
        return (a.Values, a.Shape.Select(v => (int)v).ToArray());
    }
}
