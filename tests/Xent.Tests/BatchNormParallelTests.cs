using Xent.Kernels;
using Xent.Nn;

namespace Xent.Tests;

/// <summary>BatchNorm's channels run on the worker pool when the layer is large: the same bits for any thread count.</summary>
[Collection(nameof(ParallelismCollection))]
public sealed class BatchNormParallelTests
{
    [Fact]
    public void A_large_batchnorm_gives_the_same_bits_on_one_thread_and_on_four()
    {
        const int batch = 64, channels = 16, height = 24, width = 24;
        var random = new XentRandom(5);
        float[] x = [.. Enumerable.Range(0, batch * channels * height * width).Select(_ => random.NextSingle(-3, 3))];
        float[] dy = [.. Enumerable.Range(0, x.Length).Select(_ => random.NextSingle(-1, 1))];
        Assert.True(x.Length >= 1 << 18, "the input must be large enough for the parallel path");
        (float[] Y, float[] Dx, float[] DGamma, float[] Mean) Run(int threads)
        {
            int saved = Parallelism.MaxDegree;
            try
            {
                Parallelism.MaxDegree = threads;
                var layer = new BatchNorm2d(channels, height, width);
                var y = new float[x.Length];
                var dx = new float[x.Length];
                layer.Forward(x, y, batch, training: true);
                layer.Backward(x, y, dy, dx, batch);
                return (y, dx, [.. layer.Weight.Gradient], [.. layer.RunningMean.Value]);
            }
            finally
            {
                Parallelism.MaxDegree = saved;
            }
        }

        var one = Run(1);
        var four = Run(4);
        Assert.Equal(one.Y, four.Y);
        Assert.Equal(one.Dx, four.Dx);
        Assert.Equal(one.DGamma, four.DGamma);
        Assert.Equal(one.Mean, four.Mean);
        Assert.Contains(one.Y, v => v != 0);
    }
}
