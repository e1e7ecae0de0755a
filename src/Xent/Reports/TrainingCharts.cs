using System.Globalization;
using Xent.Metrics;
using Xent.Training;

namespace Xent.Reports;

/// <summary>
/// The standard charts of training runs: curves per mini-batch and per epoch, confusion matrix, per-class recall,
/// reliability, and ROC and precision-recall curves. Every method that takes several runs colours run <c>i</c> (its
/// position in the list) with <see cref="RunPalette.Color"/>(i), training solid and validation dashed, so a report
/// that passes the same runs in the same order to each chart shows each run in one colour throughout.
/// </summary>
public static class TrainingCharts
{
    /// <summary>
    /// The smoothing factor α of a per-step curve of <paramref name="points"/> points: 0.1 up to 2000 points, then
    /// 200 / points, so the moving average spans about 1% of the run and stays smooth at chart resolution however long
    /// the run (α = 0.1 over a million steps would average only the last ten or so and draw as noise).
    /// </summary>
    /// <param name="points">The number of points.</param>
    /// <returns>α in (0, 0.1].</returns>
    public static double SmoothingFor(int points) => points <= 2000 ? 0.1 : 200.0 / points;

    /// <summary>Training loss per mini-batch (smoothed, raw faint), and validation loss (dashed) where it was evaluated, for several runs.</summary>
    /// <param name="runs">Run name and history.</param>
    /// <param name="floor">An optional loss floor to draw (for example the entropy of conflicting labels).</param>
    /// <returns>The chart.</returns>
    public static LineChart Loss(IReadOnlyList<(string Name, TrainingHistory History)> runs, double? floor = null)
    {
        var chart = new LineChart("Loss per mini-batch", "step", "loss") { Note = StepNote(runs) };
        for (int r = 0; r < runs.Count; r++)
        {
            (string name, TrainingHistory h) = runs[r];
            string color = RunPalette.Color(r);
            chart.Add(new Series($"{name} train", [.. h.Batches.Select(b => (double)b.GlobalStep)], [.. h.Batches.Select(b => b.Loss)]) { Smoothing = SmoothingFor(h.Batches.Count), Color = color });
            AddValidation(chart, name, h, b => b.ValidationLoss, e => e.ValidationLoss, color);
        }

        if (floor is double f)
        {
            chart.ReferenceLines.Add((f, string.Create(CultureInfo.InvariantCulture, $"floor {f:F4}")));
        }

        return chart;
    }

    /// <summary>Training accuracy per mini-batch (smoothed, raw faint) and validation accuracy (dashed), for several runs.</summary>
    /// <param name="runs">Run name and history.</param>
    /// <returns>The chart.</returns>
    public static LineChart Accuracy(IReadOnlyList<(string Name, TrainingHistory History)> runs)
    {
        var chart = new LineChart("Accuracy per mini-batch", "step", "accuracy") { YRange = (0, 1), Note = StepNote(runs) };
        for (int r = 0; r < runs.Count; r++)
        {
            (string name, TrainingHistory h) = runs[r];
            string color = RunPalette.Color(r);
            chart.Add(new Series($"{name} train", [.. h.Batches.Select(b => (double)b.GlobalStep)], [.. h.Batches.Select(b => b.Accuracy)]) { Smoothing = SmoothingFor(h.Batches.Count), Color = color });
            AddValidation(chart, name, h, b => b.ValidationAccuracy, e => e.ValidationAccuracy, color);
        }

        return chart;
    }

    /// <summary>Training loss (solid) and validation loss (dashed) per epoch, for several runs.</summary>
    /// <param name="runs">Run name and history.</param>
    /// <returns>The chart.</returns>
    public static LineChart EpochLoss(IReadOnlyList<(string Name, TrainingHistory History)> runs)
    {
        var chart = new LineChart("Loss per epoch", "epoch", "loss")
        {
            Note = "Training: the mean training objective over the epoch's rows (with any label smoothing or class weights); validation (dashed): the cross-entropy of the validation split after the epoch.",
        };
        AddEpochs(chart, runs, e => e.Loss, e => e.ValidationLoss);
        return chart;
    }

    /// <summary>Training accuracy (solid) and validation accuracy (dashed) per epoch, for several runs.</summary>
    /// <param name="runs">Run name and history.</param>
    /// <returns>The chart.</returns>
    public static LineChart EpochAccuracy(IReadOnlyList<(string Name, TrainingHistory History)> runs)
    {
        var chart = new LineChart("Accuracy per epoch", "epoch", "accuracy")
        {
            YRange = (0, 1),
            Note = "Training: accuracy over the epoch's batches as trained (in training mode); validation (dashed): accuracy on the validation split after the epoch.",
        };
        AddEpochs(chart, runs, e => e.Accuracy, e => e.ValidationAccuracy);
        return chart;
    }

    private static void AddEpochs(LineChart chart, IReadOnlyList<(string Name, TrainingHistory History)> runs, Func<EpochRecord, double> train, Func<EpochRecord, double> validation)
    {
        for (int r = 0; r < runs.Count; r++)
        {
            (string name, TrainingHistory h) = runs[r];
            string color = RunPalette.Color(r);
            double[] x = [.. h.Epochs.Select(e => (double)(e.Epoch + 1))];
            bool markers = h.Epochs.Count <= 60;
            chart.Add(new Series($"{name} train", x, [.. h.Epochs.Select(train)]) { Color = color, Markers = markers });
            if (h.Epochs.Any(e => !double.IsNaN(validation(e))))
            {
                chart.Add(new Series($"{name} validation", x, [.. h.Epochs.Select(validation)]) { Color = color, Dashed = true, Markers = markers });
            }
        }
    }

    private static string StepNote(IReadOnlyList<(string Name, TrainingHistory History)> runs)
    {
        double[] alphas = [.. runs.Select(r => SmoothingFor(r.History.Batches.Count)).Distinct()];
        string alpha = alphas.Length == 1 ? SvgText.Label(alphas[0]) : "from " + SvgText.Label(alphas.Min()) + " to " + SvgText.Label(alphas.Max());
        string note = $"Training: exponential moving average (α = {alpha}), raw values faint; validation: dashed.";
        return runs.Any(r => r.History.IsDownsampled)
            ? note + string.Create(CultureInfo.InvariantCulture, $" Beyond {TrainingHistory.BatchCapacity} steps the history in memory keeps each bucket of steps' extremes only; history.csv has every step.")
            : note;
    }

    private static void AddValidation(LineChart chart, string name, TrainingHistory h, Func<BatchRecord, double> batchValue, Func<EpochRecord, double> epochValue, string color)
    {
        var perStep = h.Batches.Where(b => !double.IsNaN(batchValue(b))).ToList();
        if (perStep.Count > 0)
        {
            chart.Add(new Series($"{name} validation", [.. perStep.Select(b => (double)b.GlobalStep)], [.. perStep.Select(batchValue)]) { Dashed = true, Color = color });
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
            chart.Add(new Series($"{name} validation", x, [.. epochs.Select(epochValue)]) { Dashed = true, Color = color });
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

    /// <summary>
    /// The confusion matrix as a heatmap (C×C cells: see <see cref="ConfusionChart"/> for many classes), row-normalised:
    /// each cell's colour is its share of the true class's rows (each row sums to 1, so classes of any size read alike),
    /// and its label is the count. A class without rows has an empty row. The CSV lists every cell's share and count.
    /// </summary>
    /// <param name="metrics">The metrics.</param>
    /// <param name="classes">Class names.</param>
    /// <param name="title">The title.</param>
    /// <returns>The chart.</returns>
    public static Heatmap Confusion(ClassificationMetrics metrics, IReadOnlyList<string> classes, string title = "Confusion matrix (row-normalised)")
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(classes);
        int c = classes.Count;
        var shares = new double[c, c];
        var counts = new double[c, c];
        for (int t = 0; t < c; t++)
        {
            long support = metrics.Confusion.Support(t);
            for (int p = 0; p < c; p++)
            {
                long n = metrics.Confusion.Counts[t, p];
                counts[t, p] = n;
                shares[t, p] = support == 0 ? double.NaN : (double)n / support;
            }
        }

        return new Heatmap(title, classes, classes, shares)
        {
            CellLabels = counts,
            ColorRange = (0, 1),
            ValueName = "share of row",
            LabelName = "count",
            Note = "Colour: the share of each true class's rows predicted as each class (every row sums to 1); numbers: the counts.",
        };
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
        for (int r = 0; r < runs.Count; r++)
        {
            chart.Add(runs[r].Name, [.. runs[r].Metrics.PerClass.Select(s => s.Recall)], RunPalette.Color(r));
        }

        return chart;
    }

    /// <summary>Per-class recall of several runs, each the mean over its repeats; otherwise as <see cref="Recall"/>.</summary>
    /// <param name="runs">Run name and the metrics of each repeat.</param>
    /// <param name="classes">Class names.</param>
    /// <returns>The chart.</returns>
    public static BarChart MeanRecall(IReadOnlyList<(string Name, IReadOnlyList<ClassificationMetrics> Repeats)> runs, IReadOnlyList<string> classes)
    {
        var chart = new BarChart("Per-class recall (mean over repeats)", classes, "recall") { YRange = (0, 1), CategoryNoun = "classes" };
        for (int r = 0; r < runs.Count; r++)
        {
            IReadOnlyList<ClassificationMetrics> repeats = runs[r].Repeats;
            chart.Add(runs[r].Name, [.. classes.Select((_, c) => repeats.Average(m => m.PerClass[c].Recall))], RunPalette.Color(r));
        }

        return chart;
    }

    /// <summary>
    /// A reliability diagram: accuracy against confidence per bin with the diagonal of perfect calibration, and the
    /// number of predictions in each bin under it (see <see cref="ReliabilityChart"/>). The title names the bin count.
    /// </summary>
    /// <param name="runs">Run name and bins.</param>
    /// <returns>The chart.</returns>
    public static ReliabilityChart Reliability(IReadOnlyList<(string Name, ReliabilityBin[] Bins)> runs)
    {
        int[] bins = [.. runs.Select(r => r.Bins.Length).Distinct()];
        string title = bins.Length == 1 ? string.Create(CultureInfo.InvariantCulture, $"Reliability diagram ({bins[0]} bins)") : "Reliability diagram";
        var chart = new ReliabilityChart(title);
        for (int r = 0; r < runs.Count; r++)
        {
            chart.Add(runs[r].Name, runs[r].Bins, RunPalette.Color(r));
        }

        return chart;
    }

    /// <summary>
    /// ROC curves of several runs with the chance diagonal: binary tasks the curve of the second class, multi-class tasks
    /// the macro average of the one-vs-rest curves (<see cref="RankingMetrics.Roc"/>). The legend gives each run's ROC AUC.
    /// </summary>
    /// <param name="runs">Run name and ranking metrics.</param>
    /// <param name="classes">Class names (the positive class of a binary task is named in the title).</param>
    /// <returns>The chart.</returns>
    public static LineChart Roc(IReadOnlyList<(string Name, RankingMetrics Ranking)> runs, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(classes);
        bool binary = classes.Count == 2;
        var chart = new LineChart(binary ? $"ROC curve (positive class: {classes[1]})" : "ROC curve (macro average, one-vs-rest)", "false positive rate", "true positive rate")
        {
            XRange = (0, 1),
            YRange = (0, 1),
            Note = binary
                ? "Every threshold on the positive class's probability; AUC as scikit-learn's roc_auc_score."
                : string.Create(CultureInfo.InvariantCulture, $"Each class against the rest, scored by its own probability; the curve is the mean true positive rate of the classes at each false positive rate (a grid of {RankingMetrics.MacroGridPoints}), the AUC the mean of the classes' AUCs (roc_auc_score, multi_class=\"ovr\", average=\"macro\")."),
        };
        chart.ReferenceSegments.Add((0, 0, 1, 1, "chance"));
        for (int r = 0; r < runs.Count; r++)
        {
            (string name, RankingMetrics m) = runs[r];
            if (m.Roc.X.Length > 0)
            {
                chart.Add(new Series(name, m.Roc.X, m.Roc.Y) { Color = RunPalette.Color(r), Legend = string.Create(CultureInfo.InvariantCulture, $"{name} (AUC {m.RocAuc:F4})") });
            }
        }

        return chart;
    }

    /// <summary>
    /// Precision-recall curves of several runs with the chance level (the share of positives): binary tasks the step
    /// curve of the second class, multi-class tasks the macro average of the one-vs-rest curves
    /// (<see cref="RankingMetrics.PrecisionRecall"/>). The legend gives each run's average precision.
    /// </summary>
    /// <param name="runs">Run name and ranking metrics.</param>
    /// <param name="classes">Class names (the positive class of a binary task is named in the title).</param>
    /// <returns>The chart.</returns>
    public static LineChart PrecisionRecall(IReadOnlyList<(string Name, RankingMetrics Ranking)> runs, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(classes);
        bool binary = classes.Count == 2;
        var chart = new LineChart(binary ? $"Precision-recall curve (positive class: {classes[1]})" : "Precision-recall curve (macro average, one-vs-rest)", "recall", "precision")
        {
            XRange = (0, 1),
            YRange = (0, 1),
            Note = binary
                ? "Precision at every threshold on the positive class's probability, as steps whose area is the average precision (AP, as scikit-learn's average_precision_score)."
                : string.Create(CultureInfo.InvariantCulture, $"Each class against the rest; the curve is the mean of the classes' step precision at each recall (a grid of {RankingMetrics.MacroGridPoints}), the AP the mean of the classes' average precisions (macro)."),
        };
        double chance = runs.Select(r => r.Ranking.ChanceAveragePrecision).FirstOrDefault(double.IsFinite, double.NaN);
        if (double.IsFinite(chance))
        {
            chart.ReferenceLines.Add((chance, string.Create(CultureInfo.InvariantCulture, $"chance ({chance:F3})")));
        }

        for (int r = 0; r < runs.Count; r++)
        {
            (string name, RankingMetrics m) = runs[r];
            if (m.PrecisionRecall.X.Length > 0)
            {
                chart.Add(new Series(name, m.PrecisionRecall.X, m.PrecisionRecall.Y) { Color = RunPalette.Color(r), Legend = string.Create(CultureInfo.InvariantCulture, $"{name} (AP {m.AveragePrecision:F4})") });
            }
        }

        return chart;
    }
}
