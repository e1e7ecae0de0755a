using System.Globalization;
using System.Text;

namespace Xent.Metrics;

/// <summary>A text report laid out exactly as scikit-learn's classification_report.</summary>
public static class ClassificationReport
{
    /// <summary>Formats the report.</summary>
    /// <param name="metrics">The metrics.</param>
    /// <param name="classNames">One name per class.</param>
    /// <param name="digits">Decimal places. Default: 4.</param>
    /// <returns>The text.</returns>
    public static string Format(ClassificationMetrics metrics, IReadOnlyList<string> classNames, int digits = 4)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count != metrics.PerClass.Count)
        {
            throw new ArgumentException($"{classNames.Count} class names for {metrics.PerClass.Count} classes.", nameof(classNames));
        }

        const string last = "weighted avg";
        int width = Math.Max(Math.Max(classNames.Max(n => n.Length), last.Length), digits);
        var sb = new StringBuilder();
        string f = "F" + digits.ToString(CultureInfo.InvariantCulture);
        string Num(double v) => v.ToString(f, CultureInfo.InvariantCulture).PadLeft(9);
        sb.Append(string.Empty.PadLeft(width)).Append(' ');
        foreach (string h in new[] { "precision", "recall", "f1-score", "support" })
        {
            sb.Append(' ').Append(h.PadLeft(9));
        }

        sb.Append("\n\n");
        long total = 0;
        for (int c = 0; c < classNames.Count; c++)
        {
            ClassScores s = metrics.PerClass[c];
            total += s.Support;
            sb.Append(classNames[c].PadLeft(width)).Append(' ')
              .Append(' ').Append(Num(s.Precision)).Append(' ').Append(Num(s.Recall)).Append(' ').Append(Num(s.F1))
              .Append(' ').Append(s.Support.ToString(CultureInfo.InvariantCulture).PadLeft(9)).Append('\n');
        }

        sb.Append('\n');
        sb.Append("accuracy".PadLeft(width)).Append(' ').Append(' ').Append(string.Empty.PadLeft(9)).Append(' ').Append(string.Empty.PadLeft(9))
          .Append(' ').Append(Num(metrics.Accuracy)).Append(' ').Append(total.ToString(CultureInfo.InvariantCulture).PadLeft(9)).Append('\n');
        sb.Append("macro avg".PadLeft(width)).Append(' ').Append(' ').Append(Num(metrics.MacroPrecision)).Append(' ').Append(Num(metrics.MacroRecall))
          .Append(' ').Append(Num(metrics.MacroF1)).Append(' ').Append(total.ToString(CultureInfo.InvariantCulture).PadLeft(9)).Append('\n');
        sb.Append(last.PadLeft(width)).Append(' ').Append(' ').Append(Num(metrics.WeightedPrecision)).Append(' ').Append(Num(metrics.WeightedRecall))
          .Append(' ').Append(Num(metrics.WeightedF1)).Append(' ').Append(total.ToString(CultureInfo.InvariantCulture).PadLeft(9)).Append('\n');
        return sb.ToString();
    }
}
