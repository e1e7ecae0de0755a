using System.Text.Json;
using Xent.Data;
using Xent.Kernels;
using Xent.Losses;
using Xent.Nn;
using Xent.Optim;
using Xent.Training;

namespace Xent.Tests;

/// <summary>The image and sequence layers against PyTorch 1.13 (tools/generate_cnn_golden.py), finite differences, BatchNorm's modes, determinism and allocation.</summary>
[Collection(nameof(ParallelismCollection))]
public class CnnLayerTests
{
    private static readonly JsonSerializerOptions SpecJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static readonly Lazy<JsonElement[]> Cases = new(() =>
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", "pytorch-1.13-cnn-layers.json");
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
        return [.. doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.Clone())];
    });

    public static IEnumerable<object[]> GoldenNames() => Cases.Value.Select(c => new object[] { c.GetProperty("name").GetString()! });

    private static float[] Floats(JsonElement e) => [.. e.EnumerateArray().Select(v => (float)v.GetDouble())];

    private static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            Assert.True(Math.Abs(e - a) <= tolerance * Math.Max(1, Math.Abs(e)), $"{what}[{i}]: expected {e}, got {a}");
        }
    }

    [Theory]
    [MemberData(nameof(GoldenNames))]
    public void Layer_matches_PyTorch_forward_and_backward(string name)
    {
        JsonElement c = Cases.Value.Single(k => k.GetProperty("name").GetString() == name);
        LayerSpec spec = JsonSerializer.Deserialize<LayerSpec>(c.GetProperty("spec").GetRawText(), SpecJson)!;
        spec.ParameterShapes();
        Module layer = spec.Build(new XentRandom(3));
        foreach (JsonProperty p in c.GetProperty("state").EnumerateObject())
        {
            Parameter target = layer.StateTensors.Single(t => t.Name == p.Name);
            Floats(p.Value).CopyTo(target.Value, 0);
        }

        int batch = c.GetProperty("batch").GetInt32();
        bool training = c.GetProperty("training").GetBoolean();
        float[] x = Floats(c.GetProperty("x"));
        float[] dy = Floats(c.GetProperty("dy"));
        var y = new float[batch * layer.OutputFeatures];
        layer.Forward(x, y, batch, training);
        layer.ZeroGradients();
        var dx = new float[x.Length];
        layer.Backward(x, y, dy, dx, batch);
        foreach (string reference in new[] { "float64", "float32" })
        {
            JsonElement r = c.GetProperty(reference);
            Close(Floats(r.GetProperty("y")), y, $"{name} {reference} y");
            Close(Floats(r.GetProperty("dx")), dx, $"{name} {reference} dx");
            foreach (JsonProperty g in r.GetProperty("grads").EnumerateObject())
            {
                Close(Floats(g.Value), layer.Parameters.Single(p => p.Name == g.Name).Gradient, $"{name} {reference} d{g.Name}");
            }

            foreach (JsonProperty s in r.GetProperty("state_after").EnumerateObject())
            {
                Close(Floats(s.Value), layer.StateTensors.Single(p => p.Name == s.Name).Value, $"{name} {reference} {s.Name}");
            }
        }
    }

    public static IEnumerable<object[]> Layers()
    {
        yield return ["conv2d(3,3,padding=1)", "2x5x6"];
        yield return ["conv2d(2,2x3,stride=2,dilation=1x2,bias=false)", "3x7x8"];
        yield return ["conv1d(3,3,stride=2,padding=1,dilation=2)", "2x11"];
        yield return ["maxpool(2)", "2x6x6"];
        yield return ["maxpool(3,stride=2,padding=1)", "2x7"];
        yield return ["avgpool(3,stride=2,padding=1)", "2x7x7"];
        yield return ["avgpool(2)", "2x9"];
        yield return ["gap", "3x4x5"];
        yield return ["flatten", "2x3x4"];
        yield return ["batchnorm", "3x4x5"];
        yield return ["batchnorm", "3x7"];
        yield return ["batchnorm", "6"];
        yield return ["relu", "2x3x3"];
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Backward_matches_finite_differences(string description, string shape)
    {
        int[] inputShape = ModelDescription.ParseShape(shape);
        var random = new XentRandom(41);
        LayerSpec model = ModelDescription.Build(ModelDescription.Parse(description + ",flatten,linear"), inputShape, 3);
        var built = (Sequential)model.Build(random);
        Module layer = built.Layers[0];
        int batch = 3;
        // Distinct values a step of 0.05 apart, shuffled: no ties in a max-pool window, none closer than the difference step.
        float[] x = [.. Enumerable.Range(0, batch * layer.InputFeatures).Select(i => ((i + 0.5f) * 0.05f) - (batch * layer.InputFeatures * 0.025f)).OrderBy(_ => random.NextUInt64())];
        foreach (Parameter p in layer.Parameters)
        {
            for (int i = 0; i < p.Value.Length; i++)
            {
                p.Value[i] += random.NextSingle(-0.5f, 0.5f);
            }
        }

        double[] probe = [.. Enumerable.Range(0, batch * layer.OutputFeatures).Select(_ => random.NextGaussian())];
        var y = new float[batch * layer.OutputFeatures];
        double Objective()
        {
            layer.Forward(x, y, batch, training: true);
            double sum = 0;
            for (int i = 0; i < y.Length; i++)
            {
                sum += probe[i] * y[i];
            }

            return sum;
        }

        Objective();
        layer.ZeroGradients();
        var dx = new float[x.Length];
        layer.Backward(x, y, [.. probe.Select(v => (float)v)], dx, batch);
        const float h = 1e-2f;
        void Check(float[] values, ReadOnlySpan<float> analytic, string what)
        {
            for (int i = 0; i < values.Length; i++)
            {
                float saved = values[i];
                values[i] = saved + h;
                double up = Objective();
                values[i] = saved - h;
                double down = Objective();
                values[i] = saved;
                double numeric = (up - down) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-2 * Math.Max(1, Math.Abs(numeric)), $"{description} {what}[{i}]: finite difference {numeric}, backward {analytic[i]}");
            }
        }

        foreach (Parameter p in layer.Parameters)
        {
            Check(p.Value, p.Gradient.ToArray(), p.Name);
        }

        Check(x, dx, "input");
    }

    [Fact]
    public void BatchNorm_tracks_running_statistics_in_training_and_uses_them_in_evaluation()
    {
        var bn = new BatchNorm2d(2, 2, 2);
        Assert.Equal(["weight", "bias"], bn.Parameters.Select(p => p.Name));
        Assert.Equal(["running_mean", "running_var", "num_batches_tracked"], bn.Buffers.Select(p => p.Name));
        Assert.True(bn.BatchesTracked.Integer);
        float[] x = [1, 2, 3, 4, 10, 10, 10, 10, 5, 6, 7, 8, 20, 20, 20, 22];
        var y = new float[16];
        bn.Forward(x, y, 2, training: true);
        bn.Forward(x, y, 2, training: true);
        Assert.Equal(2f, bn.BatchesTracked.Value[0]);
        // Channel 0 holds 1..8: mean 4.5, unbiased variance 6; after two updates from (0, 1): 0.19 · 4.5 and 0.81 + 0.19 · 6.
        Assert.Equal(0.19f * 4.5f, bn.RunningMean.Value[0], 5);
        Assert.Equal(0.81f + (0.19f * 6f), bn.RunningVar.Value[0], 5);
        // Training output of channel 0 is normalised by the batch (biased variance 5.25).
        Assert.Equal((float)((1 - 4.5) / Math.Sqrt(5.25 + 1e-5)), y[0], 5);
        bn.Forward(x, y, 2, training: false);
        Assert.Equal(2f, bn.BatchesTracked.Value[0]);
        Assert.Equal((float)((1 - bn.RunningMean.Value[0]) / Math.Sqrt(bn.RunningVar.Value[0] + 1e-5)), y[0], 5);
        var flat = new BatchNorm1d(4);
        ArgumentException e = Assert.Throws<ArgumentException>(() => flat.Forward([1, 2, 3, 4], new float[4], 1, training: true));
        Assert.Contains("more than 1 value per channel", e.Message, StringComparison.Ordinal);
        flat.Forward([1, 2, 3, 4], new float[4], 1, training: false);
    }

    [Fact]
    public void Training_refuses_up_front_a_batch_of_one_row_into_BatchNorm1d_with_the_layer_named()
    {
        var random = new XentRandom(2);
        float[] x = [.. Enumerable.Range(0, 33 * 4).Select(_ => random.NextSingle(-1, 1))];
        var data = new Dataset(x, [.. Enumerable.Range(0, 33).Select(i => i % 2)], ["a", "b", "c", "d"], ["y", "n"]);
        LayerSpec spec = ModelDescription.Build(ModelDescription.Parse("linear(8),relu,batchnorm,linear"), [4], 2);
        int Steps(TrainerOptions options)
        {
            var model = (Sequential)spec.Build(new XentRandom(1));
            Trainer.Fit(model, new Adam(model.Parameters), new TrainingLoss(LossKind.CrossEntropy), data, null, options);
            return (int)model.Buffers.Single(b => b.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Value[0];
        }

        // 33 rows in batches of 16 leave a last batch of 1 row: refused before the first step, not at the epoch's end.
        var e = Assert.Throws<ArgumentException>(() => Steps(new TrainerOptions { Epochs = 1, BatchSize = 16 }));
        Assert.StartsWith("Layer 3 of the model (batchnorm1d) normalises each channel over the batch", e.Message, StringComparison.Ordinal);
        Assert.Contains("the last batch of each epoch holds 1 row (33 training rows in batches of 16): use --drop-last or another --batch-size", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => Steps(new TrainerOptions { Epochs = 1, BatchSize = 1 }));
        Assert.Contains("--batch-size 1 gives batches of 1 row: use a --batch-size of 2 or more", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, Steps(new TrainerOptions { Epochs = 1, BatchSize = 16, DropLast = true }));
        Assert.Equal(3, Steps(new TrainerOptions { Epochs = 1, BatchSize = 11 }));
    }

    [Fact]
    public void Layers_are_initialised_like_PyTorch_and_named_as_its_state_dict()
    {
        LayerSpec spec = ModelDescription.Build(ModelDescription.Parse("conv2d(8,3),batchnorm,relu,maxpool(2),flatten,linear(5),batchnorm,linear"), [2, 10, 10], 4);
        var model = (Sequential)spec.Build(new XentRandom(1));
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "5.weight", "5.bias", "6.weight", "6.bias", "7.weight", "7.bias"], model.Parameters.Select(p => p.Name));
        Assert.Equal(["1.running_mean", "1.running_var", "1.num_batches_tracked", "6.running_mean", "6.running_var", "6.num_batches_tracked"], model.Buffers.Select(p => p.Name));
        var conv = (Conv2d)model.Layers[0];
        Assert.Equal([8, 2, 3, 3], conv.Weight.Shape);
        float bound = 1 / MathF.Sqrt(2 * 3 * 3);
        Assert.All(conv.Weight.Value, w => Assert.InRange(w, -bound, bound));
        Assert.All(conv.Bias!.Value, w => Assert.InRange(w, -bound, bound));
        Assert.True(conv.Weight.Value.Max() > 0.8f * bound && conv.Weight.Value.Min() < -0.8f * bound);
        Assert.Equal(spec.StateShapes(out _, out _).Select(kv => kv.Key), model.StateTensors.Select(p => p.Name));
        Assert.Equal([8 * 4 * 4, 5], [model.Layers[5].InputFeatures, model.Layers[5].OutputFeatures]);
    }

    [Fact]
    public void A_cnn_step_is_bit_identical_for_any_thread_count()
    {
        LayerSpec spec = ModelDescription.Build(ModelDescription.Parse("conv2d(8,3,padding=1),batchnorm,relu,maxpool(2),conv2d(8,3),relu,avgpool(2),flatten,linear"), [1, 28, 28], 10);
        var random = new XentRandom(5);
        int batch = 48;
        float[] x = [.. Enumerable.Range(0, batch * 784).Select(_ => random.NextSingle(-1, 1))];
        float[] probe = [.. Enumerable.Range(0, batch * 10).Select(_ => random.NextSingle(-1, 1))];
        int saved = Parallelism.MaxDegree;
        try
        {
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 7 })
            {
                Parallelism.MaxDegree = threads;
                var model = (Sequential)spec.Build(new XentRandom(9));
                model.ZeroGradients();
                float[] y = model.Forward(x, batch, training: true).ToArray();
                var dx = new float[x.Length];
                model.Backward(probe, dx);
                float[] all = [.. y, .. dx, .. model.Parameters.SelectMany(p => p.Gradient), .. model.Buffers.SelectMany(p => p.Value)];
                if (first is null)
                {
                    first = all;
                }
                else
                {
                    Assert.True(first.AsSpan().SequenceEqual(all), $"{threads} threads differ from 1");
                }
            }
        }
        finally
        {
            Parallelism.MaxDegree = saved;
        }
    }

    [Theory]
    [InlineData(1, 16, 28, 128)] // rows (9) < out channels: dW by dot products of rows, in several chunks
    [InlineData(4, 8, 13, 80)] // rows (36) > out channels: dW by the SGEMM, chunks of several samples
    public void Conv2d_weight_gradient_matches_a_direct_sum_for_any_thread_count(int channels, int outChannels, int size, int batch)
    {
        var random = new XentRandom(3);
        float[] x = [.. Enumerable.Range(0, batch * channels * size * size).Select(_ => random.NextSingle(-1, 1))];
        int oh = size - 2;
        float[] dy = [.. Enumerable.Range(0, batch * outChannels * oh * oh).Select(_ => random.NextSingle(-1, 1))];
        var expected = new double[outChannels * channels * 9];
        for (int n = 0; n < batch; n++)
        {
            for (int o = 0; o < outChannels; o++)
            {
                for (int c = 0; c < channels; c++)
                {
                    for (int k = 0; k < 9; k++)
                    {
                        double sum = 0;
                        for (int y = 0; y < oh; y++)
                        {
                            for (int xx = 0; xx < oh; xx++)
                            {
                                sum += (double)dy[(((n * outChannels) + o) * oh * oh) + (y * oh) + xx] * x[(((n * channels) + c) * size * size) + ((y + (k / 3)) * size) + xx + (k % 3)];
                            }
                        }

                        expected[(((o * channels) + c) * 9) + k] += sum;
                    }
                }
            }
        }

        int saved = Parallelism.MaxDegree;
        try
        {
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Parallelism.MaxDegree = threads;
                var conv = new Conv2d((channels, size, size), outChannels, (3, 3), new XentRandom(1));
                var y = new float[dy.Length];
                conv.Forward(x, y, batch, training: true);
                var dx = new float[x.Length];
                conv.Backward(x, y, dy, dx, batch);
                float[] gradient = conv.Weight.Gradient;
                for (int i = 0; i < expected.Length; i++)
                {
                    Assert.True(Math.Abs(gradient[i] - expected[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"dW[{i}]: {gradient[i]} vs {expected[i]} with {threads} threads");
                }

                float[] all = [.. gradient, .. conv.Bias!.Gradient, .. dx];
                first ??= all;
                Assert.True(first.AsSpan().SequenceEqual(all), $"{threads} threads differ from 1");
            }
        }
        finally
        {
            Parallelism.MaxDegree = saved;
        }
    }

    [Theory]
    [InlineData(35)] // 17 windows a row: two groups of 8 and an overlapping last group (512-bit)
    [InlineData(27)] // 13: 8 and an overlapping 8, as the Fashion-MNIST CNN's first pool
    [InlineData(33)] // 16: exactly two groups
    [InlineData(11)] // 5: 4 and an overlapping 4 (256-bit), as its second pool
    [InlineData(9)] // 4: one group of 4
    [InlineData(7)] // 3: scalar
    public void MaxPool2x2_keeps_the_first_largest_value_and_lets_a_nan_win_in_every_lane(int width)
    {
        const int channels = 3, height = 6, batch = 2;
        var random = new XentRandom(11);
        float[] x = [.. Enumerable.Range(0, batch * channels * height * width).Select(i => (i % 7) switch
        {
            0 => float.NaN,
            1 or 2 => 0.5f, // ties
            3 => float.NegativeInfinity,
            _ => random.NextSingle(-1, 1),
        })];
        var pool = new MaxPool2d((channels, height, width), (2, 2));
        int oh = height / 2, ow = width / 2;
        var y = new float[batch * channels * oh * ow];
        pool.Forward(x, y, batch, training: true);
        var dy = new float[y.Length];
        for (int i = 0; i < dy.Length; i++)
        {
            dy[i] = i + 1;
        }

        var dx = new float[x.Length];
        pool.Backward(x, y, dy, dx, batch);
        for (int p = 0; p < batch * channels; p++)
        {
            for (int r = 0; r < oh; r++)
            {
                for (int c = 0; c < ow; c++)
                {
                    float best = float.NegativeInfinity;
                    int at = (2 * r * width) + (2 * c);
                    foreach (int k in new[] { 0, 1, width, width + 1 })
                    {
                        int index = (2 * r * width) + (2 * c) + k;
                        float v = x[(p * height * width) + index];
                        if (v > best || float.IsNaN(v))
                        {
                            (best, at) = (v, index);
                        }
                    }

                    int o = (p * oh * ow) + (r * ow) + c;
                    Assert.True(best.Equals(y[o]), $"plane {p}, window ({r}, {c}): {y[o]} vs {best}");
                    Assert.Equal(dy[o], dx[(p * height * width) + at]);
                }
            }
        }
    }

    [Fact]
    public void A_warm_cnn_training_step_allocates_nothing()
    {
        LayerSpec spec = ModelDescription.Build(ModelDescription.Parse("conv2d(8,3),batchnorm,relu,maxpool(2),conv2d(8,3),relu,maxpool(2),flatten,linear(16),relu,linear"), [1, 28, 28], 10);
        var random = new XentRandom(2);
        var model = (Sequential)spec.Build(random);
        var optimizer = new Adam(model.Parameters);
        var loss = new TrainingLoss(LossKind.CrossEntropy, null, 0);
        int batch = 32;
        float[] x = [.. Enumerable.Range(0, batch * 784).Select(_ => random.NextSingle(-1, 1))];
        int[] y = [.. Enumerable.Range(0, batch).Select(_ => random.NextInt(10))];
        var gradient = new float[batch * 10];
        var bytes = new long[4];
        void Step()
        {
            long t0 = GC.GetAllocatedBytesForCurrentThread();
            model.ZeroGradients();
            ReadOnlySpan<float> output = model.Forward(x, batch, training: true);
            long t1 = GC.GetAllocatedBytesForCurrentThread();
            loss.Compute(output, y, 10, gradient);
            long t2 = GC.GetAllocatedBytesForCurrentThread();
            model.Backward(gradient);
            long t3 = GC.GetAllocatedBytesForCurrentThread();
            optimizer.Step();
            long t4 = GC.GetAllocatedBytesForCurrentThread();
            (bytes[0], bytes[1], bytes[2], bytes[3]) = (bytes[0] + t1 - t0, bytes[1] + t2 - t1, bytes[2] + t3 - t2, bytes[3] + t4 - t3);
        }

        for (int i = 0; i < 10; i++)
        {
            Step();
        }

        Array.Clear(bytes);
        for (int i = 0; i < 10; i++)
        {
            Step();
        }

        Assert.True(bytes.All(b => b == 0), $"bytes allocated by forward, loss, backward, optimizer: {string.Join(", ", bytes)}");
    }

    [Fact]
    public void Classifier_replicas_carry_the_running_statistics()
    {
        string dir = Directory.CreateTempSubdirectory("xent-cnn-replicas-").FullName;
        int saved = Parallelism.MaxDegree;
        try
        {
            LayerSpec spec = ModelDescription.Build(ModelDescription.Parse("linear(64),batchnorm,relu,linear"), [64], 3);
            var model = (Sequential)spec.Build(new XentRandom(4));
            var random = new XentRandom(8);
            int rows = 1024;
            float[] x = [.. Enumerable.Range(0, rows * 64).Select(_ => random.NextSingle(-1, 1) + 2)];
            for (int i = 0; i < 5; i++)
            {
                model.Forward(x.AsSpan(0, 64 * 64), 64, training: true);
            }

            float[] logits = model.Forward(x, rows, training: false).ToArray();
            string path = Path.Combine(dir, "m.safetensors");
            ModelFile.Save(path, model, new ModelInfo { ClassNames = ["a", "b", "c"], FeatureNames = [.. Enumerable.Range(0, 64).Select(i => "f" + i)] });
            foreach (int threads in new[] { 1, 2 })
            {
                Parallelism.MaxDegree = threads;
                var classifier = Classifier.Load(path);
                var probabilities = new float[rows * 3];
                classifier.PredictProbabilities(x, rows, probabilities);
                for (int r = 0; r < rows; r++)
                {
                    double max = logits.Skip(r * 3).Take(3).Max();
                    double sum = logits.Skip(r * 3).Take(3).Sum(z => Math.Exp(z - max));
                    for (int k = 0; k < 3; k++)
                    {
                        double expected = Math.Exp(logits[(r * 3) + k] - max) / sum;
                        Assert.True(Math.Abs(expected - probabilities[(r * 3) + k]) <= 1e-5, $"{threads} threads, row {r}, class {k}: {probabilities[(r * 3) + k]}, expected {expected}");
                    }
                }
            }
        }
        finally
        {
            Parallelism.MaxDegree = saved;
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_model_file_keeps_the_buffers_and_PyTorch_dtypes()
    {
        string dir = Directory.CreateTempSubdirectory("xent-cnn-").FullName;
        try
        {
            LayerSpec spec = ModelDescription.Build(ModelDescription.Parse("conv1d(4,3),batchnorm,relu,maxpool(2),flatten,linear"), [2, 12], 3);
            var model = (Sequential)spec.Build(new XentRandom(4));
            var random = new XentRandom(8);
            float[] x = [.. Enumerable.Range(0, 5 * 24).Select(_ => random.NextSingle(-1, 1))];
            model.Forward(x, 5, training: true);
            model.Forward(x, 5, training: true);
            float[] expected = model.Forward(x, 5, training: false).ToArray();
            string path = Path.Combine(dir, "m.safetensors");
            ModelFile.Save(path, model, new ModelInfo { ClassNames = ["a", "b", "c"], FeatureNames = [.. Enumerable.Range(0, 24).Select(i => "f" + i)] });
            SafetensorsFile file = Safetensors.Read(path);
            Assert.Equal("I64", file.Tensors["1.num_batches_tracked"].DType);
            Assert.Equal(2f, file.Tensors["1.num_batches_tracked"].Values[0]);
            Assert.Empty(file.Tensors["1.num_batches_tracked"].Shape);
            (Sequential loaded, _) = ModelFile.Load(path);
            Assert.Equal(expected, loaded.Forward(x, 5, training: false).ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed class StopAfter(int steps, CancellationTokenSource cts) : IProgress<TrainingProgress>
    {
        private int _seen;

        public void Report(TrainingProgress value)
        {
            if (!value.EpochEnded && !value.Resumed && ++_seen == steps)
            {
                cts.Cancel();
            }
        }
    }

    [Fact]
    public void A_resumed_cnn_with_BatchNorm_ends_with_the_same_weights_and_running_statistics()
    {
        var random = new XentRandom(12);
        Dataset Images(int count)
        {
            var x = new float[count * 64];
            var y = new int[count];
            for (int i = 0; i < count; i++)
            {
                y[i] = i % 2;
                for (int p = 0; p < 64; p++)
                {
                    x[(i * 64) + p] = random.NextSingle(-1, 1) + (y[i] == 1 && p % 9 == 0 ? 1.5f : 0f);
                }
            }

            return new Dataset(x, y, [.. Enumerable.Range(0, 64).Select(j => "p" + j)], ["a", "b"]);
        }

        Dataset train = Images(96), validation = Images(32);
        LayerSpec spec = ModelDescription.Build(ModelDescription.Parse("conv2d(4,3),batchnorm,relu,maxpool(2),flatten,linear"), [1, 8, 8], 2);
        string checkpoint = Path.Combine(Directory.CreateTempSubdirectory("xent-cnn-resume-").FullName, "checkpoint.safetensors");
        var options = new TrainerOptions { Epochs = 4, BatchSize = 16, Seed = 3, CheckpointPath = checkpoint, CheckpointEverySteps = 5, EarlyStopping = new EarlyStopping("val_loss", 3) };
        Sequential Fit(TrainerOptions o, bool resume, IProgress<TrainingProgress>? progress = null, CancellationToken token = default)
        {
            var model = (Sequential)spec.Build(new XentRandom(7));
            Trainer.Fit(model, new Adam(model.Parameters), new TrainingLoss(LossKind.CrossEntropy, null, 0), train, validation, o, progress, resume, token);
            return model;
        }

        Sequential reference = Fit(options with { CheckpointPath = null }, resume: false);
        Assert.True(reference.Buffers.Single(b => b.Name == "1.num_batches_tracked").Value[0] > 0);
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => Fit(options, resume: false, new StopAfter(13, cts), cts.Token));
        Sequential resumed = Fit(options, resume: true);
        Assert.Equal(reference.StateTensors.Select(p => p.Name), resumed.StateTensors.Select(p => p.Name));
        for (int i = 0; i < reference.StateTensors.Count; i++)
        {
            Assert.True(reference.StateTensors[i].Value.AsSpan().SequenceEqual(resumed.StateTensors[i].Value), $"{reference.StateTensors[i].Name} differs after resume");
        }

        Directory.Delete(Path.GetDirectoryName(checkpoint)!, recursive: true);
    }
}
