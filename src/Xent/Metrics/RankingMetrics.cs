namespace Xent.Metrics;

/// <summary>Points of a curve to draw: x and y, as many of each.</summary>
/// <param name="X">X values.</param>
/// <param name="Y">Y values.</param>
public sealed record CurvePoints(double[] X, double[] Y)
{
    /// <summary>A curve with no points.</summary>
    public static CurvePoints Empty { get; } = new([], []);
}

/// <summary>
/// How well the probabilities rank the rows: ROC AUC and average precision, as scikit-learn defines them, with the
/// curves to draw. A binary task (2 classes) scores the second class (index 1) as the positive one:
/// <c>roc_auc_score(y, P[:, 1])</c> and <c>average_precision_score(y, P[:, 1])</c>. A multi-class task scores each class
/// against the rest by its own column, and averages the classes without weights (macro):
/// <c>roc_auc_score(y, P, multi_class="ovr", average="macro")</c> and <c>average_precision_score</c> of the one-hot
/// labels with <c>average="macro"</c>. The average covers the classes that have both positive and negative rows;
/// scikit-learn refuses data where a class has none, so there the values agree with it wherever it gives one.
/// </summary>
public sealed record RankingMetrics
{
    /// <summary>Points per macro-averaged curve grid: 201 (steps of 0.005).</summary>
    public const int MacroGridPoints = 201;

    /// <summary>C.</summary>
    public int Classes { get; init; }

    /// <summary>Whether the task has two classes (the curves and scores are then of class 1).</summary>
    public bool IsBinary => Classes == 2;

    /// <summary>Binary: ROC AUC of class 1. Multi-class: the mean one-vs-rest ROC AUC (macro). NaN when undefined.</summary>
    public double RocAuc { get; init; } = double.NaN;

    /// <summary>Binary: average precision of class 1. Multi-class: the mean one-vs-rest average precision (macro). NaN when undefined.</summary>
    public double AveragePrecision { get; init; } = double.NaN;

    /// <summary>One-vs-rest ROC AUC of each class (NaN for a class without positive or without negative rows).</summary>
    public required IReadOnlyList<double> PerClassRocAuc { get; init; }

    /// <summary>One-vs-rest average precision of each class (NaN for a class without positive rows).</summary>
    public required IReadOnlyList<double> PerClassAveragePrecision { get; init; }

    /// <summary>
    /// The average precision of uninformative scores, the baseline of the precision-recall curve: the share of positive
    /// rows (binary), or its mean over the averaged classes (multi-class). NaN when undefined.
    /// </summary>
    public double ChanceAveragePrecision { get; init; } = double.NaN;

    /// <summary>How many classes the macro averages cover (those with positive and negative rows); 1 for a binary task that has both.</summary>
    public int AveragedClasses { get; init; }

    /// <summary>
    /// The ROC curve to draw (false positive rate, true positive rate). Binary: the exact curve of class 1. Multi-class:
    /// the macro-average curve, the mean true positive rate of the averaged classes at each false positive rate of a
    /// grid of <see cref="MacroGridPoints"/> (each class's curve interpolated linearly), after a first point (0, 0).
    /// </summary>
    public required CurvePoints Roc { get; init; }

    /// <summary>
    /// The precision-recall curve to draw (recall, precision). Binary: the exact step curve of class 1
    /// (<see cref="PrecisionRecallCurve.Steps"/>), whose area is the average precision. Multi-class: the macro-average
    /// curve, the mean over the averaged classes of each one's step precision at each recall of a grid of
    /// <see cref="MacroGridPoints"/>.
    /// </summary>
    public required CurvePoints PrecisionRecall { get; init; }

    /// <summary>Computes the scores and curves.</summary>
    /// <param name="truth">True classes, one per row.</param>
    /// <param name="probabilities">Rows × classes probabilities, row-major.</param>
    /// <param name="classes">C, at least 2.</param>
    /// <returns>The metrics.</returns>
    /// <exception cref="ArgumentException">The lengths do not match or a class is out of range.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classes"/> is below 2.</exception>
    public static RankingMetrics Compute(ReadOnlySpan<int> truth, ReadOnlySpan<float> probabilities, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        Calibration.Check(truth, probabilities, classes);
        var auc = new double[classes];
        var ap = new double[classes];
        if (classes == 2)
        {
            // Class 0's scores are 1 − P[:, 1] up to rounding: compute both for the per-class lists.
            ScoreCounts zero = ScoreCounts.Count(truth, probabilities, classes, 0);
            auc[0] = RocCurve.FromCounts(zero).Auc;
            ap[0] = PrecisionRecallCurve.FromCounts(zero).AveragePrecision;
            ScoreCounts one = ScoreCounts.Count(truth, probabilities, classes, 1);
            RocCurve roc = RocCurve.FromCounts(one);
            PrecisionRecallCurve pr = PrecisionRecallCurve.FromCounts(one);
            auc[1] = roc.Auc;
            ap[1] = pr.AveragePrecision;
            bool defined = !double.IsNaN(roc.Auc);
            (double[] recall, double[] precision) = pr.Steps();
            return new RankingMetrics
            {
                Classes = 2,
                RocAuc = roc.Auc,
                AveragePrecision = pr.AveragePrecision,
                PerClassRocAuc = auc,
                PerClassAveragePrecision = ap,
                AveragedClasses = defined ? 1 : 0,
                ChanceAveragePrecision = truth.Length == 0 ? double.NaN : (double)one.Positives / truth.Length,
                Roc = defined ? new CurvePoints(roc.FalsePositiveRate, roc.TruePositiveRate) : CurvePoints.Empty,
                PrecisionRecall = double.IsNaN(pr.AveragePrecision) ? CurvePoints.Empty : new CurvePoints(recall, precision),
            };
        }

        double[] grid = [.. Enumerable.Range(0, MacroGridPoints).Select(j => (double)j / (MacroGridPoints - 1))];
        var meanTpr = new double[MacroGridPoints];
        var meanPrecision = new double[MacroGridPoints];
        int averaged = 0;
        double shares = 0;
        for (int k = 0; k < classes; k++)
        {
            ScoreCounts counts = ScoreCounts.Count(truth, probabilities, classes, k);
            RocCurve roc = RocCurve.FromCounts(counts);
            PrecisionRecallCurve pr = PrecisionRecallCurve.FromCounts(counts);
            auc[k] = roc.Auc;
            ap[k] = pr.AveragePrecision;
            if (double.IsNaN(roc.Auc) || double.IsNaN(pr.AveragePrecision))
            {
                continue;
            }

            averaged++;
            shares += (double)counts.Positives / truth.Length;
            for (int j = 0; j < MacroGridPoints; j++)
            {
                meanTpr[j] += RocAt(roc, grid[j]);
                meanPrecision[j] += StepPrecisionAt(pr, grid[j]);
            }
        }

        if (averaged == 0)
        {
            return new RankingMetrics { Classes = classes, PerClassRocAuc = auc, PerClassAveragePrecision = ap, Roc = CurvePoints.Empty, PrecisionRecall = CurvePoints.Empty };
        }

        for (int j = 0; j < MacroGridPoints; j++)
        {
            meanTpr[j] /= averaged;
            meanPrecision[j] /= averaged;
        }

        bool Defined(int k) => !double.IsNaN(auc[k]) && !double.IsNaN(ap[k]);
        int[] included = [.. Enumerable.Range(0, classes).Where(Defined)];
        return new RankingMetrics
        {
            Classes = classes,
            RocAuc = included.Average(k => auc[k]),
            AveragePrecision = included.Average(k => ap[k]),
            PerClassRocAuc = auc,
            PerClassAveragePrecision = ap,
            AveragedClasses = averaged,
            ChanceAveragePrecision = shares / averaged,
            Roc = new CurvePoints([0.0, .. grid], [0.0, .. meanTpr]),
            PrecisionRecall = new CurvePoints(grid, meanPrecision),
        };
    }

    /// <summary>The curve's true positive rate at false positive rate <paramref name="x"/>: the highest at exactly x, otherwise linear between the neighbours.</summary>
    internal static double RocAt(RocCurve curve, double x)
    {
        double[] fpr = curve.FalsePositiveRate, tpr = curve.TruePositiveRate;

        // The last point with fpr ≤ x (fpr is non-decreasing and starts at 0).
        int lo = 0, hi = fpr.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (fpr[mid] <= x)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        if (fpr[lo] == x || lo == fpr.Length - 1)
        {
            return tpr[lo];
        }

        double t = (x - fpr[lo]) / (fpr[lo + 1] - fpr[lo]);
        return tpr[lo] + (t * (tpr[lo + 1] - tpr[lo]));
    }

    /// <summary>The step curve's precision at recall <paramref name="r"/>: P_k of the first threshold whose recall reaches r (1 at r = 0).</summary>
    internal static double StepPrecisionAt(PrecisionRecallCurve curve, double r)
    {
        double[] recall = curve.Recall, precision = curve.Precision;
        if (r <= 0)
        {
            return precision[0];
        }

        // The first point (after the first) with recall ≥ r; the last point has recall 1.
        int lo = 1, hi = recall.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (recall[mid] >= r)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return precision[lo];
    }
}
