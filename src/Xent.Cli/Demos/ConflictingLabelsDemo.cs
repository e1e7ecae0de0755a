using Xent.Kernels;
using System.Numerics.Tensors;
using Xent.Diagnostics;
using Xent.Losses;
using Xent.Nn;
using Xent.Optim;
using Xent.Reports;
using Xent.Training;

namespace Xent.Cli.Demos;

/// <summary>
/// The same input with different labels: a correct model learns the label frequencies and the loss approaches their
/// entropy; with softmax applied before CrossEntropy (the classic bug) it cannot.
/// </summary>
internal static class ConflictingLabelsDemo
{
    public const string Name = "conflicting-labels";
    public const string Summary = "identical inputs with labels 3:2 and 3:3 on a 100-100-2 MLP, with and without the double-softmax bug";
    public const int Steps = 2000;
    public const double LearningRate = 0.01;

    /// <summary>One run's outcome.</summary>
    internal sealed record Outcome(double P1, double P2, double Loss, double LogLoss, double[] LossCurve, double[] P1Curve, IReadOnlyList<Diagnostic> Diagnostics)
    {
        /// <summary>The log loss of the probabilities the model reports, given the label frequencies.</summary>
        public static double Of(double p1, double p2) => ((5.0 / 11) * -((0.6 * Math.Log(p1)) + (0.4 * Math.Log(1 - p1)))) + ((6.0 / 11) * -((0.5 * Math.Log(p2)) + (0.5 * Math.Log(1 - p2))));
    }

    /// <summary>The entropy floor: (5/11)·H(0.6, 0.4) + (6/11)·H(0.5, 0.5), in nats.</summary>
    public static double Floor => ((5.0 / 11) * Entropy(0.6)) + ((6.0 / 11) * Entropy(0.5));

    private static double Entropy(double p) => -((p * Math.Log(p)) + ((1 - p) * Math.Log(1 - p)));

    /// <summary>Trains one model; <paramref name="doubleSoftmax"/> puts a softmax layer before the loss.</summary>
    public static Outcome Train(ulong seed, bool doubleSoftmax, int steps = Steps)
    {
        var random = new XentRandom(seed);
        float[] x1 = [.. Enumerable.Range(0, 100).Select(_ => (float)random.NextGaussian())];
        float[] x2 = [.. Enumerable.Range(0, 100).Select(_ => (float)random.NextGaussian())];
        var inputs = new float[11 * 100];
        int[] labels = [0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1];
        for (int r = 0; r < 11; r++)
        {
            (r < 5 ? x1 : x2).CopyTo(inputs, r * 100);
        }

        Sequential mlp = Mlp.Create(100, [100], 2, random);
        Sequential model = doubleSoftmax ? new Sequential([.. mlp.Layers, new Softmax(2)]) : mlp;
        model.NameParameters();
        var optimizer = new Sgd(model.Parameters, new SgdOptions { LearningRate = LearningRate });
        var sink = new DiagnosticCollector();
        var options = new CrossEntropyOptions { Diagnostics = sink };
        var gradient = new float[11 * 2];
        var lossCurve = new double[steps];
        var p1Curve = new double[steps];
        for (int step = 0; step < steps; step++)
        {
            model.ZeroGradients();
            ReadOnlySpan<float> output = model.Forward(inputs, 11, training: true);
            p1Curve[step] = Probability(output, 0, doubleSoftmax);
            lossCurve[step] = CrossEntropy.Compute(new ReadOnlyTensorSpan<float>(output, [11, 2]), new ReadOnlyTensorSpan<int>(labels, [11]), options, gradient: gradient).Value;
            model.Backward(gradient);
            optimizer.Step();
        }

        ReadOnlySpan<float> final = model.Forward(inputs, 11, training: false);
        double loss = CrossEntropy.Compute(new ReadOnlyTensorSpan<float>(final, [11, 2]), new ReadOnlyTensorSpan<int>(labels, [11])).Value;
        double p1 = Probability(final, 0, doubleSoftmax), p2 = Probability(final, 5, doubleSoftmax);
        return new Outcome(p1, p2, loss, Outcome.Of(p1, p2), lossCurve, p1Curve, sink.Items);
    }

    /// <summary>P(class 0) for a row: the softmax of the logits, or, with the bug, the model's own softmax output (what its user reads).</summary>
    private static double Probability(ReadOnlySpan<float> output, int row, bool doubleSoftmax)
    {
        float a = output[row * 2], b = output[(row * 2) + 1];
        return doubleSoftmax ? a : 1 / (1 + Math.Exp(b - a));
    }

    public static void Run(DemoContext context)
    {
        context.Say("Input x1 appears 5 times with labels [0,0,0,1,1] and x2 6 times with [0,0,0,1,1,1]. The best a model can do is predict the label frequencies, 0.6 and 0.5 for class 0. The mean loss then equals their entropy, " +
            $"(5/11)·H(0.6) + (6/11)·H(0.5) = {DemoContext.F(Floor)} nats. A 100-100-2 MLP is trained with SGD (lr {LearningRate}, full batch, {Steps} steps) over 5 seeds, correctly and with softmax applied before CrossEntropy.");
        var correct = Enumerable.Range(0, 5).Select(s => Train((ulong)s, doubleSoftmax: false)).ToList();
        var buggy = Enumerable.Range(0, 5).Select(s => Train((ulong)s, doubleSoftmax: true)).ToList();
        context.Table("Learned P(class 0) and losses, mean ± std over 5 seeds", ["model", "P(0 | x1), target 0.6", "P(0 | x2), target 0.5", "training loss", "log loss of its P", "floor"],
        [
            ["CrossEntropy(logits)", DemoContext.MeanStd([.. correct.Select(o => o.P1)]), DemoContext.MeanStd([.. correct.Select(o => o.P2)]), DemoContext.MeanStd([.. correct.Select(o => o.Loss)]), DemoContext.MeanStd([.. correct.Select(o => o.LogLoss)]), DemoContext.F(Floor)],
            ["CrossEntropy(softmax(logits))", DemoContext.MeanStd([.. buggy.Select(o => o.P1)]), DemoContext.MeanStd([.. buggy.Select(o => o.P2)]), DemoContext.MeanStd([.. buggy.Select(o => o.Loss)]), DemoContext.MeanStd([.. buggy.Select(o => o.LogLoss)]), DemoContext.F(Floor)],
        ]);
        int firstAt(Outcome o) => Array.FindIndex(o.P1Curve, p => Math.Abs(p - 0.6) < 0.01) + 1;
        context.Say($"Steps until P(0 | x1) is within 0.01 of 0.6: {firstAt(correct[0])} with the correct loss; the buggy model's reported P passes 0.6 on its way to 0.70. " +
            "Its own training loss reaches the floor, because the loss only sees softmax(q). The probabilities it reports are off, and their log loss stays above the floor.");
        context.Say("With the bug, CrossEntropy sees probabilities as logits: softmax of values in [0, 1] can only express logit differences in [-1, 1]. To make softmax(q) = (0.6, 0.4) the model must push its own output q to about (0.70, 0.30) instead of 0.6. " +
            "It is miscalibrated, and it learns more slowly.");
        IReadOnlyList<Diagnostic> flagged = buggy[0].Diagnostics;
        context.Say(flagged.Count > 0
            ? $"Xent's diagnostics flag the bug: {flagged[0]}"
            : "Xent's diagnostics did not flag the bug in this run.");
        double[] steps = [.. Enumerable.Range(1, Steps).Select(i => (double)i)];
        var loss = new LineChart("Conflicting labels: training loss", "step", "mean cross-entropy");
        loss.Add(new Series("CrossEntropy(logits)", steps, correct[0].LossCurve));
        loss.Add(new Series("CrossEntropy(softmax(logits))", steps, buggy[0].LossCurve));
        loss.ReferenceLines.Add((Floor, $"entropy floor {DemoContext.F(Floor)}"));
        context.Chart("conflicting-labels-loss", loss);
        var probability = new LineChart("Conflicting labels: learned P(class 0 | x1)", "step", "probability") { YRange = (0.4, 0.8) };
        probability.Add(new Series("CrossEntropy(logits)", steps, correct[0].P1Curve));
        probability.Add(new Series("CrossEntropy(softmax(logits))", steps, buggy[0].P1Curve));
        probability.ReferenceLines.Add((0.6, "label frequency 0.6"));
        context.Chart("conflicting-labels-probability", probability);
    }
}
