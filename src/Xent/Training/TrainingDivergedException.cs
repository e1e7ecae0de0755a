namespace Xent.Training;

/// <summary>
/// Training produced a non-finite loss, gradient or weight. Training stops at once; no model is written, and the last
/// checkpoint (written while everything was finite) is kept.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="epoch">The epoch, from 0.</param>
    /// <param name="step">The step within the epoch, from 1.</param>
    /// <param name="globalStep">The step since the start, from 1.</param>
    /// <param name="what">What became non-finite.</param>
    /// <param name="checkpoint">The last checkpoint kept, or null.</param>
    public TrainingDivergedException(int epoch, int step, long globalStep, string what, string? checkpoint)
        : base($"Training diverged at epoch {epoch + 1}, step {step} (global step {globalStep}): {what}. Likely causes: a learning rate too high for this model (--lr), extreme or zero class weights (--class-weights), or unscaled features with very large values (keep standardisation on). "
            + (checkpoint is null ? "No model was written" : $"No model was written; the last finite checkpoint is kept at {checkpoint}") + ". Change the setting and start afresh with --force.")
    {
        Epoch = epoch;
        Step = step;
        GlobalStep = globalStep;
    }

    /// <summary>The epoch, from 0.</summary>
    public int Epoch { get; }

    /// <summary>The step within the epoch, from 1.</summary>
    public int Step { get; }

    /// <summary>The step since the start, from 1.</summary>
    public long GlobalStep { get; }
}
