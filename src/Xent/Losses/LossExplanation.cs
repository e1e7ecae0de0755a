using System.Globalization;

namespace Xent.Losses;

/// <summary>One position's part of a cross-entropy loss, as <see cref="LossExplanation"/> shows it.</summary>
/// <param name="Index">The position: (n) or (n, d1, …, dk).</param>
/// <param name="Logits">The logits along the class axis.</param>
/// <param name="Softmax">softmax of the logits.</param>
/// <param name="Target">The class index, or -1 for probability targets.</param>
/// <param name="TargetDistribution">The target distribution q actually used (smoothing applied).</param>
/// <param name="Ignored">Whether the target equals the ignore index.</param>
/// <param name="TargetWeight">w[y] (1 when unweighted; 0 when ignored); its sum is the mean's denominator for index targets.</param>
/// <param name="HardTerm">(1 − ε)·(−w[y]·log p[y]) for index targets; 0 for probability targets.</param>
/// <param name="SmoothingTerm">(ε/C)·Σ_c −w_c·log p_c for index targets; for probability targets the whole −Σ w_c·q_c·log p_c.</param>
/// <param name="Loss">The position's loss: <paramref name="HardTerm"/> + <paramref name="SmoothingTerm"/>.</param>
public sealed record PositionTerm(
    string Index,
    double[] Logits,
    double[] Softmax,
    int Target,
    double[] TargetDistribution,
    bool Ignored,
    double TargetWeight,
    double HardTerm,
    double SmoothingTerm,
    double Loss);

/// <summary>
/// The arithmetic of a cross-entropy loss, position by position, computed independently in double precision:
/// softmax, each −w[y]·log p[y] term, the smoothing term, and the reduction as numerator ÷ denominator.
/// Meant for small inputs (it allocates per position).
/// </summary>
public sealed record LossExplanation
{
    /// <summary>The positions, in row-major order.</summary>
    public required IReadOnlyList<PositionTerm> Positions { get; init; }

    /// <summary>Number of classes.</summary>
    public required int Classes { get; init; }

    /// <summary>The options used.</summary>
    public required CrossEntropyOptions Options { get; init; }

    /// <summary>Whether the targets are class indices (otherwise probabilities).</summary>
    public required bool IndexTargets { get; init; }

    /// <summary>The loss's scale: 1, or 2 for <see cref="SoftCrossEntropy"/>.</summary>
    public double Scale { get; init; } = 1.0;

    /// <summary>Σ of the position losses (times <see cref="Scale"/>): the mean's numerator.</summary>
    public double Numerator => Scale * Positions.Sum(p => p.Loss);

    /// <summary>The mean's denominator: Σ w[y] over non-ignored positions (index targets) or the number of positions.</summary>
    public double Denominator => IndexTargets ? Positions.Sum(p => p.TargetWeight) : Positions.Count;

    /// <summary>The reduced loss.</summary>
    public double Value => Options.Reduction switch
    {
        Reduction.Mean => Positions.Count == 0 ? double.NaN : Numerator / Denominator,
        _ => Numerator,
    };

    /// <summary>What the denominator is, in words.</summary>
    public string DenominatorDescription => IndexTargets
        ? Options.Weight is null ? "the number of positions that are not ignored" : "Σ w[y] over the positions that are not ignored"
        : "the number of positions (class weights do not enter the mean for probability targets)";

    /// <summary>
    /// Explains cross-entropy with class-index targets, positions laid out as (N, C, S).
    /// </summary>
    /// <param name="logits">(N, C, S) logits, row-major.</param>
    /// <param name="n">N.</param>
    /// <param name="c">C.</param>
    /// <param name="s">S (1 for 2-D input).</param>
    /// <param name="targets">N·S class indices.</param>
    /// <param name="options">The loss options.</param>
    /// <param name="scale">1 for cross-entropy, <see cref="SoftCrossEntropy.Scale"/> for the soft cross-entropy.</param>
    /// <param name="unbatched">Whether the input was (C); positions are then unnumbered.</param>
    /// <returns>The explanation.</returns>
    /// <exception cref="ArgumentException">The lengths do not match the layout, or a target is out of range.</exception>
    public static LossExplanation ForIndexTargets(ReadOnlySpan<double> logits, int n, int c, int s, ReadOnlySpan<int> targets, CrossEntropyOptions options, double scale = 1.0, bool unbatched = false)
    {
        CheckLengths(logits.Length, targets.Length, n, c, s, isIndex: true);
        double eps = options.LabelSmoothing > 0 ? options.LabelSmoothing : 0;
        var positions = new List<PositionTerm>(n * s);
        for (int b = 0; b < n; b++)
        {
            for (int p = 0; p < s; p++)
            {
                double[] x = Gather(logits, b, c, s, p);
                (double[] prob, double[] logp) = Softmax(x);
                int y = targets[(b * s) + p];
                string index = IndexText(b, p, s, unbatched);
                if (y == options.IgnoreIndex)
                {
                    positions.Add(new PositionTerm(index, x, prob, y, new double[c], true, 0, 0, 0, 0));
                    continue;
                }

                if ((uint)y >= (uint)c)
                {
                    throw new ArgumentOutOfRangeException(nameof(targets), $"Target {y} is out of bounds.");
                }

                double wy = Weight(options, y);
                double hard = (1 - eps) * -wy * logp[y];
                double smooth = 0;
                var q = new double[c];
                for (int k = 0; k < c; k++)
                {
                    smooth += -Weight(options, k) * logp[k];
                    q[k] = (k == y ? 1 - eps : 0) + (eps / c);
                }

                smooth = eps > 0 ? eps / c * smooth : 0;
                positions.Add(new PositionTerm(index, x, prob, y, q, false, wy, hard, smooth, hard + smooth));
            }
        }

        return new LossExplanation { Positions = positions, Classes = c, Options = options, IndexTargets = true, Scale = scale };
    }

    /// <summary>
    /// Explains the NLL loss: the input already holds log-probabilities, so each term is −w[y]·input[y]
    /// (shown in <see cref="PositionTerm.HardTerm"/>; <see cref="PositionTerm.Softmax"/> holds exp(input)).
    /// </summary>
    /// <param name="input">(N, C, S) log-probabilities.</param>
    /// <param name="n">N.</param>
    /// <param name="c">C.</param>
    /// <param name="s">S.</param>
    /// <param name="targets">N·S class indices.</param>
    /// <param name="options">Weights, ignore index and reduction (smoothing must be 0).</param>
    /// <param name="unbatched">Whether the input was (C).</param>
    /// <returns>The explanation.</returns>
    public static LossExplanation ForNll(ReadOnlySpan<double> input, int n, int c, int s, ReadOnlySpan<int> targets, CrossEntropyOptions options, bool unbatched = false)
    {
        CheckLengths(input.Length, targets.Length, n, c, s, isIndex: true);
        var positions = new List<PositionTerm>(n * s);
        for (int b = 0; b < n; b++)
        {
            for (int p = 0; p < s; p++)
            {
                double[] x = Gather(input, b, c, s, p);
                double[] implied = [.. x.Select(Math.Exp)];
                int y = targets[(b * s) + p];
                string index = IndexText(b, p, s, unbatched);
                if (y == options.IgnoreIndex)
                {
                    positions.Add(new PositionTerm(index, x, implied, y, new double[c], true, 0, 0, 0, 0));
                    continue;
                }

                if ((uint)y >= (uint)c)
                {
                    throw new ArgumentOutOfRangeException(nameof(targets), $"Target {y} is out of bounds.");
                }

                double wy = Weight(options, y);
                var q = new double[c];
                q[y] = 1;
                positions.Add(new PositionTerm(index, x, implied, y, q, false, wy, -wy * x[y], 0, -wy * x[y]));
            }
        }

        return new LossExplanation { Positions = positions, Classes = c, Options = options, IndexTargets = true };
    }

    /// <summary>Explains cross-entropy with probability targets laid out like the logits.</summary>
    /// <param name="logits">(N, C, S) logits.</param>
    /// <param name="n">N.</param>
    /// <param name="c">C.</param>
    /// <param name="s">S.</param>
    /// <param name="targets">(N, C, S) target probabilities.</param>
    /// <param name="options">The loss options.</param>
    /// <param name="unbatched">Whether the input was (C).</param>
    /// <returns>The explanation.</returns>
    public static LossExplanation ForProbabilityTargets(ReadOnlySpan<double> logits, int n, int c, int s, ReadOnlySpan<double> targets, CrossEntropyOptions options, bool unbatched = false)
    {
        CheckLengths(logits.Length, targets.Length, n, c, s, isIndex: false);
        double eps = options.LabelSmoothing > 0 ? options.LabelSmoothing : 0;
        var positions = new List<PositionTerm>(n * s);
        for (int b = 0; b < n; b++)
        {
            for (int p = 0; p < s; p++)
            {
                double[] x = Gather(logits, b, c, s, p);
                double[] t = Gather(targets, b, c, s, p);
                (double[] prob, double[] logp) = Softmax(x);
                double loss = 0;
                var q = new double[c];
                for (int k = 0; k < c; k++)
                {
                    q[k] = eps > 0 ? (t[k] * (1 - eps)) + (eps / c) : t[k];
                    loss += -Weight(options, k) * q[k] * logp[k];
                }

                positions.Add(new PositionTerm(IndexText(b, p, s, unbatched), x, prob, -1, q, false, 1, 0, loss, loss));
            }
        }

        return new LossExplanation { Positions = positions, Classes = c, Options = options, IndexTargets = false };
    }

    /// <summary>The reduction as a sentence, for example <c>mean = 13.8226 / 11 = 1.2566</c>.</summary>
    /// <param name="digits">Decimal places. Default: 4.</param>
    /// <returns>The text.</returns>
    public string Formula(int digits = 4)
    {
        string f = "F" + digits.ToString(CultureInfo.InvariantCulture);
        string num = Numerator.ToString(f, CultureInfo.InvariantCulture);
        string den = Denominator.ToString("0.####", CultureInfo.InvariantCulture);
        string value = Value.ToString(f, CultureInfo.InvariantCulture);
        return Options.Reduction switch
        {
            Reduction.Mean => $"mean = {num} / {den} = {value}",
            Reduction.Sum => $"sum = {num}",
            _ => $"none: one loss per position (their sum is {num})",
        };
    }

    private static double Weight(CrossEntropyOptions options, int k) => options.Weight is { } w ? w[k] : 1.0;

    private static void CheckLengths(int logits, int targets, int n, int c, int s, bool isIndex)
    {
        if ((long)n * c * s != logits)
        {
            throw new ArgumentException($"Expected N·C·S = {(long)n * c * s} logits, got {logits}.", nameof(logits));
        }

        long expected = isIndex ? (long)n * s : (long)n * c * s;
        if (expected != targets)
        {
            throw new ArgumentException($"Expected {expected} targets, got {targets}.", nameof(targets));
        }
    }

    private static string IndexText(int b, int p, int s, bool unbatched)
        => unbatched ? "()" : s == 1 ? $"({b})" : $"({b}, {p})";

    private static double[] Gather(ReadOnlySpan<double> values, int b, int c, int s, int p)
    {
        var row = new double[c];
        for (int k = 0; k < c; k++)
        {
            row[k] = values[(((b * c) + k) * s) + p];
        }

        return row;
    }

    private static (double[] Probabilities, double[] LogProbabilities) Softmax(double[] x)
    {
        double max = double.NegativeInfinity;
        foreach (double v in x)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (double v in x)
        {
            sum += Math.Exp(v - max);
        }

        double lse = Math.Log(sum);
        var logp = new double[x.Length];
        var p = new double[x.Length];
        for (int k = 0; k < x.Length; k++)
        {
            logp[k] = (x[k] - max) - lse;
            p[k] = Math.Exp(logp[k]);
        }

        return (p, logp);
    }
}
