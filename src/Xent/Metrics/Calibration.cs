namespace Xent.Metrics;

/// <summary>One reliability bin: predictions whose confidence (top probability) falls in (Lower, Upper].</summary>
/// <param name="Lower">Lower edge.</param>
/// <param name="Upper">Upper edge.</param>
/// <param name="Count">Predictions in the bin.</param>
/// <param name="Confidence">Mean confidence in the bin (NaN when empty).</param>
/// <param name="Accuracy">Share correct in the bin (NaN when empty).</param>
public readonly record struct ReliabilityBin(double Lower, double Upper, long Count, double Confidence, double Accuracy);

/// <summary>Probability quality: log loss, and expected calibration error with its reliability diagram.</summary>
public static class Calibration
{
    /// <summary>The usual bin count for ECE and reliability diagrams (Guo et al., 2017): 15.</summary>
    public const int DefaultBins = 15;

    /// <summary>
    /// Mean negative log-likelihood of the true class, −(1/n)·Σ log p[y], with probabilities clipped to
    /// [1e-15, 1 − 1e-15] as scikit-learn's log_loss does.
    /// </summary>
    /// <param name="truth">True classes.</param>
    /// <param name="probabilities">n × C probabilities, row-major.</param>
    /// <param name="classes">C.</param>
    /// <returns>The log loss.</returns>
    public static double LogLoss(ReadOnlySpan<int> truth, ReadOnlySpan<float> probabilities, int classes)
    {
        Check(truth, probabilities, classes);
        double sum = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            ReadOnlySpan<float> row = probabilities.Slice(i * classes, classes);
            double rowSum = 0;
            foreach (float p in row)
            {
                rowSum += Math.Clamp(p, 1e-15, 1 - 1e-15);
            }

            sum -= Math.Log(Math.Clamp(row[truth[i]], 1e-15, 1 - 1e-15) / rowSum);
        }

        return truth.Length == 0 ? double.NaN : sum / truth.Length;
    }

    /// <summary>Reliability bins of equal width on [0, 1] over the top probability (the first bin includes 0).</summary>
    /// <param name="truth">True classes.</param>
    /// <param name="probabilities">n × C probabilities.</param>
    /// <param name="classes">C.</param>
    /// <param name="bins">How many bins. Default: 15 (<see cref="DefaultBins"/>).</param>
    /// <returns>The bins.</returns>
    public static ReliabilityBin[] Reliability(ReadOnlySpan<int> truth, ReadOnlySpan<float> probabilities, int classes, int bins = DefaultBins)
    {
        Check(truth, probabilities, classes);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var count = new long[bins];
        var confidence = new double[bins];
        var correct = new double[bins];
        for (int i = 0; i < truth.Length; i++)
        {
            ReadOnlySpan<float> row = probabilities.Slice(i * classes, classes);
            int best = 0;
            for (int c = 1; c < classes; c++)
            {
                if (row[c] > row[best])
                {
                    best = c;
                }
            }

            double conf = row[best];
            int b = Math.Clamp((int)Math.Ceiling(conf * bins) - 1, 0, bins - 1);
            count[b]++;
            confidence[b] += conf;
            correct[b] += best == truth[i] ? 1 : 0;
        }

        var result = new ReliabilityBin[bins];
        for (int b = 0; b < bins; b++)
        {
            result[b] = new ReliabilityBin((double)b / bins, (double)(b + 1) / bins, count[b],
                count[b] == 0 ? double.NaN : confidence[b] / count[b], count[b] == 0 ? double.NaN : correct[b] / count[b]);
        }

        return result;
    }

    /// <summary>Expected calibration error: Σ_bins (n_b / n)·|accuracy_b − confidence_b|.</summary>
    /// <param name="truth">True classes.</param>
    /// <param name="probabilities">n × C probabilities.</param>
    /// <param name="classes">C.</param>
    /// <param name="bins">How many equal-width bins. Default: 10.</param>
    /// <returns>The ECE.</returns>
    public static double ExpectedCalibrationError(ReadOnlySpan<int> truth, ReadOnlySpan<float> probabilities, int classes, int bins = DefaultBins)
    {
        ReliabilityBin[] reliability = Reliability(truth, probabilities, classes, bins);
        double ece = 0;
        foreach (ReliabilityBin b in reliability)
        {
            if (b.Count > 0)
            {
                ece += (double)b.Count / truth.Length * Math.Abs(b.Accuracy - b.Confidence);
            }
        }

        return ece;
    }

    /// <summary>Checks that the probabilities hold one row per true class and that every class is in range.</summary>
    internal static void Check(ReadOnlySpan<int> truth, ReadOnlySpan<float> probabilities, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (probabilities.Length != (long)truth.Length * classes)
        {
            throw new ArgumentException($"{truth.Length} rows × {classes} classes need {(long)truth.Length * classes} probabilities, got {probabilities.Length}.", nameof(probabilities));
        }

        foreach (int y in truth)
        {
            if ((uint)y >= (uint)classes)
            {
                throw new ArgumentException($"True class {y} is outside [0, {classes}).", nameof(truth));
            }
        }
    }
}
