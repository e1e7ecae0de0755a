using System.Globalization;

namespace Xent.Reports;

/// <summary>
/// The one place that gives colours: run (or series) <c>i</c> is drawn in <see cref="Color"/>(i) in every chart, so a run
/// keeps its colour across a report. The first ten are Tableau 10 (colour-blind friendly); beyond them, hues step by
/// the golden angle, so every index has its own colour. Training is drawn solid and validation dashed, in the run's colour.
/// </summary>
public static class RunPalette
{
    /// <summary>Tableau 10, the colours of indices 0 to 9.</summary>
    public static IReadOnlyList<string> Base { get; } = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"];

    /// <summary>The grey of reference lines (chance, perfect calibration, a loss floor); no run gets it.</summary>
    public const string Reference = "#555555";

    /// <summary>The colour of index <paramref name="index"/>, as #rrggbb.</summary>
    /// <param name="index">The run's position (0 for the first run).</param>
    /// <returns>The colour.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The index is negative.</exception>
    public static string Color(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (index < Base.Count)
        {
            return Base[index];
        }

        // Golden-angle hues at medium saturation and lightness (HSL 55%, 45%).
        double hue = ((index - Base.Count) * 137.50776405) % 360;
        const double s = 0.55, l = 0.45;
        double c = (1 - Math.Abs((2 * l) - 1)) * s, h = hue / 60, x = c * (1 - Math.Abs((h % 2) - 1)), m = l - (c / 2);
        (double r, double g, double b) = (int)h switch
        {
            0 => (c, x, 0.0),
            1 => (x, c, 0.0),
            2 => (0.0, c, x),
            3 => (0.0, x, c),
            4 => (x, 0.0, c),
            _ => (c, 0.0, x),
        };
        int Byte(double v) => (int)Math.Round((v + m) * 255);
        return string.Create(CultureInfo.InvariantCulture, $"#{Byte(r):x2}{Byte(g):x2}{Byte(b):x2}");
    }
}
