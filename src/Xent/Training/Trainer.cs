using System.Numerics.Tensors;
using System.Text.Json;
using Xent.Data;
using Xent.Distributed;
using Xent.Kernels;
using Xent.Losses;
using Xent.Nn;
using Xent.Optim;

namespace Xent.Training;

/// <summary>The outcome of <see cref="Trainer.Fit"/>.</summary>
/// <param name="History">Per-batch and per-epoch records.</param>
/// <param name="StoppedEarly">Whether early stopping ended training.</param>
/// <param name="BestEpoch">The epoch whose weights the model holds when early stopping is on (else the last).</param>
/// <param name="Resumed">Whether training continued from a checkpoint.</param>
/// <remarks>The history holds every epoch and a bounded selection of steps (see <see cref="TrainingHistory"/>); the complete per-step log is history.csv in <see cref="TrainerOptions.HistoryDirectory"/>.</remarks>
public sealed record TrainingResult(TrainingHistory History, bool StoppedEarly, int BestEpoch, bool Resumed)
{
    /// <summary>Where a resumed run took up: the epoch (0-based) and the step within it that its checkpoint had reached; 0 when not resumed.</summary>
    public (int Epoch, int Step) ResumedAt { get; init; }

    /// <summary>Whether the checkpoint a resumed run started from was of a run that had already finished (nothing was left to train).</summary>
    public bool ResumedFinished { get; init; }
}

/// <summary>
/// Trains a model with mini-batch gradient descent: seeded batch order, any Xent loss, a validation split, history
/// per mini-batch and per epoch, early stopping, and checkpoints that resume bit-identically. With the same seed the
/// result is bit-identical across runs and thread counts.
/// </summary>
public static class Trainer
{
    /// <summary>Trains.</summary>
    /// <param name="model">The model (its output size is the class count).</param>
    /// <param name="optimizer">The optimizer over the model's parameters; its learning rate is the schedule's base rate.</param>
    /// <param name="loss">The training loss.</param>
    /// <param name="train">The training rows (already standardised).</param>
    /// <param name="validation">The validation rows, or <see langword="null"/>.</param>
    /// <param name="options">How to train.</param>
    /// <param name="progress">Receives a report after every step, or <see langword="null"/>.</param>
    /// <param name="resume">Continue from <see cref="TrainerOptions.CheckpointPath"/> when that file exists.</param>
    /// <param name="cancellationToken">Stops between steps, with an <see cref="OperationCanceledException"/>; with a checkpoint path, a checkpoint of the last step is written first, so that a resume goes on from there.</param>
    /// <returns>The result; the model holds the final (or, with early stopping, the best) weights.</returns>
    /// <exception cref="ArgumentException">The data do not fit the model, or the options are invalid.</exception>
    /// <exception cref="InvalidDataException">The checkpoint is corrupt or was made with other settings or data (the message names the first setting that differs).</exception>
    /// <exception cref="TrainingDivergedException">The loss or its gradient became NaN or infinite; the last checkpoint written is kept.</exception>
    public static TrainingResult Fit(
        Sequential model, Optimizer optimizer, TrainingLoss loss, Dataset train, Dataset? validation, TrainerOptions options,
        IProgress<TrainingProgress>? progress = null, bool resume = false, CancellationToken cancellationToken = default)
        => FitRows(model, optimizer, loss, train, validation, options, progress, resume, cancellationToken);

    /// <summary>
    /// <see cref="Fit(Sequential, Optimizer, TrainingLoss, Dataset, Dataset?, TrainerOptions, IProgress{TrainingProgress}?, bool, CancellationToken)"/>
    /// on training rows that are a whole <see cref="Dataset"/> or, for sharded training, only this rank's partitions
    /// (<see cref="PartitionedRows"/>, which must be the partitions the options give this rank).
    /// </summary>
    internal static TrainingResult FitRows(
        Sequential model, Optimizer optimizer, TrainingLoss loss, ITrainingRows train, ITrainingRows? validation, TrainerOptions options,
        IProgress<TrainingProgress>? progress = null, bool resume = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int classes = model.OutputFeatures, d = train.FeatureCount;
        if (d != model.InputFeatures || train.ClassCount != classes)
        {
            throw new ArgumentException($"The data have {d} features and {train.ClassCount} classes; the model maps {model.InputFeatures} inputs to {classes} outputs.", nameof(train));
        }

        if (validation is not null && (validation.FeatureCount != d || validation.ClassCount != classes))
        {
            throw new ArgumentException($"The validation data have {validation.FeatureCount} features and {validation.ClassCount} classes; the model maps {d} inputs to {classes} outputs.", nameof(validation));
        }

        if (train.Count == 0)
        {
            throw new ArgumentException("The training split is empty.", nameof(train));
        }

        if (options.DropLast && train.Count < options.BatchSize)
        {
            throw new ArgumentException($"With drop-last, the {train.Count} training rows do not fill one batch of {options.BatchSize}; use a smaller --batch-size.", nameof(options));
        }

        CheckBatchNormBatches(model, train.Count, options);
        long batch = Math.Min(options.BatchSize, train.Count);
        if (batch * Math.Max(d, classes) > Array.MaxLength)
        {
            throw new ArgumentException($"A batch of {batch} rows × {Math.Max(d, classes)} values is larger than an array can hold; use a smaller --batch-size.", nameof(options));
        }

        if (options.Shards > 0)
        {
            CheckShardable(model);
        }

        if (train is PartitionedRows held)
        {
            ICommunicator job = options.Communicator ?? SingleProcess.Instance;
            (int first, int count) = options.Shards > 0 ? TreeSum.LocalShards(options.Shards, job.Rank, job.Size) : (0, 1);
            if (held.Partitions != Math.Max(1, options.Shards) || held.First != first || held.Owned != count)
            {
                throw new ArgumentException($"The training rows hold partitions {held.First} to {held.First + held.Owned - 1} of {held.Partitions}, but rank {job.Rank} of {job.Size} trains shards {first} to {first + count - 1} of {options.Shards}; encode the rows for this rank's shards.", nameof(train));
            }
        }

        if (options.Threads is int threads)
        {
            Parallelism.MaxDegree = threads;
        }

        using var run = new TrainingRun(model, optimizer, loss, train, validation, options, progress, cancellationToken);
        return run.Execute(resume);
    }

    /// <summary>The settings that decide a run's result and that a resume must match, in the order they are compared.</summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">The optimizer (its learning rate is taken as the base rate).</param>
    /// <param name="loss">The loss.</param>
    /// <param name="train">The training rows.</param>
    /// <param name="validation">The validation rows, or null.</param>
    /// <param name="options">The trainer's options (<see cref="TrainerOptions.Settings"/> is included before the data).</param>
    /// <returns>The settings.</returns>
    public static RunSettings Settings(Sequential model, Optimizer optimizer, TrainingLoss loss, Dataset train, Dataset? validation, TrainerOptions options)
        => Settings(model, optimizer, loss, (ITrainingRows)train, (ITrainingRows?)validation, options);

    /// <summary>The settings of <see cref="Settings(Sequential, Optimizer, TrainingLoss, Dataset, Dataset?, TrainerOptions)"/>, with the digest of the whole training split however much of it this process holds.</summary>
    internal static RunSettings Settings(Sequential model, Optimizer optimizer, TrainingLoss loss, ITrainingRows train, ITrainingRows? validation, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        return new RunSettings()
            .Add("architecture", JsonSerializer.Serialize(model.Spec, JsonOptions.Compact))
            .Add("optimizer.kind", optimizer.Name)
            .AddRecord("optimizer", optimizer.HyperParameters)
            .Add("learning_rate", optimizer.LearningRate)
            .Add("loss", loss.Loss.ToString())
            .Add("loss.class_weights", loss.Weight)
            .Add("loss.z_loss", loss.ZLoss)
            .Add("loss.drw_weights", loss.DeferredWeight)
            .Add("loss.drw_epoch", loss.DeferredFromEpoch)
            .Add("epochs", options.Epochs)
            .Add("batch_size", options.BatchSize)
            .Add("drop_last", options.DropLast)
            .Add("seed", options.Seed)
            .AddRange(options.Shards > 0 ? new RunSettings().Add("shards", options.Shards) : null)
            .AddRecord("schedule", options.Schedule)
            .AddRecord("early_stopping", options.EarlyStopping)
            .Add("validate_every", options.ValidateEverySteps)
            .AddRange(options.Settings)
            .Add("data.train", train.ContentHash())
            .Add("data.validation", validation?.ContentHash());
    }

    /// <summary>Validation cross-entropy (unweighted, unsmoothed) and accuracy, in evaluation mode.</summary>
    /// <param name="model">The model.</param>
    /// <param name="data">The rows.</param>
    /// <returns>Loss and accuracy.</returns>
    /// <param name="outputScale">Multiplies the outputs before the cross-entropy (LDAM's s, so that the validation loss is that of the probabilities the model predicts). Default: 1.</param>
    public static (double Loss, double Accuracy) Validate(Sequential model, Dataset data, double outputScale = 1)
        => Validate(model, (ITrainingRows)data, outputScale);

    /// <summary>
    /// <see cref="Validate(Sequential, Dataset, double)"/> on rows held in any form (an image table's rows are
    /// encoded a block at a time).
    /// </summary>
    internal static (double Loss, double Accuracy) Validate(Sequential model, ITrainingRows data, double outputScale = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        const int chunk = 512;
        int classes = model.OutputFeatures;
        double lossSum = 0;
        long correct = 0;
        float[]? block = null;
        for (int start = 0; start < data.Count; start += chunk)
        {
            int m = Math.Min(chunk, data.Count - start);
            ReadOnlySpan<float> output = model.Forward(RowBlock.Get(data, start, m, ref block), m, training: false);
            ReadOnlySpan<int> y = data.Labels.AsSpan(start, m);
            // Cross-entropy of log-probabilities equals their NLL, so this is the log loss for either kind of model.
            if (outputScale != 1)
            {
                float[] scaled = System.Buffers.ArrayPool<float>.Shared.Rent(output.Length);
                TensorPrimitives.Multiply(output, (float)outputScale, scaled.AsSpan(0, output.Length));
                lossSum += CrossEntropy.Compute(new ReadOnlyTensorSpan<float>(scaled.AsSpan(0, output.Length), [m, classes], default), new ReadOnlyTensorSpan<int>(y, [m]), SumOptions).Value;
                System.Buffers.ArrayPool<float>.Shared.Return(scaled);
            }
            else
            {
                lossSum += CrossEntropy.Compute(new ReadOnlyTensorSpan<float>(output, [m, classes]), new ReadOnlyTensorSpan<int>(y, [m]), SumOptions).Value;
            }

            correct += CountCorrect(output, y, classes);
        }

        return data.Count == 0 ? (double.NaN, double.NaN) : (lossSum / data.Count, (double)correct / data.Count);
    }

    /// <summary>
    /// Refuses, for sharded training, a model whose training step couples the rows of a batch: batch normalisation (its
    /// statistics would be each shard's, not the global batch's), and dropout inside a segment head (its rows are
    /// segments, which have no global row index to key their masks by).
    /// </summary>
    private static void CheckShardable(Module model)
    {
        foreach ((Module layer, bool segment, int index) in Leaves(model, false).Select((l, i) => (l.Layer, l.Segment, i)))
        {
            string? why = layer switch
            {
                Dropout { Probability: > 0 } when segment => "dropout inside a segment head (its masks are keyed by global row, and segments are not rows)",
                BatchNormLayer => "batch normalisation (its statistics would be each shard's, not the global batch's, and are not yet reduced across shards)",
                _ => null,
            };
            if (why is not null)
            {
                throw new ArgumentException($"--shards: layer {index + 1} of the model is {why}; sharded training does not support it yet. Train without --shards, or without that layer.", "options");
            }
        }
    }

    /// <summary>
    /// Refuses, before the first step, batches that batch normalisation cannot train on: one value per channel (a
    /// batch of one row into a BatchNorm1d), which would otherwise fail at the epoch's last batch.
    /// </summary>
    private static void CheckBatchNormBatches(Module model, int rows, TrainerOptions options)
    {
        int full = Math.Min(options.BatchSize, rows), rest = rows % options.BatchSize;
        int smallest = options.DropLast || rest == 0 ? full : Math.Min(full, rest);
        foreach ((Module layer, int index) in Leaves(model, false).Select((l, i) => (l.Layer, i)))
        {
            if (layer is BatchNormLayer norm && (long)smallest * (norm.InputFeatures / norm.Channels) < 2)
            {
                (string why, string fix) = full == 1
                    ? (rows == 1 ? "the training split holds 1 row" : $"--batch-size {options.BatchSize} gives batches of 1 row", rows == 1 ? "train on more rows" : "use a --batch-size of 2 or more")
                    : ($"the last batch of each epoch holds 1 row ({rows} training rows in batches of {options.BatchSize})", "use --drop-last or another --batch-size");
                throw new ArgumentException($"Layer {index + 1} of the model ({norm.Spec.Kind}) normalises each channel over the batch, which takes at least 2 values per channel, but {why}: {fix}.", nameof(options));
            }
        }
    }

    private static IEnumerable<(Module Layer, bool Segment)> Leaves(Module module, bool segment) => module switch
    {
        Sequential s => s.Layers.SelectMany(l => Leaves(l, segment)),
        SegmentHead h => Leaves(h.Inner, true),
        _ => [(module, segment)],
    };

    private static readonly CrossEntropyOptions SumOptions = new() { Reduction = Reduction.Sum };

    internal static int CountCorrect(ReadOnlySpan<float> output, ReadOnlySpan<int> y, int classes)
    {
        int correct = 0;
        for (int i = 0; i < y.Length; i++)
        {
            if (TensorPrimitives.IndexOfMax(output.Slice(i * classes, classes)) == y[i])
            {
                correct++;
            }
        }

        return correct;
    }
}
