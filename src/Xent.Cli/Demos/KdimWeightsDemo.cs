using Xent.Kernels;
using System.Globalization;
using System.Numerics.Tensors;
using Xent.Losses;
using Xent.Metrics;
using Xent.Nn;
using Xent.Optim;
using Xent.Reports;
using Xent.Training;

namespace Xent.Cli.Demos;

/// <summary>
/// K-dimensional outputs with class weights: 16 sequences × 140 segments, logits (16, 2, 140), positives at a 3:137
/// rate, trained with and without class weights; the weighted mean's arithmetic for one batch.
/// </summary>
internal static class KdimWeightsDemo
{
    public const string Name = "kdim-weights";
    public const string Summary = "logits (16, 2, 140) at a 3:137 positive rate, with and without class weights";
    private const int Sequences = 16, Segments = 140, Features = 4, Positives = 3, Steps = 150;

    /// <summary>Sequences whose segments are Gaussian noise, with exactly 3 positive segments shifted in two features.</summary>
    internal static (float[] X, int[] Y) Make(ulong seed)
    {
        var random = new XentRandom(seed);
        var x = new float[Sequences * Segments * Features];
        var y = new int[Sequences * Segments];
        for (int n = 0; n < Sequences; n++)
        {
            int[] order = [.. Enumerable.Range(0, Segments)];
            random.Shuffle<int>(order);
            foreach (int s in order.Take(Positives))
            {
                y[(n * Segments) + s] = 1;
            }

            for (int s = 0; s < Segments; s++)
            {
                for (int f = 0; f < Features; f++)
                {
                    double shift = y[(n * Segments) + s] == 1 && f < 2 ? 1.5 : 0;
                    x[(((n * Segments) + s) * Features) + f] = (float)(random.NextGaussian() + shift);
                }
            }
        }

        return (x, y);
    }

    internal sealed record Outcome(ClassificationMetrics Metrics, double[] Loss);

    internal static Outcome Train(double[]? weight, ulong seed = 1)
    {
        (float[] x, int[] y) = Make(seed);
        (float[] vx, int[] vy) = Make(seed + 100);
        var model = new Sequential(new SegmentHead(Segments, Mlp.Create(Features, [8], 2, new XentRandom(seed + 7))));
        model.NameParameters();
        var optimizer = new Adam(model.Parameters, new AdamOptions { LearningRate = 0.01 });
        var options = new CrossEntropyOptions { Weight = weight };
        var gradient = new float[Sequences * 2 * Segments];
        var curve = new double[Steps];
        for (int step = 0; step < Steps; step++)
        {
            model.ZeroGradients();
            ReadOnlySpan<float> logits = model.Forward(x, Sequences, training: true);
            curve[step] = CrossEntropy.Compute(new ReadOnlyTensorSpan<float>(logits, [Sequences, 2, Segments]), new ReadOnlyTensorSpan<int>(y, [Sequences, Segments]), options, gradient: gradient).Value;
            model.Backward(gradient);
            optimizer.Step();
        }

        ReadOnlySpan<float> v = model.Forward(vx, Sequences, training: false);
        var predicted = new int[vy.Length];
        for (int n = 0; n < Sequences; n++)
        {
            for (int s = 0; s < Segments; s++)
            {
                predicted[(n * Segments) + s] = v[(((n * 2) + 1) * Segments) + s] > v[(n * 2 * Segments) + s] ? 1 : 0;
            }
        }

        return new Outcome(ClassificationMetrics.Compute(vy, predicted, 2), curve);
    }

    public static void Run(DemoContext context)
    {
        double[] weight = [1.0, 137.0 / 3];
        context.Say($"16 sequences are cut into 140 segments of {Features} features. A per-position head (the same small MLP on every segment) gives logits shaped (N=16, C=2, S=140), the K-dimensional layout of CrossEntropy. " +
            $"Each sequence has 3 positive segments among 140 (3:137). One model trains without weights, one with w = [1, 137/3 ≈ {weight[1]:F2}] (Adam, full batch, {Steps} steps).");

        // The weighted mean, term by term, for one batch at initialisation.
        (float[] x, int[] y) = Make(1);
        var model = new Sequential(new SegmentHead(Segments, Mlp.Create(Features, [8], 2, new XentRandom(8))));
        ReadOnlySpan<float> logits = model.Forward(x, Sequences, training: false);
        var losses = new float[y.Length];
        LossResult weighted = CrossEntropy.Compute(new ReadOnlyTensorSpan<float>(logits, [Sequences, 2, Segments]), new ReadOnlyTensorSpan<int>(y, [Sequences, Segments]), new CrossEntropyOptions { Weight = weight, Reduction = Reduction.None }, losses);
        LossResult plain = CrossEntropy.Compute(new ReadOnlyTensorSpan<float>(logits, [Sequences, 2, Segments]), new ReadOnlyTensorSpan<int>(y, [Sequences, Segments]));
        var rows = new List<string[]>();
        for (int c = 0; c < 2; c++)
        {
            int count = y.Count(t => t == c);
            double sum = Enumerable.Range(0, y.Length).Where(i => y[i] == c).Sum(i => (double)losses[i]);
            // The kernel holds the weights in float, as PyTorch does (137/3 is 45.666668), so Σ w[y] is computed from those.
            double w = (float)weight[c];
            rows.Add([c == 1 ? "positive" : "negative", count.ToString(CultureInfo.InvariantCulture), DemoContext.F(w), DemoContext.F(count * w), DemoContext.F(sum)]);
        }

        rows.Add(["total", y.Length.ToString(CultureInfo.InvariantCulture), string.Empty, DemoContext.F(weighted.TotalWeight), DemoContext.F(weighted.WeightedSum)]);
        context.Table("One batch, reduction 'mean' with weights: Σ w[y]·ℓ ÷ Σ w[y]", ["class", "positions", "w[y]", "Σ w[y] (denominator)", "Σ w[y]·ℓ (numerator)"], rows);
        context.Say($"Weighted mean = {DemoContext.F(weighted.WeightedSum)} / {DemoContext.F(weighted.TotalWeight)} = {DemoContext.F(weighted.WeightedSum / weighted.TotalWeight)}. " +
            $"It divides by Σ w[y], not by the {y.Length} positions. The unweighted mean of the same batch is {DemoContext.F(plain.Value)}. Check it with `xent explain`, or read LossResult.WeightedSum and TotalWeight. " +
            $"(The weights are held in float, as PyTorch holds them: 137/3 is {(float)weight[1]:R}, so {y.Count(t => t == 1)} positive positions weigh {DemoContext.F(y.Count(t => t == 1) * (double)(float)weight[1])}, not exactly {y.Count(t => t == 1) * 137 / 3}.)");

        Outcome none = Train(null), balanced = Train(weight);
        context.Table("Per-class recall on 16 fresh sequences (2240 positions, 48 positive)", ["weights", "negative recall", "positive recall", "balanced accuracy", "accuracy"],
        [
            ["none", DemoContext.F(none.Metrics.PerClass[0].Recall), DemoContext.F(none.Metrics.PerClass[1].Recall), DemoContext.F(none.Metrics.BalancedAccuracy), DemoContext.F(none.Metrics.Accuracy)],
            ["[1, 137/3]", DemoContext.F(balanced.Metrics.PerClass[0].Recall), DemoContext.F(balanced.Metrics.PerClass[1].Recall), DemoContext.F(balanced.Metrics.BalancedAccuracy), DemoContext.F(balanced.Metrics.Accuracy)],
        ]);
        context.Say($"Without weights the rare positives barely move the mean; positive recall is {DemoContext.F(none.Metrics.PerClass[1].Recall)} although accuracy looks high ({DemoContext.F(none.Metrics.Accuracy)}). " +
            $"The weights trade negative recall ({DemoContext.F(none.Metrics.PerClass[0].Recall)} → {DemoContext.F(balanced.Metrics.PerClass[0].Recall)}) for positive recall ({DemoContext.F(none.Metrics.PerClass[1].Recall)} → {DemoContext.F(balanced.Metrics.PerClass[1].Recall)}).");
        double[] steps = [.. Enumerable.Range(1, Steps).Select(i => (double)i)];
        context.Chart("kdim-weights-loss", new LineChart("K-dim: training loss (each run's own weighted mean)", "step", "loss")
            .Add(new Series("no weights", steps, none.Loss)).Add(new Series("w = [1, 137/3]", steps, balanced.Loss)));
        context.Chart("kdim-weights-recall", TrainingCharts.Recall([("no weights", none.Metrics), ("w = [1, 137/3]", balanced.Metrics)], ["negative", "positive"]));
    }
}
