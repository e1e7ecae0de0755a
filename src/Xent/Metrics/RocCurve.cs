namespace Xent.Metrics;

/// <summary>
/// A receiver operating characteristic curve of one class against the rest, as scikit-learn's
/// <c>roc_curve(..., drop_intermediate=False)</c> computes it: one point per distinct score, from the highest score
/// down, after a first point (0, 0) at an infinite threshold. Rows with equal scores enter together, so a tie between a
/// positive and a negative is a diagonal segment (half credit in the area).
/// </summary>
/// <param name="FalsePositiveRate">FP / negatives at each threshold, non-decreasing (NaN throughout without negatives).</param>
/// <param name="TruePositiveRate">TP / positives at each threshold, non-decreasing (NaN throughout without positives).</param>
/// <param name="Thresholds">The scores, decreasing; the first is +∞.</param>
public sealed record RocCurve(double[] FalsePositiveRate, double[] TruePositiveRate, double[] Thresholds)
{
    /// <summary>
    /// The area under the curve by the trapezoidal rule (scikit-learn's <c>roc_auc_score</c> for a binary task): the
    /// probability that a random positive scores above a random negative, ties counting one half. NaN when the rows
    /// have no positive or no negative (scikit-learn raises an error there).
    /// </summary>
    public double Auc { get; init; } = double.NaN;

    /// <summary>The curve of class <paramref name="positiveClass"/> against the rest, scored by its column of the probabilities.</summary>
    /// <param name="truth">True classes, one per row.</param>
    /// <param name="probabilities">Rows × classes scores, row-major.</param>
    /// <param name="classes">C.</param>
    /// <param name="positiveClass">The class taken as positive.</param>
    /// <returns>The curve; empty arrays and a NaN area when a score is NaN.</returns>
    /// <exception cref="ArgumentException">The lengths do not match or a class is out of range.</exception>
    public static RocCurve Compute(ReadOnlySpan<int> truth, ReadOnlySpan<float> probabilities, int classes, int positiveClass)
    {
        ScoreCounts counts = ScoreCounts.Count(truth, probabilities, classes, positiveClass);
        return FromCounts(counts);
    }

    internal static RocCurve FromCounts(ScoreCounts counts)
    {
        if (!counts.IsValid)
        {
            return new RocCurve([], [], []);
        }

        int m = counts.Thresholds.Length;
        double p = counts.Positives, n = counts.Negatives;
        var fpr = new double[m + 1];
        var tpr = new double[m + 1];
        var thresholds = new double[m + 1];
        thresholds[0] = double.PositiveInfinity;
        fpr[0] = n > 0 ? 0 : double.NaN;
        tpr[0] = p > 0 ? 0 : double.NaN;

        // Twice the area in units of (one negative × one positive): exact integer products, summed in order.
        double twiceArea = 0;
        long previousTp = 0, previousFp = 0;
        for (int k = 0; k < m; k++)
        {
            long tp = counts.TruePositives[k], fp = counts.FalsePositives[k];
            thresholds[k + 1] = counts.Thresholds[k];
            fpr[k + 1] = n > 0 ? fp / n : double.NaN;
            tpr[k + 1] = p > 0 ? tp / p : double.NaN;
            twiceArea += (double)(fp - previousFp) * (tp + previousTp);
            previousTp = tp;
            previousFp = fp;
        }

        return new RocCurve(fpr, tpr, thresholds) { Auc = p > 0 && n > 0 ? twiceArea / (2 * p * n) : double.NaN };
    }
}

/// <summary>
/// The counts behind ROC and precision-recall curves (scikit-learn's <c>_binary_clf_curve</c>): for each distinct score,
/// from the highest down, the positives and negatives scoring at least that much.
/// </summary>
internal sealed class ScoreCounts
{
    private ScoreCounts(double[] thresholds, long[] truePositives, long[] falsePositives, long positives, long negatives, bool isValid)
    {
        Thresholds = thresholds;
        TruePositives = truePositives;
        FalsePositives = falsePositives;
        Positives = positives;
        Negatives = negatives;
        IsValid = isValid;
    }

    /// <summary>The distinct scores, decreasing.</summary>
    public double[] Thresholds { get; }

    /// <summary>Positives with a score ≥ each threshold.</summary>
    public long[] TruePositives { get; }

    /// <summary>Negatives with a score ≥ each threshold.</summary>
    public long[] FalsePositives { get; }

    /// <summary>All positives.</summary>
    public long Positives { get; }

    /// <summary>All negatives.</summary>
    public long Negatives { get; }

    /// <summary>False when a score is NaN (nothing is counted then).</summary>
    public bool IsValid { get; }

    public static ScoreCounts Count(ReadOnlySpan<int> truth, ReadOnlySpan<float> probabilities, int classes, int positiveClass)
    {
        Calibration.Check(truth, probabilities, classes);
        ArgumentOutOfRangeException.ThrowIfNegative(positiveClass);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(positiveClass, classes);
        int rows = truth.Length;
        var scores = new float[rows];
        var positive = new byte[rows];
        long positives = 0;
        for (int i = 0; i < rows; i++)
        {
            float s = probabilities[(i * classes) + positiveClass];
            if (float.IsNaN(s))
            {
                return new ScoreCounts([], [], [], 0, 0, false);
            }

            scores[i] = s;
            positive[i] = truth[i] == positiveClass ? (byte)1 : (byte)0;
            positives += positive[i];
        }

        // Ascending by score; read from the top. Equal scores form one threshold, so the sort's order among them is moot.
        Array.Sort(scores, positive);
        var thresholds = new List<double>();
        var tps = new List<long>();
        var fps = new List<long>();
        long tp = 0, fp = 0;
        for (int i = rows - 1; i >= 0; i--)
        {
            if (positive[i] == 1)
            {
                tp++;
            }
            else
            {
                fp++;
            }

            if (i == 0 || scores[i - 1] != scores[i])
            {
                thresholds.Add(scores[i]);
                tps.Add(tp);
                fps.Add(fp);
            }
        }

        return new ScoreCounts([.. thresholds], [.. tps], [.. fps], positives, rows - positives, true);
    }
}
