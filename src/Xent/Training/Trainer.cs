using System.Numerics.Tensors;
using System.Text.Json;
using Xent.Data;
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
public sealed record TrainingResult(TrainingHistory History, bool StoppedEarly, int BestEpoch, bool Resumed);

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
    /// <param name="cancellationToken">Stops between steps.</param>
    /// <returns>The result; the model holds the final (or, with early stopping, the best) weights.</returns>
    /// <exception cref="ArgumentException">The data do not fit the model, or the options are invalid.</exception>
    /// <exception cref="InvalidDataException">The checkpoint is corrupt or was made with other settings.</exception>
    public static TrainingResult Fit(
        Sequential model, Optimizer optimizer, TrainingLoss loss, Dataset train, Dataset? validation, TrainerOptions options,
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

        if (train.Count == 0)
        {
            throw new ArgumentException("The training split is empty.", nameof(train));
        }

        if (options.Threads is int threads)
        {
            Parallelism.MaxDegree = threads;
        }

        double baseRate = optimizer.LearningRate;
        string fingerprint = Fingerprint(model, optimizer, loss, train, validation, options, baseRate);
        var history = new TrainingHistory();
        int startEpoch = 0, startStep = 0;
        long globalStep = 0;
        double bestValue = double.NaN;
        int bestEpoch = -1, badEpochs = 0;
        float[][]? best = null;
        double epochLossSum = 0, epochCorrect = 0;
        long epochRows = 0;
        bool resumed = false;
        XentRandom? dropoutRandom = DropoutRandom(model);
        if (resume && options.CheckpointPath is { } cp && File.Exists(cp))
        {
            CheckpointState s = Checkpoint.Load(cp, model, optimizer, out best);
            if (s.Fingerprint != fingerprint)
            {
                throw new InvalidDataException($"{Path.GetFileName(cp)}: the checkpoint was made with other settings or data; resume with the same options, or start afresh without --resume.");
            }

            history = TrainingHistory.Deserialize(s.History);
            (startEpoch, startStep, globalStep) = (s.Epoch, s.Step, s.GlobalStep);
            (bestValue, bestEpoch, badEpochs) = (s.BestValue, s.BestEpoch, s.BadEpochs);
            (epochLossSum, epochCorrect, epochRows) = (s.EpochLossSum, s.EpochCorrect, s.EpochRows);
            if (s.DropoutState is { } ds)
            {
                SetDropoutRandom(model, XentRandom.FromState(ds));
                dropoutRandom = DropoutRandom(model);
            }

            resumed = true;
            if (s.Finished)
            {
                RestoreBest(model, best, options);
                return new TrainingResult(history, bestEpoch >= 0 && options.EarlyStopping is not null && history.Epochs.Count < options.Epochs, bestEpoch, true);
            }
        }

        int n = train.Count, batchSize = Math.Min(options.BatchSize, n);
        int stepsPerEpoch = BatchOrder.BatchCount(n, batchSize);
        int[] rows = [.. Enumerable.Range(0, n)];
        var x = new float[batchSize * d];
        var y = new int[batchSize];
        var gradient = new float[batchSize * classes];
        bool stoppedEarly = false;

        void SaveCheckpoint(int epoch, int step, bool finished) => Checkpoint.Save(options.CheckpointPath!, model, optimizer, best, new CheckpointState
        {
            Epoch = epoch, Step = step, GlobalStep = globalStep, OptimizerSteps = optimizer.Steps, DropoutState = dropoutRandom?.GetState(),
            BestValue = bestValue, BestEpoch = bestEpoch, BadEpochs = badEpochs, Finished = finished,
            EpochLossSum = epochLossSum, EpochCorrect = epochCorrect, EpochRows = epochRows,
            Fingerprint = fingerprint, History = history.Serialize(),
        });

        for (int epoch = startEpoch; epoch < options.Epochs && !stoppedEarly; epoch++)
        {
            double rate = options.Schedule.RateAt(baseRate, epoch);
            optimizer.LearningRate = rate;
            int[] order = BatchOrder.ForEpoch(rows, options.Seed, epoch);
            int firstStep = epoch == startEpoch ? startStep : 0;
            if (firstStep == 0)
            {
                (epochLossSum, epochCorrect, epochRows) = (0, 0, 0);
            }

            for (int step = firstStep; step < stepsPerEpoch; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int start = step * batchSize;
                int m = Math.Min(batchSize, n - start);
                for (int i = 0; i < m; i++)
                {
                    int row = order[start + i];
                    train.Row(row).CopyTo(x.AsSpan(i * d, d));
                    y[i] = train.Labels[row];
                }

                model.ZeroGradients();
                ReadOnlySpan<float> output = model.Forward(x.AsSpan(0, m * d), m, training: true);
                LossResult r = loss.Compute(output, y.AsSpan(0, m), classes, gradient.AsSpan(0, m * classes));
                int correct = CountCorrect(output, y.AsSpan(0, m), classes);
                model.Backward(gradient.AsSpan(0, m * classes));
                optimizer.Step();
                globalStep++;
                epochLossSum += r.Value * m;
                epochCorrect += correct;
                epochRows += m;
                double valLoss = double.NaN, valAccuracy = double.NaN;
                if (validation is not null && options.ValidateEverySteps > 0 && globalStep % options.ValidateEverySteps == 0)
                {
                    (valLoss, valAccuracy) = Validate(model, validation);
                }

                history.Batches.Add(new BatchRecord(epoch, step + 1, globalStep, r.Value, (double)correct / m, rate, valLoss, valAccuracy));
                progress?.Report(new TrainingProgress(epoch, options.Epochs, step + 1, stepsPerEpoch, r.Value, (double)correct / m, rate));
                if (options.CheckpointPath is not null && options.CheckpointEverySteps > 0 && globalStep % options.CheckpointEverySteps == 0 && step + 1 < stepsPerEpoch)
                {
                    SaveCheckpoint(epoch, step + 1, finished: false);
                }
            }

            (double epochValLoss, double epochValAccuracy) = validation is null ? (double.NaN, double.NaN) : Validate(model, validation);
            history.Epochs.Add(new EpochRecord(epoch, epochLossSum / epochRows, epochCorrect / epochRows, epochValLoss, epochValAccuracy, rate));
            if (options.EarlyStopping is { } es && validation is not null)
            {
                double value = es.Metric == "val_loss" ? epochValLoss : epochValAccuracy;
                bool improved = double.IsNaN(bestValue) || (es.Maximise ? value > bestValue + es.MinDelta : value < bestValue - es.MinDelta);
                if (improved)
                {
                    (bestValue, bestEpoch, badEpochs) = (value, epoch, 0);
                    best = [.. model.Parameters.Select(p => (float[])p.Value.Clone())];
                }
                else if (++badEpochs >= es.Patience)
                {
                    stoppedEarly = true;
                }
            }
            else
            {
                bestEpoch = epoch;
            }

            if (options.CheckpointPath is not null)
            {
                bool finished = stoppedEarly || epoch + 1 == options.Epochs;
                (epochLossSum, epochCorrect, epochRows) = (0, 0, 0);
                SaveCheckpoint(epoch + 1, 0, finished);
            }
        }

        RestoreBest(model, best, options);
        return new TrainingResult(history, stoppedEarly, bestEpoch, resumed);
    }

    /// <summary>Validation cross-entropy (unweighted, unsmoothed) and accuracy, in evaluation mode.</summary>
    /// <param name="model">The model.</param>
    /// <param name="data">The rows.</param>
    /// <returns>Loss and accuracy.</returns>
    public static (double Loss, double Accuracy) Validate(Sequential model, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        const int chunk = 512;
        int d = data.FeatureCount, classes = model.OutputFeatures;
        double lossSum = 0;
        long correct = 0;
        for (int start = 0; start < data.Count; start += chunk)
        {
            int m = Math.Min(chunk, data.Count - start);
            ReadOnlySpan<float> output = model.Forward(data.Features.AsSpan(start * d, m * d), m, training: false);
            ReadOnlySpan<int> y = data.Labels.AsSpan(start, m);
            // Cross-entropy of log-probabilities equals their NLL, so this is the log loss for either kind of model.
            lossSum += CrossEntropy.Compute(new ReadOnlyTensorSpan<float>(output, [m, classes]), new ReadOnlyTensorSpan<int>(y, [m]), SumOptions).Value;
            correct += CountCorrect(output, y, classes);
        }

        return data.Count == 0 ? (double.NaN, double.NaN) : (lossSum / data.Count, (double)correct / data.Count);
    }

    private static readonly CrossEntropyOptions SumOptions = new() { Reduction = Reduction.Sum };

    private static int CountCorrect(ReadOnlySpan<float> output, ReadOnlySpan<int> y, int classes)
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

    private static void RestoreBest(Sequential model, float[][]? best, TrainerOptions options)
    {
        if (best is null || options.EarlyStopping is null)
        {
            return;
        }

        for (int i = 0; i < best.Length; i++)
        {
            best[i].CopyTo(model.Parameters[i].Value, 0);
        }
    }

    private static IEnumerable<Dropout> Dropouts(Module module) => module switch
    {
        Dropout d => [d],
        Sequential s => s.Layers.SelectMany(Dropouts),
        SegmentHead h => Dropouts(h.Inner),
        _ => [],
    };

    private static XentRandom? DropoutRandom(Sequential model) => Dropouts(model).FirstOrDefault()?.Random;

    private static void SetDropoutRandom(Sequential model, XentRandom random)
    {
        foreach (Dropout d in Dropouts(model))
        {
            d.Random = random;
        }
    }

    private static string Fingerprint(Sequential model, Optimizer optimizer, TrainingLoss loss, Dataset train, Dataset? validation, TrainerOptions o, double baseRate)
        => JsonSerializer.Serialize(new
        {
            architecture = JsonSerializer.Serialize(model.Spec, JsonOptions.Compact),
            optimizer = optimizer.GetType().Name,
            baseRate,
            loss = loss.Kind.ToString(),
            weight = loss.Weight,
            smoothing = loss.LabelSmoothing,
            rows = train.Count,
            validationRows = validation?.Count ?? 0,
            o.Epochs,
            o.BatchSize,
            o.Seed,
            schedule = o.Schedule.ToString(),
            early = o.EarlyStopping?.ToString(),
            o.ValidateEverySteps,
        });
}
