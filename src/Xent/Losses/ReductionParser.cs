namespace Xent.Losses;

/// <summary>Converts between <see cref="Reduction"/> and PyTorch's reduction strings.</summary>
public static class ReductionParser
{
    /// <summary>
    /// Parses <c>"none"</c>, <c>"mean"</c> or <c>"sum"</c> (case-insensitive); <c>"elementwise_mean"</c>,
    /// PyTorch's deprecated alias, is read as mean.
    /// </summary>
    /// <param name="value">The reduction's name.</param>
    /// <returns>The reduction.</returns>
    /// <exception cref="ArgumentException">The name is not a reduction, with PyTorch's message
    /// "&lt;value&gt; is not a valid value for reduction".</exception>
    public static Reduction Parse(string? value) => value?.ToLowerInvariant() switch
    {
        "none" => Reduction.None,
        "mean" or "elementwise_mean" => Reduction.Mean,
        "sum" => Reduction.Sum,
        _ => throw new ArgumentException($"{value ?? "None"} is not a valid value for reduction", nameof(value)),
    };

    /// <summary>The PyTorch name of a reduction: "none", "mean" or "sum".</summary>
    /// <param name="reduction">The reduction.</param>
    /// <returns>Its lower-case name.</returns>
    public static string ToName(this Reduction reduction) => reduction switch
    {
        Reduction.None => "none",
        Reduction.Mean => "mean",
        Reduction.Sum => "sum",
        _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "Unknown reduction."),
    };
}
