using System.Numerics.Tensors;
using Xent.Kernels;
using Xent.Losses;

namespace Xent.Benchmarks;

/// <summary>
/// Issue 10: each loss of <see cref="LossCatalog"/>, forward and backward on float logits, as a ratio to plain
/// cross-entropy (its fused kernel) on the same logits in the same run (timed in alternation, median of the per-pair ratios), at C = 10 and C = 1000 (goal ≤ 1.3×).
/// </summary>
internal static class LossSuite
{
    public static IEnumerable<Row> Run(int threads)
    {
        Parallelism.MaxDegree = threads;
        foreach ((int n, int c) in new[] { (65536, 10), (2048, 1000) })
        {
            var random = new XentRandom(3);
            float[] x = [.. Enumerable.Range(0, n * c).Select(_ => (float)random.NextGaussian())];
            int[] y = [.. Enumerable.Range(0, n).Select(_ => random.NextInt(c))];
            int[] counts = [.. Enumerable.Range(0, c).Select(k => 1 + (1000 * (c - k) / c))];
            var gradient = new float[x.Length];
            void Call(ClassificationLoss loss) => loss.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), gradient: gradient);
            string[] specs = ["focal:gamma=2", "logit-adjusted:tau=1", "balanced-softmax", "ldam", "gce:q=0.7", "sce", "poly1:epsilon=1"];
            // Warm every path past tiered compilation first: the losses share row paths, and the first one timed would
            // otherwise pay for the others' JIT.
            for (int i = 0; i < 60; i++)
            {
                foreach (string spec in specs)
                {
                    LossCatalog.Create(spec, counts).Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), gradient: gradient);
                }
            }

            var ce = new CrossEntropyLoss();
            foreach (string spec in specs)
            {
                ClassificationLoss loss = LossCatalog.Create(spec, counts);
                string path = loss switch
                {
                    LogitAdjustedLoss or BalancedSoftmaxLoss => c <= 32 ? "blocks: shifted in cache, then the kernel's lanes" : "the kernel's row path adds the offsets in its exp pass",
                    LdamLoss => "float: s·(z − max z) − s·Δ_y inside the kernel (lanes or row path)",
                    _ => c <= 32 ? "blocks: the kernel's lanes, then ℓ and g per tile and the gradient scaled in cache" : "the kernel's row path asks for ℓ and g once per row",
                };
                (double ms, double baseMs, double ratio) = Measure.Paired(() => Call(loss), () => Call(ce));
                yield return new Row($"loss {spec} fwd+bwd", $"{n}x{c}", ms, "cross-entropy", baseMs, path + "; paired runs; goal ≤ 1.3x") { PairedRatio = ratio };
            }
        }
    }
}
