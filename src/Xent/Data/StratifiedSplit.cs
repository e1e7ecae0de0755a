using Xent.Kernels;

namespace Xent.Data;

/// <summary>Row indices of a train / validation / test split.</summary>
/// <param name="Train">Training rows.</param>
/// <param name="Validation">Validation rows.</param>
/// <param name="Test">Test rows.</param>
public sealed record SplitIndices(int[] Train, int[] Validation, int[] Test);

/// <summary>
/// A stratified split: each class is shuffled with a seeded generator and cut in the given fractions, so every split
/// keeps the class proportions (each class's share is rounded; a class with rows keeps at least one training row).
/// </summary>
public static class StratifiedSplit
{
    /// <summary>Splits the rows of a dataset.</summary>
    /// <param name="labels">Each row's class.</param>
    /// <param name="classes">The number of classes.</param>
    /// <param name="validationFraction">Share for validation, in [0, 1).</param>
    /// <param name="testFraction">Share for test, in [0, 1); the two together below 1.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The indices, each split sorted ascending.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A fraction is out of range.</exception>
    public static SplitIndices Split(IReadOnlyList<int> labels, int classes, double validationFraction, double testFraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (!(validationFraction >= 0 && validationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be in [0, 1).");
        }

        if (!(testFraction >= 0 && testFraction < 1) || validationFraction + testFraction >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must be in [0, 1) and, with the validation fraction, below 1.");
        }

        var byClass = new List<int>[classes];
        for (int k = 0; k < classes; k++)
        {
            byClass[k] = [];
        }

        for (int i = 0; i < labels.Count; i++)
        {
            byClass[labels[i]].Add(i);
        }

        var random = XentRandom.ForStream(seed, 0x5EED5);
        List<int> train = [], validation = [], test = [];
        foreach (List<int> rows in byClass)
        {
            int[] shuffled = [.. rows];
            random.Shuffle<int>(shuffled);
            int nTest = (int)Math.Round(shuffled.Length * testFraction, MidpointRounding.AwayFromZero);
            int nValidation = (int)Math.Round(shuffled.Length * validationFraction, MidpointRounding.AwayFromZero);
            if (nTest + nValidation >= shuffled.Length && shuffled.Length > 0)
            {
                // keep one training row per class
                int excess = nTest + nValidation - shuffled.Length + 1;
                int fromValidation = Math.Min(excess, nValidation);
                nValidation -= fromValidation;
                nTest -= excess - fromValidation;
            }

            test.AddRange(shuffled.AsSpan(0, nTest));
            validation.AddRange(shuffled.AsSpan(nTest, nValidation));
            train.AddRange(shuffled.AsSpan(nTest + nValidation));
        }

        train.Sort();
        validation.Sort();
        test.Sort();
        return new SplitIndices([.. train], [.. validation], [.. test]);
    }
}
