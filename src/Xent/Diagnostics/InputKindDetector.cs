using System.Numerics;

namespace Xent.Diagnostics;

/// <summary>
/// Decides whether class scores laid out as (N, C, S) are probabilities, log-probabilities or raw logits.
/// It stops at the first row that rules a kind out, so on real logits it usually reads one row.
/// </summary>
public static class InputKindDetector
{
    /// <summary>How far a row's sum (or log-sum-exp) may be from 1 (or 0). Default: 1e-3.</summary>
    public const double Tolerance = 1e-3;

    /// <summary>Classifies the scores.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="values">(N, C, S) scores, row-major.</param>
    /// <param name="n">N.</param>
    /// <param name="c">C, the classes; fewer than 2 always gives <see cref="InputKind.Logits"/>.</param>
    /// <param name="s">S, positions per row (1 for 2-D input).</param>
    /// <returns>The kind.</returns>
    /// <exception cref="ArgumentException"><paramref name="values"/> does not hold N·C·S elements.</exception>
    public static InputKind Detect<T>(ReadOnlySpan<T> values, int n, int c, int s)
        where T : IFloatingPointIeee754<T>
    {
        if ((long)n * c * s != values.Length)
        {
            throw new ArgumentException($"Expected N·C·S = {(long)n * c * s} values, got {values.Length}.", nameof(values));
        }

        if (c < 2 || n == 0 || s == 0)
        {
            return InputKind.Logits;
        }

        bool probabilities = true;
        bool logProbabilities = true;
        for (int b = 0; b < n && (probabilities || logProbabilities); b++)
        {
            for (int p = 0; p < s && (probabilities || logProbabilities); p++)
            {
                int start = (b * c * s) + p;
                double sum = 0, max = double.NegativeInfinity;
                bool nonNegative = true;
                for (int k = 0; k < c; k++)
                {
                    double v = double.CreateTruncating(values[start + (k * s)]);
                    sum += v;
                    max = Math.Max(max, v);
                    nonNegative &= v >= 0;
                }

                probabilities &= nonNegative && Math.Abs(sum - 1) <= Tolerance;
                if (logProbabilities)
                {
                    double sumExp = 0;
                    for (int k = 0; k < c; k++)
                    {
                        sumExp += Math.Exp(double.CreateTruncating(values[start + (k * s)]) - max);
                    }

                    logProbabilities = double.IsFinite(max) && Math.Abs(max + Math.Log(sumExp)) <= Tolerance;
                }
            }
        }

        return probabilities ? InputKind.Probabilities : logProbabilities ? InputKind.LogProbabilities : InputKind.Logits;
    }
}
