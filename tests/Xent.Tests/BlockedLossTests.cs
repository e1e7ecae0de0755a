using System.Numerics.Tensors;
using Xent.Kernels;
using Xent.Losses;

namespace Xent.Tests;

/// <summary>
/// The fused block path of the losses built on cross-entropy (softmax-form losses and logit offsets) against each
/// loss's own per-position rule in double, over shapes that reach every branch: small C in SIMD lanes, C ≤ 16 scaled
/// with permutes, long rows, K-dimensional input, several blocks, weights and ignore_index.
/// </summary>
[Collection(nameof(ParallelismCollection))]
public sealed class BlockedLossTests
{
    public static TheoryData<string, int[]> Cases()
    {
        var data = new TheoryData<string, int[]>();
        string[] specs = ["focal:gamma=2", "focal:gamma=0.5", "gce:q=0.7", "sce", "poly1:epsilon=1", "logit-adjusted:tau=1", "balanced-softmax", "ldam", "ldam:max-margin=0.3,scale=10"];
        int[][] shapes = [[3000, 10], [37, 3], [50, 17], [9, 1100], [2, 9000], [5, 4, 300], [700, 2], [3, 33, 7], [40, 100], [6, 1024]];
        foreach (string spec in specs)
        {
            foreach (int[] shape in shapes)
            {
                data.Add(spec, shape);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Block_path_matches_the_per_position_rule(string spec, int[] shape)
    {
        int n = shape[0], c = shape[1], s = shape.Length == 3 ? shape[2] : 1;
        ClassificationLoss loss = LossCatalog.Create(spec, [.. Enumerable.Range(0, c).Select(k => 1 + (k * 7 % 40))]);
        var random = new XentRandom(42);
        double[] x = [.. Enumerable.Range(0, n * c * s).Select(_ => (random.NextDouble() - 0.5) * 8)];
        int[] y = [.. Enumerable.Range(0, n * s).Select(i => i % 11 == 5 ? -100 : random.NextInt(c))];
        double[] weight = [.. Enumerable.Range(0, c).Select(k => 0.5 + (k % 3))];
        var options = new ClassificationLossOptions { Weight = weight, Reduction = Reduction.Mean };
        (double[] expectedLoss, double[] expectedGradient, double expectedMean) = Reference(loss, x, y, weight, n, c, s);

        int[] lengths = shape;
        var gradient = new double[x.Length];
        var losses = new double[n * s];
        double mean = loss.Compute<double>(new ReadOnlyTensorSpan<double>(x, [.. lengths.Select(v => (nint)v)], default), new ReadOnlyTensorSpan<int>(y, [.. lengths.Where((_, i) => i != 1).Select(v => (nint)v)], default), options, losses, gradient).Value;
        Near(expectedMean, mean, 1e-10, "mean (double)");
        for (int i = 0; i < losses.Length; i++)
        {
            Near(expectedLoss[i], losses[i], 1e-10, $"loss[{i}] (double)");
        }

        for (int i = 0; i < gradient.Length; i++)
        {
            Near(expectedGradient[i], gradient[i], 1e-10, $"gradient[{i}] (double)");
        }

        float[] xf = [.. x.Select(v => (float)v)];
        (expectedLoss, expectedGradient, expectedMean) = Reference(loss, [.. xf.Select(v => (double)v)], y, weight, n, c, s);
        var gradientF = new float[x.Length];
        var lossesF = new float[n * s];
        double meanF = loss.Compute<float>(new ReadOnlyTensorSpan<float>(xf, [.. lengths.Select(v => (nint)v)], default), new ReadOnlyTensorSpan<int>(y, [.. lengths.Where((_, i) => i != 1).Select(v => (nint)v)], default), options, lossesF, gradientF).Value;
        Near(expectedMean, meanF, 2e-6, "mean (float)");
        for (int i = 0; i < lossesF.Length; i++)
        {
            Near(expectedLoss[i], lossesF[i], 2e-6, $"loss[{i}] (float)");
        }

        for (int i = 0; i < gradientF.Length; i++)
        {
            Near(expectedGradient[i], gradientF[i], 2e-6, $"gradient[{i}] (float)");
        }
    }

    [Theory]
    [InlineData("focal:gamma=2", 30000, 10)]
    [InlineData("gce:q=0.7", 600, 1000)]
    [InlineData("balanced-softmax", 30000, 10)]
    [InlineData("logit-adjusted:tau=1", 600, 1000)]
    [InlineData("ldam", 30000, 10)]
    public void Results_do_not_depend_on_the_thread_count(string spec, int n, int c)
    {
        ClassificationLoss loss = LossCatalog.Create(spec, [.. Enumerable.Range(0, c).Select(k => 1 + k)]);
        var random = new XentRandom(7);
        float[] x = [.. Enumerable.Range(0, n * c).Select(_ => (float)((random.NextDouble() - 0.5) * 6))];
        int[] y = [.. Enumerable.Range(0, n).Select(_ => random.NextInt(c))];
        int saved = Parallelism.MaxDegree;
        try
        {
            Parallelism.MaxDegree = 1;
            var one = new float[x.Length];
            double v1 = loss.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), gradient: one).Value;
            Parallelism.MaxDegree = 4;
            var four = new float[x.Length];
            double v4 = loss.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), gradient: four).Value;
            Assert.Equal(v1, v4);
            Assert.Equal(one, four);
        }
        finally
        {
            Parallelism.MaxDegree = saved;
        }
    }

    [Theory]
    [InlineData(320, 10, 1.0)]
    [InlineData(320, 10, 4.0)]
    [InlineData(37, 40, 4.0)]
    [InlineData(331, 2, 4.0)]
    public void Ldam_in_float_keeps_float_precision_at_scale_30(int n, int c, double range)
    {
        // s·z in float would carry an absolute error of ~s·|z|·6e-8 (2e-6 at s·z = 30): the float path scales z − max z instead.
        var loss = new LdamLoss([.. Enumerable.Range(0, c).Select(k => 1 + (k * 13 % 50))], 0.5, 30);
        var random = new XentRandom(11);
        float[] x = [.. Enumerable.Range(0, n * c).Select(_ => (float)((random.NextDouble() - 0.5) * 2 * range))];
        int[] y = [.. Enumerable.Range(0, n).Select(_ => random.NextInt(c))];
        double[] weight = [.. Enumerable.Repeat(1.0, c)];
        (double[] expectedLoss, double[] expectedGradient, double expectedMean) = Reference(loss, [.. x.Select(v => (double)v)], y, weight, n, c, 1);
        var gradient = new float[x.Length];
        var losses = new float[n];
        double mean = loss.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), new ClassificationLossOptions { Weight = weight }, losses, gradient).Value;
        Near(expectedMean, mean, 1e-6, "mean");
        for (int i = 0; i < n; i++)
        {
            Near(expectedLoss[i], losses[i], 1e-6, $"loss[{i}]");
        }

        for (int i = 0; i < gradient.Length; i++)
        {
            Near(expectedGradient[i], gradient[i], 1e-6, $"gradient[{i}]");
        }
    }

    [Theory]
    [InlineData("ldam", 32, 10)]
    [InlineData("ldam", 5, 40)]
    [InlineData("focal:gamma=2", 32, 10)]
    [InlineData("logit-adjusted:tau=1", 32, 10)]
    [InlineData("logit-adjusted:tau=1", 5, 40)]
    [InlineData("balanced-softmax", 5, 40)]
    public void A_nan_logit_gives_a_nan_loss_and_gradient(string spec, int n, int c)
    {
        ClassificationLoss loss = LossCatalog.Create(spec, [.. Enumerable.Range(0, c).Select(k => 1 + k)]);
        float[] x = [.. Enumerable.Range(0, n * c).Select(i => (float)Math.Sin(i) * 3)];
        x[(2 * c) + 1] = float.NaN;
        int[] y = [.. Enumerable.Range(0, n).Select(i => i % c)];
        var gradient = new float[x.Length];
        var losses = new float[n];
        double value = loss.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), null, losses, gradient).Value;
        Assert.True(double.IsNaN(value), $"{spec}: loss {value}");
        Assert.True(float.IsNaN(losses[2]), $"{spec}: row 2's loss {losses[2]}");
        Assert.True(float.IsNaN(gradient[2 * c]), $"{spec}: row 2's gradient {gradient[2 * c]}");
        Assert.False(float.IsNaN(losses[3]), $"{spec}: row 3's loss {losses[3]}");
    }

    /// <summary>Σ w·ℓ ÷ the loss's denominator, from <see cref="ClassificationLoss.Position"/> at every position.</summary>
    private static (double[] Losses, double[] Gradient, double Mean) Reference(ClassificationLoss loss, double[] x, int[] y, double[] weight, int n, int c, int s)
    {
        var losses = new double[n * s];
        var gradient = new double[x.Length];
        var z = new double[c];
        var dz = new double[c];
        double sum = 0, totalWeight = 0;
        long count = 0;
        for (int b = 0; b < n; b++)
        {
            for (int p = 0; p < s; p++)
            {
                int yi = y[(b * s) + p];
                if (yi == -100)
                {
                    continue;
                }

                for (int k = 0; k < c; k++)
                {
                    z[k] = x[(b * c * s) + (k * s) + p];
                }

                double w = weight[yi];
                double l = loss.Position(z, yi, dz);
                losses[(b * s) + p] = w * l;
                sum += w * l;
                totalWeight += w;
                count++;
                for (int k = 0; k < c; k++)
                {
                    gradient[(b * c * s) + (k * s) + p] = w * dz[k];
                }
            }
        }

        double denominator = loss.Normalization == LossNormalization.Positions ? count : totalWeight;
        for (int i = 0; i < gradient.Length; i++)
        {
            gradient[i] /= denominator;
        }

        return (losses, gradient, sum / denominator);
    }

    private static void Near(double expected, double actual, double tolerance, string what)
        => Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)), $"{what}: {actual:R}, expected {expected:R}");
}
