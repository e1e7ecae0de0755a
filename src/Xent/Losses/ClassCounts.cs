namespace Xent.Losses;

/// <summary>Checks the training class counts that prior-based losses take.</summary>
internal static class ClassCounts
{
    /// <summary>Every count must be positive (log n_c); returns their sum.</summary>
    public static double Check(IReadOnlyList<int> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (counts.Count < 2)
        {
            throw new ArgumentException($"The class counts list {counts.Count} classes; a classification loss needs at least 2.", nameof(counts));
        }

        int empty = counts.ToList().FindIndex(c => c <= 0);
        if (empty >= 0)
        {
            throw new ArgumentException($"Class {empty} has {counts[empty]} training rows; a loss built on the class prior needs at least one row of every class.", nameof(counts));
        }

        return counts.Sum(c => (double)c);
    }
}
