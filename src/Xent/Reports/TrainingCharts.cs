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

        // Per epoch: place each point at the epoch's last step (one pass over the batches, however many epochs).
        var epochs = h.Epochs.Where(e => !double.IsNaN(epochValue(e))).ToList();
        if (epochs.Count > 0)
        {
            var lastStep = new Dictionary<int, long>();
            foreach (BatchRecord b in h.Batches)
            {
                lastStep[b.Epoch] = Math.Max(b.GlobalStep, lastStep.GetValueOrDefault(b.Epoch));
            }

            double[] x = [.. epochs.Select(e => (double)lastStep.GetValueOrDefault(e.Epoch))];
            chart.Add(new Series($"{name} validation", x, [.. epochs.Select(epochValue)]) { Dashed = true });
        }
    }

    /// <summary>The most classes whose confusion matrix <see cref="ConfusionChart"/> draws as a grid: 30.</summary>
    public const int MaxGridClasses = 30;

    /// <summary>
    /// The confusion chart of a report: the full matrix as a heatmap up to <see cref="MaxGridClasses"/> classes, and
    /// above that the largest confusions (<see cref="TopConfusions"/>), since a C×C grid grows with the square of C.
    /// </summary>
    /// <param name="metrics">The metrics.</param>
    /// <param name="classes">Class names.</param>
    /// <returns>The chart.</returns>
    public static IChart ConfusionChart(ClassificationMetrics metrics, IReadOnlyList<string> classes) =>
        classes.Count <= MaxGridClasses ? Confusion(metrics, classes) : TopConfusions(metrics, classes, MaxGridClasses);

    /// <summary>
    /// The largest confusions: the <paramref name="count"/> off-diagonal (true, predicted) pairs with the most rows, as
    /// bars labelled "true → predicted", most frequent first (ties in class order).
    /// </summary>
    /// <param name="metrics">The metrics.</param>
    /// <param name="classes">Class names.</param>
    /// <param name="count">How many pairs, at least 1. Default: 30.</param>
    /// <returns>The chart; its CSV holds the pairs drawn.</returns>
    public static BarChart TopConfusions(ClassificationMetrics metrics, IReadOnlyList<string> classes, int count = MaxGridClasses)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        long[,] counts = metrics.Confusion.Counts;
        int c = classes.Count;
        if (counts.GetLength(0) != c)
        {
            throw new ArgumentException($"{c} class names for a {counts.GetLength(0)}-class confusion matrix.", nameof(classes));
        }

        // A bounded selection: keep the best `count` pairs seen so far, without sorting all C² of them.
        var best = new PriorityQueue<(int True, int Predicted, long Rows), (long Rows, int True, int Predicted)>(Comparer<(long Rows, int True, int Predicted)>.Create(
            (a, b) => a.Rows != b.Rows ? a.Rows.CompareTo(b.Rows) : b.True != a.True ? b.True.CompareTo(a.True) : b.Predicted.CompareTo(a.Predicted)));
        long pairs = 0;
        for (int t = 0; t < c; t++)
        {
            for (int p = 0; p < c; p++)
            {
                long rows = counts[t, p];
                if (t == p || rows == 0)
                {
                    continue;
                }

                pairs++;
                best.Enqueue((t, p, rows), (rows, t, p));
                if (best.Count > count)
                {
                    best.Dequeue();
                }
            }
        }

        var top = new List<(int True, int Predicted, long Rows)>();
        while (best.Count > 0)
        {
            top.Add(best.Dequeue());
        }

        top.Reverse();
        string note = pairs == 0
            ? "No row was misclassified."
            : string.Create(CultureInfo.InvariantCulture, $"The {top.Count} largest of {pairs} off-diagonal (true → predicted) pairs; {c} classes are too many for a {c}×{c} grid (drawn up to {MaxGridClasses} classes).");
        var chart = new BarChart("Largest confusions (true → predicted)", [.. top.Select(x => $"{classes[x.True]} → {classes[x.Predicted]}")], "rows")
        {
            MaxCategories = Math.Max(2, top.Count),
            Note = note,
        };
        return chart.Add("rows", [.. top.Select(x => (double)x.Rows)]);
    }

    /// <summary>The confusion matrix as a heatmap (C×C cells: see <see cref="ConfusionChart"/> for many classes).</summary>
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

    /// <summary>
    /// Per-class recall (each class's accuracy) of several runs, side by side; above <see cref="BarChart.MaxCategories"/>
    /// classes, the lowest and highest by mean recall (the caption says so).
    /// </summary>
    /// <param name="runs">Run name and metrics.</param>
    /// <param name="classes">Class names.</param>
    /// <returns>The chart.</returns>
    public static BarChart Recall(IReadOnlyList<(string Name, ClassificationMetrics Metrics)> runs, IReadOnlyList<string> classes)
    {
        var chart = new BarChart("Per-class recall (accuracy within each class)", classes, "recall") { YRange = (0, 1), CategoryNoun = "classes" };
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
