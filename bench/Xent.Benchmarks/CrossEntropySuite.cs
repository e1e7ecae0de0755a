using System.Numerics.Tensors;
using Xent.Kernels;
using Xent.Losses;

namespace Xent.Benchmarks;

/// <summary>
/// The fused cross-entropy forward+backward (float32, class-index targets, mean) as a ratio to a memcpy of
/// the same logits into the same gradient buffer, measured in the same run.
/// </summary>
internal static class CrossEntropySuite
{
    public static IEnumerable<Row> Run(int threads, long elements)
    {
        foreach (int c in new[] { 2, 10, 1000, 32000 })
        {
            int n = (int)(elements / c);
            var random = new Random(1);
            var logits = new float[n * c];
            var gradient = new float[n * c];
            var targets = new int[n];
            for (int i = 0; i < logits.Length; i++)
            {
                logits[i] = (float)(random.NextDouble() * 8 - 4);
            }

            for (int i = 0; i < n; i++)
            {
                targets[i] = random.Next(c);
            }

            // Pre-touch every page of both buffers.
            Baselines.Memcpy(logits, gradient, threads);
            Parallelism.MaxDegree = threads;
            double memcpy = Measure.MedianMilliseconds(() => Baselines.Memcpy(logits, gradient, threads));
            double readSum = Measure.MedianMilliseconds(() => Baselines.ReadSum(logits, threads));
            double fused = Measure.MedianMilliseconds(() => CrossEntropy.Compute<float>(
                new ReadOnlyTensorSpan<float>(logits, [n, c]), new ReadOnlyTensorSpan<int>(targets, [n]), gradient: gradient));
            double forward = Measure.MedianMilliseconds(() => CrossEntropy.Compute<float>(
                new ReadOnlyTensorSpan<float>(logits, [n, c]), new ReadOnlyTensorSpan<int>(targets, [n])));
            yield return new Row($"CE fwd+bwd C={c}", $"{n} x {c}", fused, "memcpy", memcpy);
            yield return new Row($"CE forward C={c}", $"{n} x {c}", forward, "read-only sum", readSum);
        }
    }
}

/// <summary>One benchmark line: a case, its time, and its same-run baseline.</summary>
internal sealed record Row(string Case, string Shape, double Milliseconds, string Baseline, double BaselineMilliseconds, string Note = "")
{
    /// <summary>Case time ÷ baseline time: below 1 is faster than the baseline.</summary>
    public double Ratio => Milliseconds / BaselineMilliseconds;
}
