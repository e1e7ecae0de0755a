using System.Numerics.Tensors;
using Xent.Diagnostics;
using Xent.Losses;

namespace Xent.Training;

/// <summary>The losses the trainer can optimise.</summary>
public enum LossKind
{
    /// <summary><see cref="CrossEntropy"/> on the model's logits.</summary>
    CrossEntropy,

    /// <summary><see cref="SoftCrossEntropy"/>: CE + mean over classes of −log p (= 2 × CE with label smoothing 0.5).</summary>
    SoftCrossEntropy,

    /// <summary><see cref="Nll"/>: the model ends with log_softmax.</summary>
    Nll,
}

/// <summary>Parses and names <see cref="LossKind"/> as the CLI writes it.</summary>
public static class LossKindNames
{
    /// <summary>Parses <c>cross-entropy</c>, <c>soft-cross-entropy</c> or <c>nll</c>.</summary>
    /// <param name="text">The name.</param>
    /// <returns>The kind.</returns>
    /// <exception cref="FormatException">Not one of these.</exception>
    public static LossKind Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "cross-entropy" or "cross_entropy" or "ce" => LossKind.CrossEntropy,
        "soft-cross-entropy" or "soft_cross_entropy" => LossKind.SoftCrossEntropy,
        "nll" => LossKind.Nll,
        _ => throw new FormatException($"Unknown loss '{text}'; expected cross-entropy, soft-cross-entropy or nll."),
    };

    /// <summary>The CLI name.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The name.</returns>
    public static string Name(this LossKind kind) => kind switch
    {
        LossKind.SoftCrossEntropy => "soft-cross-entropy",
        LossKind.Nll => "nll",
        _ => "cross-entropy",
    };
}

/// <summary>Computes a batch's training loss and d loss / d output for the trainer (no allocation per call).</summary>
public sealed class TrainingLoss
{
    private readonly CrossEntropyOptions _crossEntropy;
    private readonly NllOptions _nll;

    /// <summary>Creates the loss.</summary>
    /// <param name="kind">The loss.</param>
    /// <param name="weight">Class weights, or null.</param>
    /// <param name="labelSmoothing">Label smoothing (cross-entropy only).</param>
    /// <param name="diagnostics">Where input warnings go, or null.</param>
    public TrainingLoss(LossKind kind, IReadOnlyList<double>? weight = null, double labelSmoothing = 0, IDiagnosticSink? diagnostics = null)
    {
        if (kind != LossKind.CrossEntropy && labelSmoothing != 0)
        {
            throw new ArgumentException($"Label smoothing applies to cross-entropy only, not {kind.Name()}.", nameof(labelSmoothing));
        }

        Kind = kind;
        Weight = weight;
        LabelSmoothing = labelSmoothing;
        _crossEntropy = new CrossEntropyOptions { Weight = weight, LabelSmoothing = labelSmoothing, Diagnostics = diagnostics };
        _nll = new NllOptions { Weight = weight, Diagnostics = diagnostics };
    }

    /// <summary>The loss.</summary>
    public LossKind Kind { get; }

    /// <summary>Class weights, or null.</summary>
    public IReadOnlyList<double>? Weight { get; }

    /// <summary>Label smoothing.</summary>
    public double LabelSmoothing { get; }

    /// <summary>The mean loss of a batch and its gradient with respect to the model's output.</summary>
    /// <param name="output">(batch, classes) logits, or log-probabilities for <see cref="LossKind.Nll"/>.</param>
    /// <param name="targets">The batch's labels.</param>
    /// <param name="classes">C.</param>
    /// <param name="gradient">Receives d loss / d output; empty for forward only.</param>
    /// <returns>The result.</returns>
    public LossResult Compute(ReadOnlySpan<float> output, ReadOnlySpan<int> targets, int classes, Span<float> gradient)
    {
        int batch = targets.Length;
        var x = new ReadOnlyTensorSpan<float>(output, [batch, classes]);
        var y = new ReadOnlyTensorSpan<int>(targets, [batch]);
        return Kind switch
        {
            LossKind.Nll => Nll.Compute(x, y, _nll, gradient: gradient),
            LossKind.SoftCrossEntropy => SoftCrossEntropy.Compute(x, y, _crossEntropy, gradient: gradient),
            _ => CrossEntropy.Compute(x, y, _crossEntropy, gradient: gradient),
        };
    }
}
