namespace Xent.Diagnostics;

/// <summary>How serious a diagnostic is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>Worth knowing; nothing is wrong.</summary>
    Info,

    /// <summary>Probably a mistake that silently harms training.</summary>
    Warning,
}

/// <summary>One finding about the data or the inputs of a loss.</summary>
/// <param name="Code">A stable identifier, such as <c>XENT0001</c>; see <see cref="DiagnosticCodes"/>.</param>
/// <param name="Severity">How serious it is.</param>
/// <param name="Message">What was found and what to do about it.</param>
public sealed record Diagnostic(string Code, DiagnosticSeverity Severity, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Severity.ToString().ToLowerInvariant()} {Code}: {Message}";
}

/// <summary>The codes Xent reports.</summary>
public static class DiagnosticCodes
{
    /// <summary>The logits given to a cross-entropy loss look like probabilities (softmax applied twice).</summary>
    public const string InputLooksLikeProbabilities = "XENT0001";

    /// <summary>The logits given to a cross-entropy loss look like log-probabilities (log_softmax applied first).</summary>
    public const string InputLooksLikeLogProbabilities = "XENT0002";

    /// <summary>The input of the NLL loss looks like probabilities rather than log-probabilities.</summary>
    public const string NllInputLooksLikeProbabilities = "XENT0003";

    /// <summary>Identical feature rows carry different labels: the loss cannot fall below their entropy.</summary>
    public const string ConflictingLabels = "XENT0004";

    /// <summary>A feature column holds one value only.</summary>
    public const string ConstantColumns = "XENT0005";

    /// <summary>A feature column holds NaN or infinity.</summary>
    public const string NonFiniteColumns = "XENT0006";

    /// <summary>The classes are strongly imbalanced.</summary>
    public const string ClassImbalance = "XENT0007";
}
