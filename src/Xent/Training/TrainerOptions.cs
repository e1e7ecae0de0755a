using Xent.Distributed;
using Xent.Optim;

namespace Xent.Training;

/// <summary>Stops training when a validation metric has not improved for <paramref name="Patience"/> epochs, and restores the best weights.</summary>
/// <param name="Metric"><c>val_loss</c> (lower is better) or <c>val_accuracy</c> (higher is better). Default: val_loss.</param>
/// <param name="Patience">Epochs without improvement before stopping. Default: 5.</param>
/// <param name="MinDelta">The smallest change that counts as an improvement. Default: 0.</param>
public sealed record EarlyStopping(string Metric = "val_loss", int Patience = 5, double MinDelta = 0)
{
    /// <summary>Whether a higher value is better (val_accuracy) or a lower one (val_loss).</summary>
    public bool Maximise => Metric == "val_accuracy";

    /// <summary>Checks the metric name and the patience.</summary>
    /// <exception cref="ArgumentException">The metric is neither val_loss nor val_accuracy.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The patience is below 1.</exception>
    public void Validate()
    {
        if (Metric is not ("val_loss" or "val_accuracy"))
        {
            throw new ArgumentException($"Unknown early-stopping metric '{Metric}'; expected val_loss or val_accuracy.", nameof(Metric));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Patience, 1, nameof(Patience));
    }
}

/// <summary>How the trainer runs, with documented defaults.</summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training rows. Default: 30.</summary>
    public int Epochs { get; init; } = 30;

    /// <summary>Rows per mini-batch (the last batch of an epoch may be smaller, unless <see cref="DropLast"/>). Default: 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Drop each epoch's last batch when it is partial (as PyTorch's DataLoader(drop_last=True)). Default: false.</summary>
    public bool DropLast { get; init; }

    /// <summary>The seed of the batch order (model initialisation takes its own). Default: 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>Kernel threads; <see langword="null"/> (the default) for all cores. Results do not depend on it.</summary>
    public int? Threads { get; init; }

    /// <summary>The learning-rate schedule, stepped once per epoch. Default: constant.</summary>
    public LearningRateSchedule Schedule { get; init; } = new ConstantSchedule();

    /// <summary>Early stopping, or <see langword="null"/> (the default) to train every epoch.</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>Also evaluate the validation split every this many steps (recorded in the batch history); 0 (the default) evaluates once per epoch.</summary>
    public int ValidateEverySteps { get; init; }

    /// <summary>Where checkpoints go, or <see langword="null"/> (the default) for none.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Checkpoint every this many steps (and when training ends); 0 (the default) at the end of each epoch.</summary>
    public int CheckpointEverySteps { get; init; }

    /// <summary>
    /// Where the complete history is appended as training goes (history.csv per step, epochs.csv per epoch), or
    /// <see langword="null"/> (the default) for the checkpoint's folder when there is a checkpoint, else none.
    /// </summary>
    public string? HistoryDirectory { get; init; }

    /// <summary>Settings decided outside the trainer (for example the split fractions) that a resume must also match; <see langword="null"/> for none.</summary>
    public RunSettings? Settings { get; init; }

    /// <summary>
    /// Sharded training (<c>--shards M</c>): 0 (the default) trains as always; a power of 2, M, splits the training rows
    /// into M fixed partitions (row i in partition i mod M, each shuffled per epoch from the seed), makes each global
    /// batch of <see cref="BatchSize"/> rows (a multiple of M) the union of the partitions' local batches, computes the
    /// gradient of each partition's rows on its own and adds the M gradients by the fixed tree of
    /// <see cref="TreeSum"/>. The result depends on M and the seed but not on how many processes share the shards, so
    /// one process and any <see cref="Communicator"/> whose size divides M train bit-identical models. Dropout masks
    /// are keyed by (seed, layer, global step, global row); models with batch normalisation are refused.
    /// </summary>
    public int Shards { get; init; }

    /// <summary>
    /// The job that shares the shards (<see cref="MpiCommunicator"/> under <c>mpirun</c>), or <see langword="null"/>
    /// (the default) for this process alone. Its size must be a power of 2 that divides <see cref="Shards"/>. Every rank
    /// trains the same model; only rank 0 writes the checkpoint and the history. Not a setting: a checkpoint written by
    /// any number of ranks resumes with any other.
    /// </summary>
    public ICommunicator? Communicator { get; init; }

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    /// <exception cref="ArgumentException">The schedule's factors are not finite.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Epochs, 1, nameof(Epochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegative(ValidateEverySteps, nameof(ValidateEverySteps));
        ArgumentOutOfRangeException.ThrowIfNegative(CheckpointEverySteps, nameof(CheckpointEverySteps));
        if (Threads is int t)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(t, 1, nameof(Threads));
        }

        ArgumentNullException.ThrowIfNull(Schedule, nameof(Schedule));
        Schedule.Validate();
        if (Shards < 0 || (Shards > 0 && !System.Numerics.BitOperations.IsPow2(Shards)))
        {
            throw new ArgumentException($"--shards must be a power of 2 (1, 2, 4, …); it is {Shards}.", nameof(Shards));
        }

        if (Shards > 0 && BatchSize % Shards != 0)
        {
            throw new ArgumentException($"--batch-size {BatchSize} must be a multiple of --shards {Shards}: every shard takes --batch-size / --shards rows per step.", nameof(BatchSize));
        }

        if (Communicator is { Size: > 1 } job && (Shards == 0 || Shards % job.Size != 0 || !System.Numerics.BitOperations.IsPow2(job.Size)))
        {
            throw new ArgumentException($"{job.Size} processes cannot share {Shards} shard(s): the number of processes must be a power of 2 that divides --shards.", nameof(Shards));
        }
        EarlyStopping?.Validate();
    }
}

/// <summary>Where training is, reported after every step.</summary>
/// <param name="Epoch">The epoch, from 0.</param>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="Step">The step within the epoch, from 1.</param>
/// <param name="StepsPerEpoch">Steps per epoch.</param>
/// <param name="Loss">This batch's loss.</param>
/// <param name="Accuracy">This batch's accuracy.</param>
/// <param name="LearningRate">The learning rate.</param>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, double Accuracy, double LearningRate)
{
    /// <summary>Whether this report closes an epoch (sent once per epoch, after the step reports, with the epoch's figures).</summary>
    public bool EpochEnded { get; init; }

    /// <summary>
    /// Whether this report says that training resumed from a checkpoint: sent once, before the first step, with
    /// <see cref="Epoch"/> the epoch it goes on with and <see cref="Step"/> the steps of it already done (0 at an
    /// epoch's start); the loss, accuracy and learning rate are NaN. A resumed run that had already finished sends none.
    /// </summary>
    public bool Resumed { get; init; }

    /// <summary>At an epoch's end: the mean training loss over the epoch's rows (NaN otherwise).</summary>
    public double EpochLoss { get; init; } = double.NaN;

    /// <summary>At an epoch's end: the training accuracy over the epoch's rows (NaN otherwise).</summary>
    public double EpochAccuracy { get; init; } = double.NaN;

    /// <summary>At an epoch's end: the validation loss (NaN without validation rows).</summary>
    public double ValidationLoss { get; init; } = double.NaN;

    /// <summary>At an epoch's end: the validation accuracy (NaN without validation rows).</summary>
    public double ValidationAccuracy { get; init; } = double.NaN;
}
