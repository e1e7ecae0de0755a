using System.Numerics.Tensors;
using Xent.Losses;

namespace Xent.Tests;

/// <summary>Micro-batches combined through <see cref="LossResult"/> reproduce the full batch exactly.</summary>
public class AccumulationTests
{
    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(true, 0.0)]
    [InlineData(true, 0.2)]
    public void Unequal_micro_batches_with_ignored_positions_reproduce_the_full_batch(bool weighted, double smoothing)
    {
        const int n = 37, c = 7;
        var random = new Random(5);
        float[] logits = [.. Enumerable.Range(0, n * c).Select(_ => (float)(random.NextDouble() * 6 - 3))];
        int[] targets = [.. Enumerable.Range(0, n).Select(i => random.NextDouble() < 0.3 ? -100 : random.Next(c))];
        targets[20] = targets[21] = targets[22] = -100; // one micro-batch below is entirely ignored
        var options = new CrossEntropyOptions { Weight = weighted ? [1, 2, 0.5, 3, 1, 1.5, 0.25] : null, LabelSmoothing = smoothing };

        var fullGrad = new float[n * c];
        LossResult full = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(logits, [n, c]), new ReadOnlyTensorSpan<int>(targets, [n]), options, gradient: fullGrad);

        int[] bounds = [0, 5, 20, 23, 31, 37];
        double totalWeight = CrossEntropy.TotalWeight(targets, c, options);
        var sumOptions = options with { Reduction = Reduction.Sum };
        var accumulated = new float[n * c];
        LossResult? combined = null;
        double meanOfMeans = 0;
        for (int k = 0; k + 1 < bounds.Length; k++)
        {
            int rows = bounds[k + 1] - bounds[k];
            float[] x = logits.AsSpan(bounds[k] * c, rows * c).ToArray();
            int[] y = targets.AsSpan(bounds[k], rows).ToArray();
            LossResult part = CrossEntropy.Compute<float>(
                new ReadOnlyTensorSpan<float>(x, [rows, c]), new ReadOnlyTensorSpan<int>(y, [rows]), sumOptions,
                gradient: accumulated.AsSpan(bounds[k] * c, rows * c), gradientScale: 1 / totalWeight);
            combined = combined is { } sofar ? sofar + part : part;
            meanOfMeans += part.Mean / (bounds.Length - 1);
        }

        Assert.Equal(totalWeight, combined!.Value.TotalWeight, 12);
        Assert.True(Math.Abs(combined.Value.Value - full.Value) <= 1e-6 * Math.Abs(full.Value), $"combined {combined.Value.Value} vs full {full.Value}");
        for (int i = 0; i < fullGrad.Length; i++)
        {
            Assert.True(Math.Abs(accumulated[i] - fullGrad[i]) <= 1e-6, $"grad[{i}]: {accumulated[i]} vs {fullGrad[i]}");
        }

        // The naive mean of means is not the full-batch loss here (it is NaN: one micro-batch is all ignored).
        Assert.True(double.IsNaN(meanOfMeans) || Math.Abs(meanOfMeans - full.Value) > 1e-3);
    }

    [Fact]
    public void Mean_of_means_differs_from_the_full_batch_when_micro_batches_differ_in_weight()
    {
        double[] x = [0.1, 0.9, 2.0, -1.0, 0.3, 0.3, -0.5, 1.5];
        int[] y = [1, -100, 0, 0];
        LossResult a = CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(x.AsSpan(0, 4).ToArray(), [2, 2]), new ReadOnlyTensorSpan<int>(y.AsSpan(0, 2).ToArray(), [2]));
        LossResult b = CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(x.AsSpan(4, 4).ToArray(), [2, 2]), new ReadOnlyTensorSpan<int>(y.AsSpan(2, 2).ToArray(), [2]));
        LossResult full = CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(x, [4, 2]), new ReadOnlyTensorSpan<int>(y, [4]));
        Assert.Equal(full.Value, (a + b).Value, 14);
        Assert.NotEqual(full.Value, (a.Value + b.Value) / 2, 6);
    }
}
