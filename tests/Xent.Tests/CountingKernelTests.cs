using System.Numerics.Tensors;
using Xent.Kernels;
using Xent.Losses;

namespace Xent.Tests;

/// <summary>
/// Unweighted class-index cross-entropy checks and counts its targets chunk by chunk inside the kernel
/// (<see cref="CrossEntropyKernel.RunCounting{T}"/>), with the mean's scale for no ignored targets until a block shows
/// one. Weights of 1 take the other path (count first, then the kernel), so they are the reference here.
/// </summary>
[Collection(nameof(ParallelismCollection))]
public sealed class CountingKernelTests
{
    // Three blocks of CountingBlockElements at C = 2 (1,048,576 rows each; the last one short).
    private const int N = 2_600_000, Block = (int)(CrossEntropyKernel.CountingBlockElements / 2);

    [Theory]
    [InlineData(-1)] // no ignored targets: the speculative scale holds
    [InlineData(Block + 123_457)] // the first ignored target in the second block: the first two blocks rescaled
    [InlineData(10)] // an ignored target in the first block: everything counted first
    public void The_mean_over_blocks_matches_the_counted_path_at_every_thread_count(int firstIgnored)
    {
        (float[] x, int[] y) = Data(firstIgnored);
        var plain = new CrossEntropyOptions { IgnoreIndex = -100 };
        var ones = plain with { Weight = [1.0, 1.0] };
        var want = new float[x.Length];
        LossResult reference = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [N, 2]), new ReadOnlyTensorSpan<int>(y, [N]), ones, gradient: want);
        int saved = Parallelism.MaxDegree;
        try
        {
            Parallelism.MaxDegree = 1;
            var one = new float[x.Length];
            LossResult r1 = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [N, 2]), new ReadOnlyTensorSpan<int>(y, [N]), plain, gradient: one);
            Parallelism.MaxDegree = 2;
            var two = new float[x.Length];
            LossResult r2 = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [N, 2]), new ReadOnlyTensorSpan<int>(y, [N]), plain, gradient: two);
            Assert.Equal(r1.Value, r2.Value);
            Assert.Equal(one, two);
            Assert.Equal(reference.Count, r1.Count);
            Assert.Equal(reference.TotalWeight, r1.TotalWeight);
            Assert.True(Math.Abs(r1.Value - reference.Value) <= 1e-6 * reference.Value, $"mean {r1.Value}, want {reference.Value}");
            // Every gradient is kappa (p - y) with kappa = 1 / count, so it lies in [-kappa, kappa]. Rescaled entries are
            // rounded twice: within 2 float ulps of kappa of the directly scaled ones. (Not 2 ulps of each value: the
            // lane kernel, which C = 2 takes on AVX-512, forms the target's p - 1 as a difference, so near p = 1 both
            // paths' roundings are magnified alike, to 5.6e-7 relative at -0.075 kappa, 1.5e-7 kappa absolute.)
            double kappa = 1.0 / reference.Count;
            for (int i = 0; i < x.Length; i++)
            {
                if (Math.Abs(one[i] - want[i]) > 2.5e-7 * kappa)
                {
                    Assert.Fail($"grad[{i}] (row {i / 2}) = {one[i]}, want {want[i]}");
                }
            }
        }
        finally
        {
            Parallelism.MaxDegree = saved;
        }
    }

    [Theory]
    [InlineData(Reduction.Mean, 1)]
    [InlineData(Reduction.Mean, 2)]
    [InlineData(Reduction.Sum, 2)]
    public void The_first_out_of_range_target_in_a_later_block_is_reported(Reduction reduction, int threads)
    {
        (float[] x, int[] y) = Data(Block + 5);
        y[Block + 300_000] = 7;
        y[(2 * Block) + 100] = 9;
        int saved = Parallelism.MaxDegree;
        try
        {
            Parallelism.MaxDegree = threads;
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [N, 2]), new ReadOnlyTensorSpan<int>(y, [N]), new CrossEntropyOptions { Reduction = reduction }, gradient: new float[x.Length]));
            Assert.StartsWith("Target 7 is out of bounds.", e.Message);
        }
        finally
        {
            Parallelism.MaxDegree = saved;
        }
    }

    [Fact]
    public void The_sum_counts_the_ignored_targets_of_every_block()
    {
        (float[] x, int[] y) = Data(Block + 77);
        LossResult counted = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [N, 2]), new ReadOnlyTensorSpan<int>(y, [N]), new CrossEntropyOptions { Reduction = Reduction.Sum });
        Assert.Equal(N - y.Count(t => t == -100), counted.Count);
    }

    [Theory]
    [InlineData(1, -100)]
    [InlineData(2, -100)]
    [InlineData(10, 3)]
    [InlineData(1000, 999)]
    public void Target_counts_match_a_scalar_count_and_find_the_first_offender(int c, int ignore)
    {
        // Lengths across the 32-target steps and their scalar tail; offenders (negative, C, above, int.MinValue) at
        // random places, or none.
        var random = new XentRandom(13);
        int[] offenders = [-1, c, c + 5, int.MinValue, int.MaxValue];
        for (int trial = 0; trial < 400; trial++)
        {
            int length = random.NextInt(200);
            int[] y = [.. Enumerable.Range(0, length).Select(_ => random.NextInt(4) == 0 ? ignore : random.NextInt(c))];
            if (length > 0 && trial % 2 == 0)
            {
                y[random.NextInt(length)] = offenders[random.NextInt(offenders.Length)];
                y[random.NextInt(length)] = offenders[random.NextInt(offenders.Length)];
            }

            int first = Array.FindIndex(y, t => t != ignore && (uint)t >= (uint)c);
            long got = TargetCount.Ignored(y, c, ignore, out int bad);
            Assert.Equal(first, bad);
            Assert.Equal(first < 0 ? y.Count(t => t == ignore) : -1, got);
        }
    }

    /// <summary>Logits in [−5, 5], targets 0 and 1, and from <paramref name="firstIgnored"/> on every 1,000th row ignored.</summary>
    private static (float[] X, int[] Y) Data(int firstIgnored)
    {
        var random = new XentRandom(5);
        var x = new float[N * 2];
        random.NextSingles(x);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (x[i] * 10) - 5;
        }

        var y = new int[N];
        for (int i = 0; i < N; i++)
        {
            y[i] = firstIgnored >= 0 && i >= firstIgnored && (i - firstIgnored) % 1000 == 0 ? -100 : (int)(random.NextUInt64() & 1);
        }

        return (x, y);
    }
}
