using System.Globalization;
using Xent.Cli.LossCases;
using Xent.Data;

namespace Xent.Cli.Training;

/// <summary>
/// Refuses a label column that holds a real-valued target: many distinct numbers, some of them not whole. Xent trains
/// classifiers with one class per distinct value, so such a column (a regression target, or a feature picked by
/// mistake) would train a model of one class per value, and a "successful" run would mean nothing.
/// </summary>
internal static class RealValuedLabel
{
    /// <summary>The fewest distinct values that count as real-valued (fewer are plausible class codes such as 0.5 and 1.5).</summary>
    internal const int MinClasses = 20;

    /// <summary>Throws <see cref="InputException"/> (exit 2) when <paramref name="table"/>'s classes look like a real-valued target.</summary>
    /// <param name="table">The training table.</param>
    /// <param name="path">The file it came from, for the message.</param>
    public static void ThrowIfRealValued(DataTable table, string path)
    {
        if (table.ClassCount < MinClasses)
        {
            return;
        }

        var fractional = new List<string>();
        foreach (string name in table.ClassNames)
        {
            if (!double.TryParse(name, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            {
                return; // a text label: classes
            }

            if (v != Math.Floor(v))
            {
                fractional.Add(name);
            }
        }

        if (fractional.Count == 0)
        {
            return; // whole numbers: class codes
        }

        throw new InputException(string.Create(CultureInfo.InvariantCulture,
            $"{path}: the label column '{table.LabelName ?? "label"}' holds {table.ClassCount} distinct numbers in {table.Count} rows, {fractional.Count} of them not whole (such as {string.Join(", ", fractional.Take(3))}): it looks like a real-valued target, and xent trains classifiers, one class per distinct label value. Choose the class column with --label, or bin the values into classes first."));
    }
}
