namespace Xent.Metrics;

/// <summary>Per-class precision, recall, F1 and support.</summary>
/// <param name="Precision">TP / (TP + FP), 0 when nothing was predicted as the class (scikit-learn's zero_division=0).</param>
/// <param name="Recall">TP / (TP + FN), 0 when the class has no rows; also the class's accuracy.</param>
/// <param name="F1">2·P·R / (P + R), 0 when both are 0.</param>
/// <param name="Support">Rows of the class.</param>
public readonly record struct ClassScores(double Precision, double Recall, double F1, long Support);

/// <summary>
/// Classification metrics from true and predicted classes, defined as scikit-learn defines them
/// (zero_division = 0), and tested against scikit-learn's values.
/// </summary>
public sealed record ClassificationMetrics
{
    /// <summary>The confusion matrix.</summary>
    public required ConfusionMatrix Confusion { get; init; }

    /// <summary>Per-class scores, indexed by class.</summary>
    public required IReadOnlyList<ClassScores> PerClass { get; init; }

    /// <summary>Share of rows predicted correctly.</summary>
    public double Accuracy { get; init; }

    /// <summary>Mean recall over the classes that have rows (scikit-learn's balanced_accuracy_score).</summary>
    public double BalancedAccuracy { get; init; }

    /// <summary>Unweighted mean of the per-class F1.</summary>
    public double MacroF1 { get; init; }

    /// <summary>Mean of per-class precision.</summary>
    public double MacroPrecision { get; init; }

    /// <summary>Mean of per-class recall.</summary>
    public double MacroRecall { get; init; }

    /// <summary>Support-weighted mean of the per-class F1.</summary>
    public double WeightedF1 { get; init; }

    /// <summary>Support-weighted mean of per-class precision.</summary>
    public double WeightedPrecision { get; init; }

    /// <summary>Support-weighted mean of per-class recall.</summary>
    public double WeightedRecall { get; init; }

    /// <summary>Computes every metric.</summary>
    /// <param name="truth">True classes.</param>
    /// <param name="predicted">Predicted classes.</param>
    /// <param name="classes">C.</param>
    /// <returns>The metrics.</returns>
    public static ClassificationMetrics Compute(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted, int classes)
    {
        var cm = new ConfusionMatrix(truth, predicted, classes);
        var scores = new ClassScores[classes];
        long correct = 0;
        for (int c = 0; c < classes; c++)
        {
            long tp = cm.Counts[c, c];
            correct += tp;
            long support = cm.Support(c);
            long predictedCount = cm.PredictedCount(c);
            double precision = predictedCount == 0 ? 0 : (double)tp / predictedCount;
            double recall = support == 0 ? 0 : (double)tp / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            scores[c] = new ClassScores(precision, recall, f1, support);
        }

        double total = cm.Total;
        var present = scores.Where(s => s.Support > 0).ToArray();
        return new ClassificationMetrics
        {
            Confusion = cm,
            PerClass = scores,
            Accuracy = total == 0 ? double.NaN : correct / total,
            BalancedAccuracy = present.Length == 0 ? double.NaN : present.Average(s => s.Recall),
            MacroF1 = scores.Average(s => s.F1),
            MacroPrecision = scores.Average(s => s.Precision),
            MacroRecall = scores.Average(s => s.Recall),
            WeightedF1 = total == 0 ? double.NaN : scores.Sum(s => s.F1 * s.Support) / total,
            WeightedPrecision = total == 0 ? double.NaN : scores.Sum(s => s.Precision * s.Support) / total,
            WeightedRecall = total == 0 ? double.NaN : scores.Sum(s => s.Recall * s.Support) / total,
        };
    }
}
