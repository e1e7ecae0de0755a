using Xent.Kernels;
using Xent.Nn;
using Xent.Training;

namespace Xent.Tests;

public class LayerTests
{
    [Fact]
    public void Linear_is_initialised_like_PyTorch_within_one_over_sqrt_fan_in()
    {
        var layer = new Linear(64, 128, new XentRandom(1));
        float bound = 1 / MathF.Sqrt(64);
        Assert.All(layer.Weight.Value, w => Assert.InRange(w, -bound, bound));
        Assert.All(layer.Bias.Value, b => Assert.InRange(b, -bound, bound));
        Assert.True(layer.Weight.Value.Max() > 0.9f * bound && layer.Weight.Value.Min() < -0.9f * bound, "the whole range is used");
        Assert.Equal([128, 64], layer.Weight.Shape);
    }

    [Fact]
    public void Mlp_parameters_are_named_as_in_a_PyTorch_Sequential()
    {
        Sequential model = Mlp.Create(64, [128], 10, new XentRandom(1));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], model.Parameters.Select(p => p.Name));
    }

    public static IEnumerable<object[]> Networks()
    {
        yield return ["mlp"];
        yield return ["mlp_log_softmax"];
        yield return ["mlp_cosine_head"];
        yield return ["segment_head"];
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Backward_matches_finite_differences_for_parameters_and_inputs(string kind)
    {
        var random = new XentRandom(17);
        Sequential model = kind switch
        {
            "mlp" => Mlp.Create(5, [7, 6], 3, random),
            "mlp_log_softmax" => Mlp.Create(5, [4], 3, random, logSoftmax: true),
            "mlp_cosine_head" => Mlp.Create(5, [4], 3, random, cosineHead: true),
            _ => new Sequential(new SegmentHead(4, Mlp.Create(3, [5], 2, random))),
        };
        int batch = 3;
        double[] probe = [.. Enumerable.Range(0, batch * model.OutputFeatures).Select(_ => random.NextGaussian())];
        float[] x = [.. Enumerable.Range(0, batch * model.InputFeatures).Select(_ => random.NextSingle(-1, 1))];

        // Objective: Σ probe · output (a fixed random linear functional), in double for the differences.
        double Objective()
        {
            ReadOnlySpan<float> y = model.Forward(x, batch, training: true);
            double sum = 0;
            for (int i = 0; i < y.Length; i++)
            {
                sum += probe[i] * y[i];
            }

            return sum;
        }

        Objective();
        model.ZeroGradients();
        float[] gradOut = [.. probe.Select(v => (float)v)];
        var gradIn = new float[x.Length];
        model.Backward(gradOut, gradIn);

        const float h = 1e-2f;
        foreach (Parameter p in model.Parameters)
        {
            for (int i = 0; i < p.Value.Length; i++)
            {
                float saved = p.Value[i];
                p.Value[i] = saved + h;
                double up = Objective();
                p.Value[i] = saved - h;
                double down = Objective();
                p.Value[i] = saved;
                double numeric = (up - down) / (2 * h);
                Assert.True(Math.Abs(numeric - p.Gradient[i]) <= 2e-3 * Math.Max(1, Math.Abs(numeric)), $"{p.Name}[{i}]: analytic {p.Gradient[i]}, numeric {numeric}");
            }
        }

        for (int i = 0; i < x.Length; i++)
        {
            float saved = x[i];
            x[i] = saved + h;
            double up = Objective();
            x[i] = saved - h;
            double down = Objective();
            x[i] = saved;
            double numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - gradIn[i]) <= 2e-3 * Math.Max(1, Math.Abs(numeric)), $"input[{i}]: analytic {gradIn[i]}, numeric {numeric}");
        }
    }

    [Fact]
    public void SegmentHead_lays_logits_out_as_N_C_S()
    {
        var inner = new Sequential(new Linear(2, 2, new XentRandom(1)));
        var linear = (Linear)inner.Layers[0];
        Array.Copy(new float[] { 1, 0, 0, 1 }, linear.Weight.Value, 4); // identity
        Array.Clear(linear.Bias.Value);
        var head = new SegmentHead(3, inner);
        float[] x = [1, 2, 3, 4, 5, 6]; // one sample, 3 segments of 2
        var y = new float[6];
        head.Forward(x, y, 1, training: false);
        Assert.Equal([1f, 3, 5, 2, 4, 6], y); // (N=1, C=2, S=3)
    }

    [Fact]
    public void Dropout_scales_kept_values_and_is_the_identity_when_evaluating()
    {
        var dropout = new Dropout(1000, 0.25f, new XentRandom(3));
        float[] x = [.. Enumerable.Repeat(1f, 1000)];
        var y = new float[1000];
        dropout.Forward(x, y, 1, training: true);
        int kept = y.Count(v => v != 0);
        Assert.InRange(kept, 700, 800);
        Assert.All(y.Where(v => v != 0), v => Assert.Equal(1f / 0.75f, v));
        // The mask is the generator's uniforms in order, value i kept when u_i >= p; the backward pass applies it.
        var reference = new XentRandom(3);
        Assert.Equal(Enumerable.Range(0, 1000).Select(_ => reference.NextSingle() >= 0.25f), y.Select(v => v != 0));
        float[] dy = [.. Enumerable.Range(0, 1000).Select(i => i * 0.5f)];
        var dx = new float[1000];
        dropout.Backward(x, y, dy, dx, 1);
        Assert.Equal(y.Select((v, i) => v * dy[i]), dx);
        dropout.Forward(x, y, 1, training: false);
        Assert.All(y, v => Assert.Equal(1f, v));
    }

    [Fact]
    public void Mismatched_layers_and_batches_are_rejected_with_the_sizes_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sequential(new Linear(3, 4, new XentRandom(1)), new Linear(5, 2, new XentRandom(1))));
        Assert.Contains("takes 5 features but layer 0 (Linear) gives 4", e.Message);
        Sequential model = Mlp.Create(3, [], 2, new XentRandom(1));
        var e2 = Assert.Throws<ArgumentException>(() => model.Forward(new float[5], 2, training: false));
        Assert.Contains("a batch of 2 × 3 features needs 6", e2.Message);
    }

    [Fact]
    public void The_architecture_round_trips_through_its_spec()
    {
        Sequential model = Mlp.Create(10, [16, 8], 2, new XentRandom(1), dropout: 0.1f);
        Module rebuilt = model.Spec.Build(new XentRandom(2));
        Assert.Equal(model.Spec.Layers!.Select(l => l.Kind), rebuilt.Spec.Layers!.Select(l => l.Kind));
        Assert.Equal(model.Parameters.Select(p => p.Name), rebuilt.Parameters.Select(p => p.Name));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_inference_plan_equals_the_models_forward(bool cosineHead)
    {
        var random = new XentRandom(8);
        Sequential model = Mlp.Create(30, [40, 20], 5, random, dropout: 0.3f, logSoftmax: true, cosineHead: cosineHead);
        var plan = new InferencePlan(model, InferencePlan.Pack(model));
        foreach (int batch in new[] { 1, 3, 5, 64, 600 })
        {
            float[] x = [.. Enumerable.Range(0, batch * 30).Select(_ => random.NextSingle(-2, 2))];
            float[] got = plan.Forward(x, batch).ToArray();
            ReadOnlySpan<float> expected = model.Forward(x, batch, training: false);
            if (batch > Linear.SmallBatch)
            {
                Assert.True(System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(expected).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(got)), $"batch {batch}");
            }
            else
            {
                for (int i = 0; i < got.Length; i++)
                {
                    Assert.Equal(expected[i], got[i], 5);
                }
            }
        }
    }

    [Fact]
    public void The_inference_plan_keeps_the_weights_it_was_packed_with()
    {
        var random = new XentRandom(9);
        Sequential model = Mlp.Create(6, [8], 3, random);
        var plan = new InferencePlan(model, InferencePlan.Pack(model));
        float[] x = [.. Enumerable.Range(0, 6 * 6).Select(_ => random.NextSingle(-1, 1))];
        float[] before = plan.Forward(x, 6).ToArray();
        Array.Clear(((Linear)model.Layers[0]).Weight.Value);
        Array.Clear(((Linear)model.Layers[0]).Bias.Value);
        Assert.Equal(before, plan.Forward(x, 6).ToArray());
        Assert.NotEqual(before, new InferencePlan(model, InferencePlan.Pack(model)).Forward(x, 6).ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(100)]
    public void The_stable_softmax_matches_a_double_precision_reference_for_short_and_long_rows(int length)
    {
        var random = new XentRandom((ulong)length);
        foreach (float spread in new[] { 1f, 30f, 1000f })
        {
            float[] logits = [.. Enumerable.Range(0, length).Select(_ => random.NextSingle(-spread, spread))];
            var p = new float[length];
            StableSoftmax.Row(logits, p);
            double max = logits.Max(), sum = logits.Sum(z => Math.Exp(z - max));
            for (int i = 0; i < length; i++)
            {
                double expected = Math.Exp(logits[i] - max) / sum;
                Assert.True(Math.Abs(p[i] - expected) <= (4e-7 * (1 + Math.Abs(logits[i] - max)) * expected) + 1e-37, $"length {length}, spread {spread}, p[{i}] = {p[i]} vs {expected}");
            }
        }

        float[] special = [.. Enumerable.Range(0, length).Select(i => i == 0 ? 0f : float.NegativeInfinity)];
        var q = new float[length];
        StableSoftmax.Row(special, q);
        Assert.Equal(1f, q[0]);
        Assert.All(q[1..], v => Assert.Equal(0f, v));
        special[^1] = float.NaN;
        StableSoftmax.Row(special, q);
        Assert.All(q, v => Assert.True(float.IsNaN(v)));
    }
}

public class SegmentHeadShapeTests
{
    [Fact]
    public void A_140000_long_sequence_in_140_segments_of_1000_gives_logits_2_by_140_for_the_kdim_loss()
    {
        var random = new XentRandom(1);
        var head = new SegmentHead(140, Mlp.Create(1000, [8], 2, random));
        var model = new Sequential(head);
        Assert.Equal(140_000, model.InputFeatures);
        Assert.Equal(2 * 140, model.OutputFeatures);
        float[] x = [.. Enumerable.Range(0, 2 * 140_000).Select(_ => random.NextSingle(-1, 1))];
        float[] logits = model.Forward(x, 2, training: true).ToArray();
        int[] targets = [.. Enumerable.Range(0, 2 * 140).Select(i => i % 47 == 0 ? 1 : 0)];
        var gradient = new float[logits.Length];
        Xent.Losses.LossResult r = Xent.Losses.CrossEntropy.Compute<float>(
            new System.Numerics.Tensors.ReadOnlyTensorSpan<float>(logits, [2, 2, 140]),
            new System.Numerics.Tensors.ReadOnlyTensorSpan<int>(targets, [2, 140]),
            new Xent.Losses.CrossEntropyOptions { Weight = [3.0 / 140, 137.0 / 140] }, gradient: gradient);
        Assert.True(double.IsFinite(r.Value));
        model.Backward(gradient);
        Assert.Contains(model.Parameters[0].Gradient, g => g != 0);
    }

    [Fact]
    public void Inference_on_a_few_rows_agrees_with_the_gemm_path()
    {
        var random = new XentRandom(3);
        var layer = new Linear(37, 11, random);
        float[] x = [.. Enumerable.Range(0, 8 * 37).Select(_ => random.NextSingle(-1, 1))];
        var batched = new float[8 * 11];
        layer.Forward(x, batched, 8, training: false); // 8 rows: the GEMM
        var single = new float[11];
        for (int r = 0; r < 8; r++)
        {
            layer.Forward(x.AsSpan(r * 37, 37), single, 1, training: false); // 1 row: dot products
            for (int j = 0; j < 11; j++)
            {
                Assert.Equal(batched[(r * 11) + j], single[j], 5);
            }
        }
    }
}
