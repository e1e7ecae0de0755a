using System.Globalization;
using Xent.Metrics;
using Xent.Training;

namespace Xent.Reports;

/// <summary>The standard charts of a training run: curves, confusion matrix, per-class recall and reliability.</summary>
public static class TrainingCharts
{
    /// <summary>Training loss per mini-batch (smoothed, raw faint), and validation loss where it was evaluated, for several runs.</summary>
    /// <param name="runs">Run name and history.</param>
    /// <param name="floor">An optional loss floor to draw (for example the entropy of conflicting labels).</param>
    /// <returns>The chart.</returns>
    public static LineChart Loss(IReadOnlyList<(string Name, TrainingHistory History)> runs, double? floor = null)
    {
        var chart = new LineChart("Loss per mini-batch", "step", "loss");
        foreach ((string name, TrainingHistory h) in runs)
        {
            chart.Add(new Series($"{name} train", [.. h.Batches.Select(b => (double)b.GlobalStep)], [.. h.Batches.Select(b => b.Loss)]) { Smoothing = 0.1 });
            AddValidation(chart, name, h, b => b.ValidationLoss, e => e.ValidationLoss);
        }

        if (floor is double f)
        {
            chart.ReferenceLines.Add((f, string.Create(CultureInfo.InvariantCulture, $"floor {f:F4}")));
        }

        return chart;
    }

    /// <summary>Training accuracy per mini-batch (smoothed) and validation accuracy, for several runs.</summary>
    /// <param name="runs">Run name and history.</param>
    /// <returns>The chart.</returns>
    public static LineChart Accuracy(IReadOnlyList<(string Name, TrainingHistory History)> runs)
    {
        var chart = new LineChart("Accuracy per mini-batch", "step", "accuracy") { YRange = (0, 1) };
        foreach ((string name, TrainingHistory h) in runs)
        {
            chart.Add(new Series($"{name} train", [.. h.Batches.Select(b => (double)b.GlobalStep)], [.. h.Batches.Select(b => b.Accuracy)]) { Smoothing = 0.1 });
            AddValidation(chart, name, h, b => b.ValidationAccuracy, e => e.ValidationAccuracy);
        }

        return chart;
    }

    private static void AddValidation(LineChart chart, string name, TrainingHistory h, Func<BatchRecord, double> batchValue, Func<EpochRecord, double> epochValue)
    {
        var perStep = h.Batches.Where(b => !double.IsNaN(batchValue(b))).ToList();
        if (perStep.Count > 0)
        {
            chart.Add(new Series($"{name} validation", [.. perStep.Select(b => (double)b.GlobalStep)], [.. perStep.Select(batchValue)]) { Dashed = true });
            return;
        }

        // Per epoch: place each point at the epoch's last step.
        var epochs = h.Epochs.Where(e => !double.IsNaN(epochValue(e))).ToList();
        if (epochs.Count > 0)
        {
            double[] x = [.. epochs.Select(e => (double)h.Batches.Where(b => b.Epoch == e.Epoch).Select(b => b.GlobalStep).DefaultIfEmpty(0).Max())];
            chart.Add(new Series($"{name} validation", x, [.. epochs.Select(epochValue)]) { Dashed = true });
        }
    }

    /// <summary>The confusion matrix as a heatmap.</summary>
    /// <param name="metrics">The metrics.</param>
    /// <param name="classes">Class names.</param>
    /// <param name="title">The title.</param>
    /// <returns>The chart.</returns>
    public static Heatmap Confusion(ClassificationMetrics metrics, IReadOnlyList<string> classes, string title = "Confusion matrix")
    {
        int c = classes.Count;
        var values = new double[c, c];
        for (int t = 0; t < c; t++)
        {
            for (int p = 0; p < c; p++)
            {
                values[t, p] = metrics.Confusion.Counts[t, p];
            }
        }

        return new Heatmap(title, classes, classes, values);
    }

    /// <summary>Per-class recall (each class's accuracy) of several runs, side by side.</summary>
    /// <param name="runs">Run name and metrics.</param>
    /// <param name="classes">Class names.</param>
    /// <returns>The chart.</returns>
    public static BarChart Recall(IReadOnlyList<(string Name, ClassificationMetrics Metrics)> runs, IReadOnlyList<string> classes)
    {
        var chart = new BarChart("Per-class recall (accuracy within each class)", classes, "recall") { YRange = (0, 1) };
        foreach ((string name, ClassificationMetrics m) in runs)
        {
            chart.Add(name, [.. m.PerClass.Select(s => s.Recall)]);
        }

        return chart;
    }

    /// <summary>A reliability diagram: accuracy against confidence per bin, with the diagonal of perfect calibration.</summary>
    /// <param name="runs">Run name and bins.</param>
    /// <returns>The chart.</returns>
    public static LineChart Reliability(IReadOnlyList<(string Name, ReliabilityBin[] Bins)> runs)
    {
        var chart = new LineChart("Reliability diagram", "confidence (top probability)", "accuracy") { YRange = (0, 1) };
        chart.Add(new Series("perfect calibration", [0.0, 1.0], [0.0, 1.0]) { Dashed = true });
        foreach ((string name, ReliabilityBin[] bins) in runs)
        {
            var filled = bins.Where(b => b.Count > 0).ToList();
            chart.Add(new Series(name, [.. filled.Select(b => b.Confidence)], [.. filled.Select(b => b.Accuracy)]));
        }

        return chart;
    }
}
