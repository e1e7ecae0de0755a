using System.Globalization;

namespace Xent.Data;

/// <summary>How per-class loss weights are chosen.</summary>
public enum ClassWeightScheme
{
    /// <summary>No weights (all 1).</summary>
    None,

    /// <summary>Inverse frequency: w_c = n / n_c (the reciprocal of the class's share).</summary>
    Inverse,

    /// <summary>scikit-learn's "balanced": w_c = n / (C · n_c).</summary>
    Balanced,

    /// <summary>Effective number of samples (Cui et al., CVPR 2019): w_c ∝ (1 − β) / (1 − β^n_c), scaled so Σ_c w_c = C.</summary>
    EffectiveNumber,

    /// <summary>Weights given by the user.</summary>
    Custom,
}

/// <summary>A class-weight choice: a scheme, with β for the effective number or the values for custom weights.</summary>
/// <param name="Scheme">The scheme.</param>
/// <param name="Beta">β in [0, 1), for <see cref="ClassWeightScheme.EffectiveNumber"/>.</param>
/// <param name="Values">The weights, for <see cref="ClassWeightScheme.Custom"/>.</param>
public sealed record ClassWeights(ClassWeightScheme Scheme, double Beta = 0.999, IReadOnlyList<double>? Values = null)
{
    /// <summary>No weights.</summary>
    public static ClassWeights None { get; } = new(ClassWeightScheme.None);

    /// <summary>Parses <c>none</c>, <c>inverse</c>, <c>balanced</c>, <c>effective:BETA</c> or a list <c>w1,w2,...</c>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The choice.</returns>
    /// <exception cref="FormatException">The text is none of these; the message says what is accepted.</exception>
    public static ClassWeights Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        if (t is "none" or "")
        {
            return None;
        }

        if (t == "inverse")
        {
            return new ClassWeights(ClassWeightScheme.Inverse);
        }

        if (t == "balanced")
        {
            return new ClassWeights(ClassWeightScheme.Balanced);
        }

        if (t.StartsWith("effective", StringComparison.Ordinal))
        {
            string rest = t["effective".Length..].TrimStart(':');
            double beta = rest.Length == 0 ? 0.999 : double.TryParse(rest, NumberStyles.Float, CultureInfo.InvariantCulture, out double b) ? b : double.NaN;
            if (!(beta >= 0 && beta < 1))
            {
                throw new FormatException($"Class weights '{text}': β must be a number in [0, 1), as in effective:0.999.");
            }

            return new ClassWeights(ClassWeightScheme.EffectiveNumber, beta);
        }

        string[] parts = t.Split(',');
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !(values[i] >= 0) || double.IsInfinity(values[i]))
            {
                throw new FormatException($"Class weights '{text}': expected none, inverse, balanced, effective:BETA, or a list of non-negative numbers such as 1,10; item {i + 1} ('{parts[i]}') is not one.");
            }
        }

        if (values.All(v => v == 0))
        {
            throw new FormatException($"Class weights '{text}': every weight is zero, so every loss would be 0 / 0 = NaN; give at least one class a positive weight.");
        }

        return new ClassWeights(ClassWeightScheme.Custom, Values: values);
    }

    /// <summary>The weight of each class for given class counts, or <see langword="null"/> for <see cref="ClassWeightScheme.None"/>.</summary>
    /// <param name="counts">Rows per class (training split).</param>
    /// <returns>The weights.</returns>
    /// <exception cref="ArgumentException">Custom weights of the wrong length, or a class without rows for a frequency scheme.</exception>
    public double[]? Compute(IReadOnlyList<int> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        int c = counts.Count;
        double n = counts.Sum();
        switch (Scheme)
        {
            case ClassWeightScheme.None:
                return null;
            case ClassWeightScheme.Custom:
                if (Values!.Count != c)
                {
                    throw new ArgumentException($"{Values.Count} class weights were given for {c} classes.", nameof(counts));
                }

                return [.. Values];
        }

        int empty = counts.ToList().FindIndex(k => k == 0);
        if (empty >= 0)
        {
            throw new ArgumentException($"Class {empty} has no training rows, so its {Scheme} weight is undefined.", nameof(counts));
        }

        return Scheme switch
        {
            ClassWeightScheme.Inverse => [.. counts.Select(k => n / k)],
            ClassWeightScheme.Balanced => [.. counts.Select(k => n / (c * (double)k))],
            _ => Normalise([.. counts.Select(k => (1 - Beta) / (1 - Math.Pow(Beta, k)))], c),
        };
    }

    /// <summary>The text form, as <see cref="Parse"/> reads it.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Scheme switch
    {
        ClassWeightScheme.None => "none",
        ClassWeightScheme.Inverse => "inverse",
        ClassWeightScheme.Balanced => "balanced",
        ClassWeightScheme.EffectiveNumber => FormattableString.Invariant($"effective:{Beta}"),
        _ => string.Join(",", Values!.Select(v => v.ToString(CultureInfo.InvariantCulture))),
    };

    private static double[] Normalise(double[] weights, int c)
    {
        double sum = weights.Sum();
        return [.. weights.Select(w => w * c / sum)];
    }
}
