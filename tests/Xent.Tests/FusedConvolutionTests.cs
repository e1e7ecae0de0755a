using Xent.Kernels;
using Xent.Nn;

namespace Xent.Tests;

/// <summary>
/// <see cref="Sequential"/> fuses a convolution with the ReLU and the max pooling that follow it. The fused stage must
/// give the same bits as the layers run one by one (each of which is checked against PyTorch and finite differences in
/// <see cref="CnnLayerTests"/>), forward and backward, for any thread count.
/// </summary>
[Collection(nameof(ParallelismCollection))]
public class FusedConvolutionTests
{
    public static IEnumerable<object[]> Models()
    {
        yield return ["conv2d(8,3),relu,maxpool(2)", "1x28x28", "conv2d+relu+maxpool2d"]; // the Fashion-MNIST CNN's first block
        yield return ["conv2d(32,3),relu,maxpool(2),conv2d(64,3),relu,maxpool(2)", "1x28x28", "conv2d+relu+maxpool2d,conv2d+relu+maxpool2d"];
        yield return ["conv2d(6,3,stride=2,padding=1),relu,maxpool(3,stride=2,padding=1)", "3x17x15", "conv2d+relu+maxpool2d"]; // overlapping, padded windows
        yield return ["conv2d(5,2,bias=false),relu", "2x9x11", "conv2d+relu"];
        yield return ["conv2d(4,3),relu,avgpool(2)", "2x10x10", "conv2d+relu,avgpool2d"]; // average pooling is not fused
        yield return ["conv2d(4,2),maxpool(2)", "2x9x9", "conv2d+maxpool2d"];
        yield return ["conv1d(6,3),relu,maxpool(2)", "3x21", "conv1d+relu+maxpool1d"];
        yield return ["conv2d(4,3),batchnorm,relu,maxpool(2)", "1x12x12", "conv2d,batchnorm2d,relu,maxpool2d"]; // not adjacent: nothing fused
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_fused_stage_gives_the_bits_of_the_layers_run_one_by_one(string description, string shape, string stages)
    {
        int[] inputShape = ModelDescription.ParseShape(shape);
        LayerSpec spec = ModelDescription.Build(ModelDescription.Parse(description + ",flatten,linear"), inputShape, 5);
        int saved = Parallelism.MaxDegree;
        try
        {
            foreach (int batch in new[] { 1, 37, 64 })
            {
                int[]? oneThread = null;
                foreach (int threads in new[] { 1, 2 })
                {
                    Parallelism.MaxDegree = threads;
                    var model = (Sequential)spec.Build(new XentRandom(3));
                    Assert.Equal(stages + ",flatten,linear", string.Join(',', model.Stages.Select(s => string.Join('+', Enumerable.Range(s.First, s.Last - s.First + 1).Select(i => model.Layers[i].Spec.Kind)))));
                    // The description and the saved tensors are those of the layers: fusion is not part of the model.
                    Assert.Equal(spec.Layers!.Select(l => l.Kind), model.Spec.Layers!.Select(l => l.Kind));
                    Quantize(model);
                    var random = new XentRandom(11);
                    // Multiples of 1/4 times weights of multiples of 1/8: exact sums, so many ties, zeros and windows with nothing positive.
                    float[] x = [.. Enumerable.Range(0, batch * model.InputFeatures).Select(_ => (float)Math.Round(random.NextSingle(-2, 2) * 4) / 4)];
                    float[] probe = [.. Enumerable.Range(0, batch * model.OutputFeatures).Select(_ => random.NextSingle(-1, 1))];

                    model.ZeroGradients();
                    float[] fusedY = model.Forward(x, batch, training: true).ToArray();
                    var fusedDx = new float[x.Length];
                    model.Backward(probe, fusedDx);
                    float[] fusedGrads = [.. model.Parameters.SelectMany(p => p.Gradient)];

                    model.ZeroGradients();
                    (float[] y, float[] dx) = OneByOne(model, x, probe, batch);
                    float[] grads = [.. model.Parameters.SelectMany(p => p.Gradient)];

                    Assert.True(Bits(y).SequenceEqual(Bits(fusedY)), $"{description}, batch {batch}, {threads} threads: forward differs");
                    Assert.True(Bits(dx).SequenceEqual(Bits(fusedDx)), $"{description}, batch {batch}, {threads} threads: input gradient differs");
                    Assert.True(Bits(grads).SequenceEqual(Bits(fusedGrads)), $"{description}, batch {batch}, {threads} threads: parameter gradients differ");
                    // And the same bits for any thread count (64 samples: the second layer's dW partials are summed in parallel blocks).
                    int[] all = [.. Bits(fusedY), .. Bits(fusedDx), .. Bits(fusedGrads)];
                    oneThread ??= all;
                    Assert.True(oneThread.AsSpan().SequenceEqual(all), $"{description}, batch {batch}: {threads} threads differ from 1");
                    Assert.Contains(fusedY, v => v != 0);
                    Assert.Contains(fusedDx, v => v != 0);
                }
            }
        }
        finally
        {
            Parallelism.MaxDegree = saved;
        }
    }

    [Fact]
    public void ReLU_gives_the_same_bits_in_its_vector_and_scalar_code()
    {
        // −0 stays −0 and NaN propagates in both paths (MaxNative(0, x) on x86 is 0 > x ? 0 : x).
        float[] values = [-0f, 0f, float.NaN, -1.5f, 2.5f, float.NegativeInfinity, float.PositiveInfinity, float.Epsilon, -float.Epsilon];
        float[] x = [.. Enumerable.Range(0, 67).Select(i => values[(i * 7) % values.Length])];
        for (int offset = 0; offset < 17; offset++)
        {
            var y = new float[x.Length - offset];
            ReLU.ForwardSpan(x.AsSpan(offset), y);
            var biased = new float[x.Length - offset];
            ReLU.BiasForwardSpan(x.AsSpan(offset), 0.5f, biased);
            for (int i = 0; i < y.Length; i++)
            {
                float v = x[offset + i], b = v + 0.5f;
                Assert.Equal(BitConverter.SingleToInt32Bits(0f > v ? 0f : v), BitConverter.SingleToInt32Bits(y[i]));
                Assert.Equal(BitConverter.SingleToInt32Bits(0f > b ? 0f : b), BitConverter.SingleToInt32Bits(biased[i]));
            }
        }
    }

    /// <summary>Every layer's own forward and backward, each output kept, as <see cref="Sequential"/> did before fusion.</summary>
    private static (float[] Y, float[] Dx) OneByOne(Sequential model, float[] x, float[] probe, int batch)
    {
        IReadOnlyList<Module> layers = model.Layers;
        float[][] outputs = [.. layers.Select(l => new float[batch * l.OutputFeatures])];
        float[] input = x;
        for (int i = 0; i < layers.Count; i++)
        {
            layers[i].Forward(input, outputs[i], batch, training: true);
            input = outputs[i];
        }

        float[] g = probe;
        for (int i = layers.Count - 1; i >= 0; i--)
        {
            var gi = new float[batch * layers[i].InputFeatures];
            layers[i].Backward(i == 0 ? x : outputs[i - 1], outputs[i], g, gi, batch);
            g = gi;
        }

        return (outputs[^1], g);
    }

    /// <summary>Every parameter a multiple of 1/8 in [−1/2, 1/2].</summary>
    private static void Quantize(Sequential model)
    {
        var random = new XentRandom(7);
        foreach (Parameter p in model.Parameters)
        {
            for (int i = 0; i < p.Value.Length; i++)
            {
                p.Value[i] = MathF.Round(random.NextSingle(-4, 4)) / 8;
            }
        }
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];
}
