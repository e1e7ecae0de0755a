using Xent.Kernels;
using Xent.Losses;

namespace Xent.Tests;

/// <summary>
/// The mean's denominator Σ w[y] in fixed blocks on the worker pool (<see cref="TargetWeights"/>): the same at every
/// thread count, equal to a scalar sum, and the first offender in scan order wins across blocks.
/// </summary>
[Collection(nameof(ParallelismCollection))]
public sealed class TargetWeightsTests
{
    // Three whole blocks and a short fourth.
    private const int N = (3 * TargetWeights.BlockTargets) + 12_345;

    [Theory]
    [InlineData(2, 0)] // classes counted, no weights
    [InlineData(2, 2)] // classes counted
    [InlineData(7, 7)] // classes counted, the ignore index a class
    [InlineData(10, 10)] // weights gathered
    [InlineData(1000, 1000)] // weights gathered
    public void Block_sums_match_a_scalar_sum_at_every_thread_count(int c, int weights)
    {
        int ignore = c == 7 ? 3 : -100;
        int[] y = Targets(c, ignore);
        float[] w = [.. Enumerable.Range(0, weights).Select(k => 0.25f + (k % 5))];
        double want = 0;
        long wantCount = 0;
        foreach (int t in y)
        {
            if (t != ignore)
            {
                want += weights == 0 ? 1.0 : w[t];
                wantCount++;
            }
        }

        int saved = Parallelism.MaxDegree;
        try
        {
            Parallelism.MaxDegree = 1;
            (double one, long oneCount) = TargetWeights.Sum(y, c, ignore, w);
            Parallelism.MaxDegree = 2;
            (double two, long twoCount) = TargetWeights.Sum(y, c, ignore, w);
            Assert.Equal(one, two);
            Assert.Equal(wantCount, oneCount);
            Assert.Equal(wantCount, twoCount);
            Assert.True(Math.Abs(one - want) <= 1e-12 * want, $"sum {one}, want {want}");

            // The public entry point takes the same blocks.
            (double viaLayout, long viaCount) = IndexTargetLayout.SumTargetWeights<float>(y, c, ignore, w);
            Assert.Equal(one, viaLayout);
            Assert.Equal(oneCount, viaCount);
        }
        finally
        {
            Parallelism.MaxDegree = saved;
        }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(10, 1)]
    [InlineData(10, 2)]
    [InlineData(2, 0)]
    public void The_first_offender_across_blocks_is_reported(int c, int threads)
    {
        int[] y = Targets(c, -100);
        y[(2 * TargetWeights.BlockTargets) + 5] = -7; // a later block's offender
        y[TargetWeights.BlockTargets + 77] = c + 4; // the first in scan order
        y[N - 1] = c; // in the short last block
        float[] w = threads == 0 ? [] : [.. Enumerable.Repeat(1.5f, c)];
        int saved = Parallelism.MaxDegree;
        try
        {
            Parallelism.MaxDegree = Math.Max(1, threads);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => TargetWeights.Sum(y, c, -100, w));
            Assert.Contains($"Target {c + 4} is out of bounds.", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Parallelism.MaxDegree = saved;
        }
    }

    private static int[] Targets(int c, int ignore)
    {
        var random = new Random(1234);
        var y = new int[N];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = random.Next(20) == 0 ? ignore : random.Next(c);
        }

        return y;
    }
}
