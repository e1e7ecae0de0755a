namespace Xent.Metrics;

/// <summary>
/// A precision-recall curve of one class against the rest, as scikit-learn's <c>precision_recall_curve</c> computes it,
/// in order of increasing recall: a first point (recall 0, precision 1) at an infinite threshold, then one point per
/// distinct score from the highest down.
/// </summary>
/// <param name="Recall">TP / positives at each threshold, non-decreasing (NaN after the first point without positives).</param>
/// <param name="Precision">TP / (TP + FP) at each threshold.</param>
/// <param name="Thresholds">The scores, decreasing; the first is +∞.</param>
public sealed record PrecisionRecallCurve(double[] Recall, double[] Precision, double[] Thresholds)
{
    /// <summary>
    /// Average precision as scikit-learn's <c>average_precision_score</c> defines it: Σ_k (R_k − R_(k−1))·P_k over the
    /// thresholds, the precision at each threshold weighted by the recall it adds (no interpolation). NaN when the
    /// rows have no positive (scikit-learn warns and returns 0 or −0 there).
    /// </summary>
    public double AveragePrecision { get; init; } = double.NaN;

    /// <summary>The curve of class <paramref name="positiveClass"/> against the rest, scored by its column of the probabilities.</summary>
    /// <param name="truth">True classes, one per row.</param>
    /// <param name="probabilities">Rows × classes scores, row-major.</param>
    /// <param name="classes">C.</param>
    /// <param name="positiveClass">The class taken as positive.</param>
    /// <returns>The curve; empty arrays and a NaN average precision when a score is NaN.</returns>
    /// <exception cref="ArgumentException">The lengths do not match or a class is out of range.</exception>
    public static PrecisionRecallCurve Compute(ReadOnlySpan<int> truth, ReadOnlySpan<float> probabilities, int classes, int positiveClass) =>
        FromCounts(ScoreCounts.Count(truth, probabilities, classes, positiveClass));

    /// <summary>
    /// The curve as it is drawn: a step function whose area is the average precision. Over each recall interval
    /// (R_(k−1), R_k] it holds P_k, so each threshold that adds recall gives two corners, (R_(k−1), P_k) and (R_k, P_k),
    /// after the first point (0, 1). Thresholds that add no recall (only negatives) add nothing.
    /// </summary>
    /// <returns>Recall (non-decreasing) and precision.</returns>
    public (double[] Recall, double[] Precision) Steps()
    {
        var x = new List<double>(2 * Recall.Length);
        var y = new List<double>(2 * Recall.Length);
        if (Recall.Length == 0 || double.IsNaN(AveragePrecision))
        {
            return ([], []);
        }

        x.Add(Recall[0]);
        y.Add(Precision[0]);
        for (int k = 1; k < Recall.Length; k++)
        {
            if (Recall[k] > Recall[k - 1])
            {
                x.Add(Recall[k - 1]);
                y.Add(Precision[k]);
                x.Add(Recall[k]);
                y.Add(Precision[k]);
            }
        }

        return ([.. x], [.. y]);
    }

    internal static PrecisionRecallCurve FromCounts(ScoreCounts counts)
    {
        if (!counts.IsValid)
        {
            return new PrecisionRecallCurve([], [], []);
        }

        int m = counts.Thresholds.Length;
        double p = counts.Positives;
        var recall = new double[m + 1];
        var precision = new double[m + 1];
        var thresholds = new double[m + 1];
        recall[0] = 0;
        precision[0] = 1;
        thresholds[0] = double.PositiveInfinity;
        double ap = 0;
        long previousTp = 0;
        for (int k = 0; k < m; k++)
        {
            long tp = counts.TruePositives[k], fp = counts.FalsePositives[k];
            thresholds[k + 1] = counts.Thresholds[k];
            recall[k + 1] = p > 0 ? tp / p : double.NaN;
            precision[k + 1] = (double)tp / (tp + fp);
            ap += (tp - previousTp) / p * precision[k + 1];
            previousTp = tp;
        }

        return new PrecisionRecallCurve(recall, precision, thresholds) { AveragePrecision = p > 0 ? ap : double.NaN };
    }
}
