using Xent.Kernels;
using Xent.Nn;
using Xent.Optim;
using Xent.Training;

namespace Xent.Tests;

/// <summary>A warm MLP training step (forward, loss, backward, optimizer) allocates nothing.</summary>
[Collection(nameof(ParallelismCollection))]
public class StepAllocationTests
{
    [Theory]
    [InlineData(64, 128, 10, 64, "adam")]
    [InlineData(784, 256, 10, 128, "sgd")]
    [InlineData(10, 16, 2, 32, "adamw")]
    public void A_warm_training_step_allocates_nothing(int inputs, int hidden, int classes, int batch, string optimizerName)
    {
        var random = new XentRandom(1);
        Sequential model = Mlp.Create(inputs, [hidden], classes, random);
        Optimizer optimizer = optimizerName switch
        {
            "sgd" => new Sgd(model.Parameters, new SgdOptions { Momentum = 0.9 }),
            "adamw" => Adam.AdamW(model.Parameters),
            _ => new Adam(model.Parameters),
        };
        var loss = new TrainingLoss(LossKind.CrossEntropy, [.. Enumerable.Repeat(1.0, classes)], 0.1);
        float[] x = [.. Enumerable.Range(0, batch * inputs).Select(_ => random.NextSingle(-1, 1))];
        int[] y = [.. Enumerable.Range(0, batch).Select(_ => random.NextInt(classes))];
        var gradient = new float[batch * classes];
        void Step()
        {
            model.ZeroGradients();
            ReadOnlySpan<float> output = model.Forward(x, batch, training: true);
            loss.Compute(output, y, classes, gradient);
            model.Backward(gradient);
            optimizer.Step();
        }

        for (int i = 0; i < 5; i++)
        {
            Step();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            Step();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
