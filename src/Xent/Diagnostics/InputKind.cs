namespace Xent.Diagnostics;

/// <summary>What a tensor of class scores looks like, judged along its class axis.</summary>
public enum InputKind
{
    /// <summary>Raw scores (logits): neither of the other kinds.</summary>
    Logits,

    /// <summary>Every row is non-negative and sums to 1.</summary>
    Probabilities,

    /// <summary>Every row's log-sum-exp is 0: the values are log-probabilities.</summary>
    LogProbabilities,
}
