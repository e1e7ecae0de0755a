namespace Xent.Metrics;

/// <summary>Counts of (true class, predicted class) pairs: <c>Counts[t, p]</c>, rows are true classes.</summary>
public sealed class ConfusionMatrix
{
    /// <summary>Builds the matrix.</summary>
    /// <param name="truth">True classes.</param>
    /// <param name="predicted">Predicted classes, same length.</param>
    /// <param name="classes">The number of classes C; every value must lie in [0, C).</param>
    /// <exception cref="ArgumentException">The lengths differ or a class is out of range.</exception>
    public ConfusionMatrix(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (truth.Length != predicted.Length)
        {
            throw new ArgumentException($"{truth.Length} true labels but {predicted.Length} predictions.", nameof(predicted));
        }

        Classes = classes;
        Counts = new long[classes, classes];
        for (int i = 0; i < truth.Length; i++)
        {
            if ((uint)truth[i] >= (uint)classes || (uint)predicted[i] >= (uint)classes)
            {
                throw new ArgumentException($"Row {i}: true class {truth[i]} or predicted class {predicted[i]} is outside [0, {classes}).", nameof(truth));
            }

            Counts[truth[i], predicted[i]]++;
        }

        Total = truth.Length;
    }

    /// <summary>C.</summary>
    public int Classes { get; }

    /// <summary>Counts[true, predicted].</summary>
    public long[,] Counts { get; }

    /// <summary>All pairs.</summary>
    public long Total { get; }

    /// <summary>Rows whose true class is <paramref name="c"/>.</summary>
    /// <param name="c">The class.</param>
    /// <returns>The support.</returns>
    public long Support(int c)
    {
        long s = 0;
        for (int p = 0; p < Classes; p++)
        {
            s += Counts[c, p];
        }

        return s;
    }

    /// <summary>Rows predicted as <paramref name="c"/>.</summary>
    /// <param name="c">The class.</param>
    /// <returns>The count.</returns>
    public long PredictedCount(int c)
    {
        long s = 0;
        for (int t = 0; t < Classes; t++)
        {
            s += Counts[t, c];
        }

        return s;
    }
}
