using System.Globalization;
using System.Numerics.Tensors;
using Xent.Kernels;
using Xent.Losses;
using Xent.Metrics;
using Xent.Nn;
using Xent.Optim;
using Xent.Reports;

namespace Xent.Cli.Demos;

/// <summary>
/// Issue 12 §4 "Sequences": a Conv1d model over 16 long sequences (2 channels × 2800 samples, 140 segments of 20) gives
/// per-segment logits (16, 2, 140); 3 segments of 140 are positive, and the run with class weights [1, 137/3] is
/// compared with the one without. The weighted mean Σ w[y]·ℓ ÷ Σ w[y] is checked by hand. docs/images.md shows the same
/// code.
/// </summary>
internal static class SequenceConvDemo
{
    public const string Name = "kdim-conv1d";
    public const string Summary = "a Conv1d over 16 sequences of 2800 samples gives per-segment logits (16, 2, 140) at 3:137, with and without class weights";

    /// <summary>The model: a sample-level filter, one step per segment (kernel and stride 20), context over neighbouring segments, 2 logits per segment.</summary>
    public const string Description = "conv1d(8,5,padding=2),relu,conv1d(16,20,stride=20),relu,conv1d(16,3,padding=1),relu,conv1d(2,1)";

    /// <summary>Samples per segment.</summary>
    public const int SegmentLength = 20;

    /// <summary>Input channels.</summary>
    public const int Channels = 2;

    /// <summary>The class weights: 137 negatives for 3 positives.</summary>
    public static readonly double[] Weights = [1.0, 137.0 / 3];

    private const int Sequences = 16, Segments = 140, Positives = 3, Steps = 40;

    /// <summary>
    /// Synthetic sequences: <paramref name="sequences"/> samples of <see cref="Channels"/> × (segments · 20) values, (N, C, L)
    /// row-major, Gaussian noise N(0, 1); in each sequence <paramref name="positives"/> segments, chosen at random, are
    /// positive and carry a burst: a sine of period 5 and amplitude 1 in channel 0 and an offset of +0.5 in channel 1.
    /// </summary>
    /// <returns>The values and the (N, segments) labels, 1 for a positive segment.</returns>
    internal static (float[] X, int[] Y) Make(int sequences, int segments, int positives, ulong seed)
    {
        var random = new XentRandom(seed);
        int length = segments * SegmentLength;
        var x = new float[sequences * Channels * length];
        var y = new int[sequences * segments];
        for (int n = 0; n < sequences; n++)
        {
            int[] order = [.. Enumerable.Range(0, segments)];
            random.Shuffle<int>(order);
            foreach (int s in order.Take(positives))
            {
                y[(n * segments) + s] = 1;
            }

            for (int c = 0; c < Channels; c++)
            {
                for (int t = 0; t < length; t++)
                {
                    double burst = y[(n * segments) + (t / SegmentLength)] == 0 ? 0 : c == 0 ? Math.Sin(2 * Math.PI * t / 5) : 0.5;
                    x[(((n * Channels) + c) * length) + t] = (float)(random.NextGaussian() + burst);
                }
            }
        }

        return (x, y);
    }

    /// <summary>A trained run: the model, the loss of its first and last steps (with the per-position losses w[y]·ℓ) and the loss curve.</summary>
    internal sealed record Outcome(Sequential Model, LossResult First, float[] FirstLosses, LossResult Last, float[] Losses, double[] Curve);

    /// <summary>Trains the model of <see cref="Description"/> on (x, y), full batch, Adam (lr 0.003); the code docs/images.md shows.</summary>
    internal static Outcome Train(float[] x, int[] y, int n, int segments, double[]? weights, int steps, ulong seed = 7)
    {
        var curve = new double[steps];
        LayerSpec spec = ModelDescription.BuildPerPosition(ModelDescription.Parse(Description), [Channels, segments * SegmentLength], classes: 2);
        var model = (Sequential)spec.Build(new XentRandom(seed));
        var adam = new Adam(model.Parameters, new AdamOptions { LearningRate = 0.003 });
        var options = new CrossEntropyOptions { Weight = weights };
        var gradient = new float[n * 2 * segments];
        var losses = new float[n * segments];
        LossResult loss = default, first = default;
        var firstLosses = new float[n * segments];
        for (int step = 0; step < steps; step++)
        {
            model.ZeroGradients();
            ReadOnlySpan<float> logits = model.Forward(x, n, training: true);
            loss = CrossEntropy.Compute(new ReadOnlyTensorSpan<float>(logits, [n, 2, segments]), new ReadOnlyTensorSpan<int>(y, [n, segments]), options, losses, gradient);
            model.Backward(gradient);
            adam.Step();
            curve[step] = loss.Value;
            if (step == 0)
            {
                first = loss;
                losses.CopyTo(firstLosses, 0);
            }
        }

        return new Outcome(model, first, firstLosses, loss, losses, curve);
    }

    /// <summary>Per-segment predictions (the larger of the two logits) of a model on (x), n sequences.</summary>
    internal static int[] Predict(Sequential model, float[] x, int n, int segments)
    {
        ReadOnlySpan<float> v = model.Forward(x, n, training: false);
        var predicted = new int[n * segments];
        for (int i = 0; i < n; i++)
        {
            for (int s = 0; s < segments; s++)
            {
                predicted[(i * segments) + s] = v[(((i * 2) + 1) * segments) + s] > v[(i * 2 * segments) + s] ? 1 : 0;
            }
        }

        return predicted;
    }

    public static void Run(DemoContext context)
    {
        context.Say($"16 sequences of {Channels} channels × {Segments * SegmentLength} samples, cut into {Segments} segments of {SegmentLength}; 3 segments of 140 in each are positive (3:137) and carry a burst (a sine in channel 0, an offset in channel 1) in Gaussian noise. " +
            $"The model `{Description}` filters the samples, steps once per segment (kernel and stride {SegmentLength}), looks at the neighbouring segments and gives 2 logits per segment: (N=16, C=2, S=140), the K-dimensional layout of CrossEntropy. " +
            $"Unlike a per-segment MLP, the convolution shares its filters along the sequence and sees the context. One run trains without weights, one with w = [1, 137/3 ≈ {Weights[1]:F2}] (Adam, lr 0.003, full batch, {Steps} steps, the same initialisation).");
        (float[] x, int[] y) = Make(Sequences, Segments, Positives, 1);
        (float[] vx, int[] vy) = Make(Sequences, Segments, Positives, 101);
        Outcome none = Train(x, y, Sequences, Segments, null, Steps), weighted = Train(x, y, Sequences, Segments, Weights, Steps);

        // The weighted mean of the first step (at initialisation), term by term: losses[i] is w[y]·ℓ (reduction 'none' in PyTorch).
        var rows = new List<string[]>();
        for (int c = 0; c < 2; c++)
        {
            int count = y.Count(t => t == c);
            double sum = Enumerable.Range(0, y.Length).Where(i => y[i] == c).Sum(i => (double)weighted.FirstLosses[i]);
            rows.Add([c == 1 ? "positive" : "negative", count.ToString(CultureInfo.InvariantCulture), DemoContext.F(Weights[c]), DemoContext.F(count * Weights[c]), DemoContext.F(sum)]);
        }

        LossResult last = weighted.First;
        rows.Add(["total", y.Length.ToString(CultureInfo.InvariantCulture), string.Empty, DemoContext.F(last.TotalWeight), DemoContext.F(last.WeightedSum)]);
        context.Table("The weighted run's first step (at initialisation), reduction 'mean': Σ w[y]·ℓ ÷ Σ w[y]", ["class", "segments", "w[y]", "Σ w[y] (denominator)", "Σ w[y]·ℓ (numerator)"], rows);
        context.Say($"Weighted mean = {DemoContext.F(last.WeightedSum)} / {DemoContext.F(last.TotalWeight)} = {DemoContext.F(last.WeightedSum / last.TotalWeight)}, the loss reported ({DemoContext.F(last.Value)}): it divides by Σ w[y] = 2192·1 + 48·137/3, not by the 2240 segments.");

        ClassificationMetrics plain = ClassificationMetrics.Compute(vy, Predict(none.Model, vx, Sequences, Segments), 2);
        ClassificationMetrics balanced = ClassificationMetrics.Compute(vy, Predict(weighted.Model, vx, Sequences, Segments), 2);
        context.Table("Per-segment recall on 16 fresh sequences (2240 segments, 48 positive)", ["weights", "negative recall", "positive recall", "balanced accuracy", "accuracy"],
        [
            ["none", DemoContext.F(plain.PerClass[0].Recall), DemoContext.F(plain.PerClass[1].Recall), DemoContext.F(plain.BalancedAccuracy), DemoContext.F(plain.Accuracy)],
            ["[1, 137/3]", DemoContext.F(balanced.PerClass[0].Recall), DemoContext.F(balanced.PerClass[1].Recall), DemoContext.F(balanced.BalancedAccuracy), DemoContext.F(balanced.Accuracy)],
        ]);
        context.Say($"Without weights positive recall is {DemoContext.F(plain.PerClass[1].Recall)}; with them {DemoContext.F(balanced.PerClass[1].Recall)} (negative recall {DemoContext.F(plain.PerClass[0].Recall)} → {DemoContext.F(balanced.PerClass[0].Recall)}).");
        double[] steps = [.. Enumerable.Range(1, Steps).Select(i => (double)i)];
        context.Chart("kdim-conv1d-loss", new LineChart("Conv1d per-segment logits: training loss (each run's own weighted mean)", "step", "loss")
            .Add(new Series("no weights", steps, none.Curve)).Add(new Series("w = [1, 137/3]", steps, weighted.Curve)));
        context.Chart("kdim-conv1d-recall", TrainingCharts.Recall([("no weights", plain), ("w = [1, 137/3]", balanced)], ["negative", "positive"]));
    }
}
