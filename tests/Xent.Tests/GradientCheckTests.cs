using System.Numerics.Tensors;
using Xent.Losses;

namespace Xent.Tests;

/// <summary>Central finite differences in double precision against every loss's analytic gradient, in every mode.</summary>
public class GradientCheckTests
{
    private const double Step = 1e-6;

    public static IEnumerable<object[]> CrossEntropyModes()
    {
        foreach (Reduction reduction in Enum.GetValues<Reduction>())
        {
            foreach (bool weighted in new[] { false, true })
            {
                foreach (bool ignore in new[] { false, true })
                {
                    foreach (double smoothing in new[] { 0.0, 0.3 })
                    {
                        foreach (string layout in new[] { "2d", "kdim", "unbatched" })
                        {
                            if (ignore && layout == "unbatched")
                            {
                                continue; // its only target ignored: zero gradient, NaN mean (a golden case covers it)
                            }

                            yield return [reduction, weighted, ignore, smoothing, layout, "index"];
                            if (!ignore)
                            {
                                yield return [reduction, weighted, ignore, smoothing, layout, "prob"];
                            }
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(CrossEntropyModes))]
    public void CrossEntropy_gradient_matches_finite_differences(Reduction reduction, bool weighted, bool ignore, double smoothing, string layout, string kind)
    {
        var random = new Random(HashCode.Combine(reduction, weighted, ignore, smoothing, layout, kind) & 0x7fff);
        nint[] shape = layout switch { "2d" => [5, 4], "kdim" => [2, 4, 3], _ => [4] };
        int classes = (int)(shape.Length == 1 ? shape[0] : shape[1]);
        double[] x = RandomArray(random, (int)shape.Aggregate((a, b) => a * b), 2.0);
        var options = new CrossEntropyOptions
        {
            Reduction = reduction,
            Weight = weighted ? [.. RandomArray(random, classes, 1.0).Select(v => Math.Abs(v) + 0.2)] : null,
            LabelSmoothing = smoothing,
        };

        Func<double[], double[], LossResult> loss;
        if (kind == "index")
        {
            nint[] targetShape = layout switch { "2d" => [5], "kdim" => [2, 3], _ => [1] };
            int[] targets = [.. Enumerable.Range(0, (int)targetShape.Aggregate((a, b) => a * b)).Select(_ => random.Next(classes))];
            if (ignore)
            {
                targets[0] = -100;
            }

            loss = (input, grad) => CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(input, shape), new ReadOnlyTensorSpan<int>(targets, targetShape), options, new double[targets.Length], grad);
        }
        else
        {
            double[] t = RandomArray(random, x.Length, 1.0).Select(Math.Abs).ToArray();
            loss = (input, grad) => CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(input, shape), new ReadOnlyTensorSpan<double>(t, shape), options, new double[x.Length / classes], grad);
        }

        CheckGradient(x, loss);
    }

    [Theory]
    [InlineData(Reduction.Mean, false)]
    [InlineData(Reduction.Mean, true)]
    [InlineData(Reduction.Sum, true)]
    [InlineData(Reduction.None, true)]
    public void SoftCrossEntropy_gradient_matches_finite_differences(Reduction reduction, bool weighted)
    {
        var random = new Random(11);
        double[] x = RandomArray(random, 6 * 5, 2.0);
        int[] y = [0, 4, -100, 2, 1, 3];
        var options = new CrossEntropyOptions { Reduction = reduction, Weight = weighted ? [1, 2, 0.5, 3, 1] : null };
        CheckGradient(x, (input, grad) => SoftCrossEntropy.Compute(new ReadOnlyTensorSpan<double>(input, [6, 5]), new ReadOnlyTensorSpan<int>(y, [6]), options, new double[6], grad));
    }

    [Theory]
    [InlineData(Reduction.Mean, false)]
    [InlineData(Reduction.Sum, true)]
    [InlineData(Reduction.None, true)]
    public void Nll_gradient_matches_finite_differences(Reduction reduction, bool weighted)
    {
        var random = new Random(12);
        double[] x = RandomArray(random, 2 * 3 * 4, 2.0);
        int[] y = [0, 2, -100, 1, 1, 2, 0, 0];
        var options = new NllOptions { Reduction = reduction, Weight = weighted ? [1, 2, 0.5] : null };
        CheckGradient(x, (input, grad) => Nll.Compute(new ReadOnlyTensorSpan<double>(input, [2, 3, 4]), new ReadOnlyTensorSpan<int>(y, [2, 4]), options, new double[8], grad));
    }

    [Theory]
    [InlineData(Reduction.Mean, false, false)]
    [InlineData(Reduction.Mean, true, true)]
    [InlineData(Reduction.Sum, false, true)]
    [InlineData(Reduction.None, true, false)]
    public void BinaryCrossEntropyWithLogits_gradient_matches_finite_differences(Reduction reduction, bool weighted, bool posWeighted)
    {
        var random = new Random(13);
        double[] x = RandomArray(random, 4 * 3, 3.0);
        double[] t = [.. RandomArray(random, 12, 1.0).Select(Math.Abs)];
        var options = new BinaryCrossEntropyOptions
        {
            Reduction = reduction,
            Weight = weighted ? Tensor.Create(new double[] { 2, 1, 0.5, 1.5 }, [4, 1]) : null,
            PosWeight = posWeighted ? Tensor.Create(new double[] { 1, 3, 0.5 }, [3]) : null,
        };
        CheckGradient(x, (input, grad) => BinaryCrossEntropyWithLogits.Compute(new ReadOnlyTensorSpan<double>(input, [4, 3]), new ReadOnlyTensorSpan<double>(t, [4, 3]), options, new double[12], grad));
    }

    /// <summary>Compares the analytic gradient of the reduced value (or of the sum of per-position losses) with central differences.</summary>
    private static void CheckGradient(double[] x, Func<double[], double[], LossResult> loss)
    {
        var analytic = new double[x.Length];
        loss(x, analytic);
        Assert.Contains(analytic, g => g != 0);
        for (int i = 0; i < x.Length; i++)
        {
            double[] plus = (double[])x.Clone();
            double[] minus = (double[])x.Clone();
            plus[i] += Step;
            minus[i] -= Step;
            double numeric = (loss(plus, new double[x.Length]).Value - loss(minus, new double[x.Length]).Value) / (2 * Step);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-6 * Math.Max(1, Math.Abs(numeric)), $"d/dx[{i}]: analytic {analytic[i]:R}, numeric {numeric:R}");
        }
    }

    internal static double[] RandomArray(Random random, int length, double scale)
        => [.. Enumerable.Range(0, length).Select(_ => (random.NextDouble() * 2 - 1) * scale)];
}
