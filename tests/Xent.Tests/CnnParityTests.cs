using System.Text.Json;
using Xent.Kernels;
using Xent.Nn;
using Xent.Optim;
using Xent.Training;

namespace Xent.Tests;

/// <summary>A conv-bn-relu-pool-linear CNN trained for 50 steps from PyTorch's initial weights (read from the safetensors file PyTorch's state dict was written to) matches PyTorch 1.13's loss at every step (tools/generate_cnn_parity.py).</summary>
[Collection(nameof(ParallelismCollection))]
public class CnnParityTests
{
    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void Training_a_small_cnn_on_fashion_mnist_images_matches_PyTorch_step_by_step(string optimizerName)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "cnn-parity.json")));
        JsonElement root = doc.RootElement;
        byte[] images = Convert.FromBase64String(root.GetProperty("images").GetString()!);
        int[] labels = [.. root.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32())];
        float[] x = [.. images.Select(b => b / 255f)];
        LayerSpec spec = ModelDescription.Build(ModelDescription.Parse(root.GetProperty("model").GetString()!), [1, 28, 28], 10);
        var model = (Sequential)spec.Build(new XentRandom(0));
        SafetensorsFile initial = Safetensors.Read(Path.Combine(AppContext.BaseDirectory, "Golden", "cnn-parity-initial.safetensors"));
        Assert.Equal(initial.Tensors.Keys.Order(StringComparer.Ordinal), model.StateTensors.Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (Parameter p in model.StateTensors)
        {
            Assert.Equal(initial.Tensors[p.Name].Shape, p.Shape);
            initial.Tensors[p.Name].Values.CopyTo(p.Value, 0);
        }

        Assert.Equal("I64", initial.Tensors["1.num_batches_tracked"].DType);
        Optimizer optimizer = optimizerName == "sgd"
            ? new Sgd(model.Parameters, new SgdOptions { LearningRate = 0.01, Momentum = 0.9 })
            : new Adam(model.Parameters, new AdamOptions { LearningRate = 1e-3 });
        var loss = new TrainingLoss(LossKind.CrossEntropy);
        double[] expected = [.. root.GetProperty("losses").GetProperty(optimizerName).EnumerateArray().Select(e => e.GetDouble())];
        int batch = root.GetProperty("batch_size").GetInt32();
        var batchX = new float[batch * 784];
        var batchY = new int[batch];
        var gradient = new float[batch * 10];
        int step = 0;
        foreach (JsonElement rows in root.GetProperty("batches").EnumerateArray())
        {
            int i = 0;
            foreach (JsonElement row in rows.EnumerateArray())
            {
                int r = row.GetInt32();
                x.AsSpan(r * 784, 784).CopyTo(batchX.AsSpan(i * 784, 784));
                batchY[i++] = labels[r];
            }

            model.ZeroGradients();
            ReadOnlySpan<float> output = model.Forward(batchX, batch, training: true);
            double value = loss.Compute(output, batchY, 10, gradient).Value;
            model.Backward(gradient);
            optimizer.Step();
            Assert.True(Math.Abs(value - expected[step]) <= 1e-4, $"step {step}: Xent {value:R}, PyTorch {expected[step]:R}");
            step++;
        }

        Assert.Equal(50, step);
        foreach (JsonProperty s in root.GetProperty("state_after").GetProperty(optimizerName).EnumerateObject())
        {
            float[] want = [.. s.Value.EnumerateArray().Select(e => e.GetSingle())];
            float[] got = model.StateTensors.Single(p => p.Name == s.Name).Value;
            for (int i = 0; i < want.Length; i++)
            {
                Assert.True(Math.Abs(want[i] - got[i]) <= 1e-4 * Math.Max(1, Math.Abs(want[i])), $"{s.Name}[{i}]: Xent {got[i]}, PyTorch {want[i]}");
            }
        }
    }
}
