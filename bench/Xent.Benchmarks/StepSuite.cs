using Xent.Kernels;
using Xent.Nn;
using Xent.Optim;
using Xent.Training;

namespace Xent.Benchmarks;

/// <summary>
/// P8: one MLP training step (forward, loss, backward, Adam) as a ratio to the sum of its GEMM and loss-kernel times
/// measured alone in the same run, and the bytes it allocates per step once warm.
/// </summary>
internal static class StepSuite
{
    public static IEnumerable<Row> Run(int threads)
    {
        Parallelism.MaxDegree = threads;
        (int In, int Hidden, int Classes, int Batch)[] shapes = [(64, 128, 10, 64), (784, 256, 10, 128), (10, 16, 2, 32)];
        foreach (var s in shapes)
        {
            var random = new XentRandom(1);
            Sequential model = Mlp.Create(s.In, [s.Hidden], s.Classes, random);
            var optimizer = new Adam(model.Parameters);
            var loss = new TrainingLoss(LossKind.CrossEntropy);
            float[] x = [.. Enumerable.Range(0, s.Batch * s.In).Select(_ => random.NextSingle(-1, 1))];
            int[] y = [.. Enumerable.Range(0, s.Batch).Select(_ => random.NextInt(s.Classes))];
            var gradient = new float[s.Batch * s.Classes];
            void Step()
            {
                model.ZeroGradients();
                ReadOnlySpan<float> output = model.Forward(x, s.Batch, training: true);
                loss.Compute(output, y, s.Classes, gradient);
                model.Backward(gradient);
                optimizer.Step();
            }

            double step = Measure.MedianMilliseconds(() =>
            {
                for (int i = 0; i < 20; i++)
                {
                    Step();
                }
            }) / 20;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 50; i++)
            {
                Step();
            }

            long bytesPerStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 50;

            // The same work's GEMMs (two forward, three backward: dW1, dW2, dX2) and loss kernel, each alone.
            float[] h = new float[s.Batch * s.Hidden], o = new float[s.Batch * s.Classes];
            float[] w1 = new float[s.Hidden * s.In], w2 = new float[s.Classes * s.Hidden], dw1 = new float[w1.Length], dw2 = new float[w2.Length];
            double gemms = Measure.MedianMilliseconds(() =>
            {
                for (int i = 0; i < 20; i++)
                {
                    Sgemm.Multiply(Transpose.No, Transpose.Yes, s.Batch, s.Hidden, s.In, 1, x, s.In, w1, s.In, 0, h, s.Hidden);
                    Sgemm.Multiply(Transpose.No, Transpose.Yes, s.Batch, s.Classes, s.Hidden, 1, h, s.Hidden, w2, s.Hidden, 0, o, s.Classes);
                    Sgemm.Multiply(Transpose.Yes, Transpose.No, s.Classes, s.Hidden, s.Batch, 1, o, s.Classes, h, s.Hidden, 1, dw2, s.Hidden);
                    Sgemm.Multiply(Transpose.No, Transpose.No, s.Batch, s.Hidden, s.Classes, 1, o, s.Classes, w2, s.Hidden, 0, h, s.Hidden);
                    Sgemm.Multiply(Transpose.Yes, Transpose.No, s.Hidden, s.In, s.Batch, 1, h, s.Hidden, x, s.In, 1, dw1, s.In);
                }
            }) / 20;
            double lossKernel = Measure.MedianMilliseconds(() =>
            {
                for (int i = 0; i < 20; i++)
                {
                    loss.Compute(o, y, s.Classes, gradient);
                }
            }) / 20;
            yield return new Row($"P8 MLP step {s.In}-{s.Hidden}-{s.Classes}, batch {s.Batch}", $"{s.Batch}x{s.In}", step, "GEMMs + loss alone", gemms + lossKernel, $"{bytesPerStep} bytes allocated per step; goal ≤ 1.3x and 0 bytes");
        }
    }
}
