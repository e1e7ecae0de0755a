using System.Numerics.Tensors;
using Xent.Data;
using Xent.Distributed;
using Xent.Kernels;
using Xent.Losses;
using Xent.Nn;
using Xent.Optim;

namespace Xent.Training;

/// <summary>
/// One call of <see cref="Trainer.Fit"/>: the loop, split into steps, epoch ends and checkpoints. All state that the
/// loop changes lives in <see cref="TrainingState"/> (saved whole) or in the model, the optimizer and the best
/// weights (saved as tensors); the history is rebuilt from its log on resume.
/// </summary>
internal sealed class TrainingRun : IDisposable
{
    private readonly Sequential _model;
    private readonly Optimizer _optimizer;
    private readonly TrainingLoss _loss;
    private readonly ITrainingRows _train;
    private readonly ITrainingRows? _validation;
    private readonly TrainerOptions _options;
    private readonly IProgress<TrainingProgress>? _progress;
    private readonly CancellationToken _cancellation;
    private readonly double _baseRate;
    private readonly int _classes;
    private readonly int _features;
    private readonly int _batchSize;
    private readonly int _stepsPerEpoch;
    private readonly int[] _rows;
    private readonly float[] _x;
    private readonly int[] _y;
    private readonly float[] _gradient;
    private readonly string? _historyDirectory;
    private readonly ShardedStep? _sharded;
    private readonly bool _writer;
    private readonly TrainingHistory _history = new();
    private TrainingState _state = new();
    private HistoryLog? _log;
    private readonly CheckpointWriter _checkpoints = new();
    private float[][]? _best;

    public TrainingRun(Sequential model, Optimizer optimizer, TrainingLoss loss, ITrainingRows train, ITrainingRows? validation, TrainerOptions options, IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        (_model, _optimizer, _loss, _train, _validation, _options, _progress, _cancellation) = (model, optimizer, loss, train, validation, options, progress, cancellation);
        _baseRate = optimizer.LearningRate;
        _classes = model.OutputFeatures;
        _features = train.FeatureCount;
        _batchSize = Math.Min(options.BatchSize, train.Count);
        _stepsPerEpoch = options.DropLast ? train.Count / _batchSize : BatchOrder.BatchCount(train.Count, _batchSize);
        ICommunicator job = options.Communicator ?? SingleProcess.Instance;
        _writer = job.Rank == 0;
        if (options.Shards > 0)
        {
            // The global batch is --batch-size rows even when the split is smaller: each shard takes its share.
            int local = options.BatchSize / options.Shards;
            _stepsPerEpoch = BatchOrder.PartitionedBatchCount(train.Count, options.Shards, local, options.DropLast);
            if (_stepsPerEpoch == 0)
            {
                throw new ArgumentException($"With drop-last, the {train.Count} training rows in {options.Shards} shards do not fill one batch of {options.BatchSize}; use a smaller --batch-size.", nameof(options));
            }

            _sharded = new ShardedStep(model, loss, job, options.Shards, local, train.FeatureCount, options.Seed);
        }

        _rows = [.. Enumerable.Range(0, train.Count)];
        _x = new float[_batchSize * _features];
        _y = new int[_batchSize];
        _gradient = new float[_batchSize * _classes];
        // Only rank 0 writes: the other ranks keep no history log (and write no checkpoint).
        _historyDirectory = !_writer ? null : options.HistoryDirectory ?? (options.CheckpointPath is { } cp ? Path.GetDirectoryName(Path.GetFullPath(cp)) : null);
    }

    public TrainingResult Execute(bool resume)
    {
        RunSettings settings = Trainer.Settings(_model, _optimizer, _loss, _train, _validation, _options);
        bool resumed = false, resumedFinished = false;
        (int Epoch, int Step) resumedAt = default;
        if (resume && _options.CheckpointPath is { } cp && File.Exists(cp))
        {
            _state = Checkpoint.Load(cp, _model, _optimizer, settings, out _best);
            resumedAt = (_state.Epoch, _state.Step);
            resumedFinished = _state.Finished || _state.Epoch >= _options.Epochs;
            if (_state.DropoutState is { } ds)
            {
                // One state of 4 words per distinct generator, in layer order; layers that shared one share it again.
                XentRandom[] generators = DropoutGenerators();
                if (ds.Length != 4 * generators.Length)
                {
                    throw new InvalidDataException($"{Path.GetFileName(cp)}: the checkpoint holds {ds.Length / 4} dropout generator states; this model has {generators.Length}.");
                }

                var restored = new Dictionary<XentRandom, XentRandom>(ReferenceEqualityComparer.Instance);
                for (int i = 0; i < generators.Length; i++)
                {
                    restored[generators[i]] = XentRandom.FromState(ds[(4 * i)..((4 * i) + 4)]);
                }

                foreach (Dropout d in Dropouts(_model))
                {
                    d.Random = restored[d.Random];
                }
            }

            _log = _historyDirectory is null ? null : HistoryLog.Resume(_historyDirectory, _state, _history);
            resumed = true;
            if (!resumedFinished)
            {
                _progress?.Report(new TrainingProgress(_state.Epoch, _options.Epochs, _state.Step, _stepsPerEpoch, double.NaN, double.NaN, double.NaN) { Resumed = true });
            }
        }
        else
        {
            _log = _historyDirectory is null ? null : HistoryLog.Create(_historyDirectory);
        }

        try
        {
            while (!_state.Finished && _state.Epoch < _options.Epochs)
            {
                RunEpoch(settings);
            }
        }
        catch
        {
            _checkpoints.WaitQuietly();
            throw;
        }
        finally
        {
            _sharded?.Detach();
        }

        _checkpoints.Wait(); // the last checkpoint is on disk before the run returns

        _log?.Flush();
        if (_best is not null && _options.EarlyStopping is not null)
        {
            IReadOnlyList<Parameter> state = _model.StateTensors;
            for (int i = 0; i < _best.Length; i++)
            {
                _best[i].CopyTo(state[i].Value, 0);
            }
        }

        return new TrainingResult(_history, _state.StoppedEarly, _state.BestEpoch, resumed) { ResumedAt = resumedAt, ResumedFinished = resumedFinished };
    }

    public void Dispose()
    {
        _checkpoints.WaitQuietly();
        _log?.Dispose();
    }

    private void RunEpoch(RunSettings settings)
    {
        int epoch = _state.Epoch;
        double rate = _options.Schedule.RateAt(_baseRate, epoch);
        if (!double.IsFinite(rate) || rate < 0)
        {
            throw new ArgumentException($"The learning-rate schedule gives {rate} at epoch {epoch + 1}; check its factors.", "options");
        }

        _optimizer.LearningRate = rate;
        _loss.BeginEpoch(epoch);
        int[] order = _sharded is null ? BatchOrder.ForEpoch(_rows, _options.Seed, epoch) : BatchOrder.ForEpoch(_train.Count, _options.Shards, _options.Seed, epoch);
        if (_state.Step == 0)
        {
            (_state.EpochLossSum, _state.EpochCorrect, _state.EpochRows) = (0, 0, 0);
        }

        int every = _options.CheckpointEverySteps;
        while (_state.Step < _stepsPerEpoch)
        {
            if (_cancellation.IsCancellationRequested)
            {
                SaveBeforeStopping(settings);
                _cancellation.ThrowIfCancellationRequested();
            }

            TrainStep(order, epoch, rate);
            if (_writer && _options.CheckpointPath is not null && every > 0 && _state.GlobalStep % every == 0 && _state.Step < _stepsPerEpoch)
            {
                SaveCheckpoint(settings);
            }
        }

        EndEpoch(epoch, rate);
        if (_writer && _options.CheckpointPath is not null && (every == 0 || _state.Finished || _state.GlobalStep % every == 0))
        {
            SaveCheckpoint(settings);
        }
        else if (_log is not null)
        {
            WriteLogNow(); // no checkpoint to write it with: each epoch's lines reach the file as the epoch ends
        }
    }

    private void TrainStep(int[] order, int epoch, double rate)
    {
        if (_sharded is not null)
        {
            (double loss, int right, int rows) = _sharded.Run(_train, order, _state.Step, _state.GlobalStep);
            if (!double.IsFinite(loss))
            {
                throw Diverged($"the loss is {Describe(loss)}");
            }

            IReadOnlyList<Parameter> parameters = _model.Parameters;
            for (int i = 0; i < parameters.Count; i++)
            {
                if (!float.IsFinite(TensorPrimitives.Sum<float>(parameters[i].Gradient)) && !AllFinite(parameters[i].Gradient))
                {
                    throw Diverged("the gradient of the loss is not finite");
                }
            }

            _optimizer.Step();
            EndStep(epoch, rate, loss, right, rows);
            return;
        }

        int n = _train.Count, d = _features, classes = _classes;
        int start = _state.Step * _batchSize;
        int m = Math.Min(_batchSize, n - start);
        for (int i = 0; i < m; i++)
        {
            int row = order[start + i];
            _train.CopyRow(row, _x.AsSpan(i * d, d));
            _y[i] = _train.Labels[row];
        }

        _model.ZeroGradients();
        ReadOnlySpan<float> output = _model.Forward(_x.AsSpan(0, m * d), m, training: true);
        Span<float> gradient = _gradient.AsSpan(0, m * classes);
        LossResult r = _loss.Compute(output, _y.AsSpan(0, m), classes, gradient);
        if (!double.IsFinite(r.Value))
        {
            throw Diverged($"the loss is {Describe(r.Value)}");
        }

        if (!float.IsFinite(TensorPrimitives.Sum<float>(gradient)) && !AllFinite(gradient))
        {
            throw Diverged("the gradient of the loss is not finite");
        }

        int correct = Trainer.CountCorrect(output, _y.AsSpan(0, m), classes);
        _model.Backward(gradient);
        _optimizer.Step();
        EndStep(epoch, rate, r.Value, correct, m);
    }

    private void EndStep(int epoch, double rate, double loss, int correct, int m)
    {
        _state.GlobalStep++;
        _state.Step++;
        _state.EpochLossSum += loss * m;
        _state.EpochCorrect += correct;
        _state.EpochRows += m;
        double valLoss = double.NaN, valAccuracy = double.NaN;
        if (_validation is not null && _options.ValidateEverySteps > 0 && _state.GlobalStep % _options.ValidateEverySteps == 0)
        {
            (valLoss, valAccuracy) = Trainer.Validate(_model, _validation, _loss.Loss.OutputScale);
        }

        var record = new BatchRecord(epoch, _state.Step, _state.GlobalStep, loss, (double)correct / m, rate, valLoss, valAccuracy);
        _history.Add(record);
        _log?.Append(record);
        if (_log is { PendingCount: >= HistoryLog.MaxPending })
        {
            WriteLogNow();
        }

        _state.BatchRecords++;
        _progress?.Report(new TrainingProgress(epoch, _options.Epochs, _state.Step, _stepsPerEpoch, loss, (double)correct / m, rate));
    }

    private void EndEpoch(int epoch, double rate)
    {
        (double valLoss, double valAccuracy) = _validation is null ? (double.NaN, double.NaN) : Trainer.Validate(_model, _validation, _loss.Loss.OutputScale);
        var record = new EpochRecord(epoch, _state.EpochLossSum / _state.EpochRows, _state.EpochCorrect / _state.EpochRows, valLoss, valAccuracy, rate);
        _history.Epochs.Add(record);
        _log?.Append(record);
        _state.EpochRecords++;
        _progress?.Report(new TrainingProgress(epoch, _options.Epochs, _stepsPerEpoch, _stepsPerEpoch, record.Loss, record.Accuracy, rate)
        {
            EpochEnded = true, EpochLoss = record.Loss, EpochAccuracy = record.Accuracy, ValidationLoss = valLoss, ValidationAccuracy = valAccuracy,
        });
        if (_options.EarlyStopping is { } es && _validation is not null)
        {
            double value = es.Metric == "val_loss" ? valLoss : valAccuracy;
            bool improved = double.IsNaN(_state.BestValue) || (es.Maximise ? value > _state.BestValue + es.MinDelta : value < _state.BestValue - es.MinDelta);
            if (improved)
            {
                (_state.BestValue, _state.BestEpoch, _state.BadEpochs) = (value, epoch, 0);
                IReadOnlyList<Parameter> state = _model.StateTensors;
                _best ??= [.. state.Select(p => new float[p.Value.Length])];
                for (int i = 0; i < _best.Length; i++)
                {
                    state[i].Value.CopyTo(_best[i], 0);
                }
            }
            else if (++_state.BadEpochs >= es.Patience)
            {
                _state.StoppedEarly = true;
            }
        }
        else
        {
            _state.BestEpoch = epoch;
        }

        _state.Epoch = epoch + 1;
        _state.Step = 0;
        (_state.EpochLossSum, _state.EpochCorrect, _state.EpochRows) = (0, 0, 0);
        _state.Finished = _state.StoppedEarly || _state.Epoch == _options.Epochs;
        if (_state.Finished)
        {
            EnsureFiniteWeights();
        }
    }

    private void SaveCheckpoint(RunSettings settings)
    {
        EnsureFiniteWeights();

        _state.OptimizerSteps = _optimizer.Steps;
        XentRandom[] generators = DropoutGenerators();
        _state.DropoutState = generators.Length == 0 ? null : [.. generators.SelectMany(g => g.GetState())];
        _state.HasBest = _best is not null;
        // With early stopping the best weights are always written (the current ones until there is a best), so the
        // checkpoint's size does not change as training goes.
        float[][]? best = _best ?? (_options.EarlyStopping is not null ? [.. _model.StateTensors.Select(p => p.Value)] : null);
        _checkpoints.Save(_options.CheckpointPath!, _model, _optimizer, best, _state, settings, _log?.TakePending(durable: true));
    }

    /// <summary>
    /// On cancellation, between two steps: writes a checkpoint of this step (one process only; the ranks of a
    /// distributed run stop where their last checkpoint was), so that a resume goes on from here.
    /// </summary>
    private void SaveBeforeStopping(RunSettings settings)
    {
        if (_writer && _options.CheckpointPath is not null && _options.Communicator is not { Size: > 1 } && _state.GlobalStep > 0)
        {
            SaveCheckpoint(settings);
            _checkpoints.Wait();
        }
    }

    /// <summary>Writes the history log's queued lines on this thread, once the checkpoint write in flight (which may be writing the log) is done.</summary>
    private void WriteLogNow()
    {
        _checkpoints.Wait();
        _log!.Flush();
    }

    private void EnsureFiniteWeights()
    {
        foreach (Parameter p in _model.Parameters)
        {
            if (!float.IsFinite(TensorPrimitives.Sum<float>(p.Value)) && !AllFinite(p.Value))
            {
                throw Diverged($"the weights of {p.Name} are no longer finite after the update");
            }
        }
    }

    private TrainingDivergedException Diverged(string what)
    {
        // The step that failed is the one after the last completed one.
        int step = _state.Step + 1 > _stepsPerEpoch ? _stepsPerEpoch : _state.Step + 1;
        _checkpoints.WaitQuietly(); // so that the checkpoint named is the last one written
        return new TrainingDivergedException(_state.Epoch, step, _state.GlobalStep + 1, what, _options.CheckpointPath is { } cp && File.Exists(cp) ? cp : null);
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            if (!float.IsFinite(v))
            {
                return false;
            }
        }

        return true;
    }

    private static string Describe(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "+infinity" : "-infinity";

    /// <summary>The distinct dropout generators, in layer order.</summary>
    private XentRandom[] DropoutGenerators() => [.. Dropouts(_model).Select(d => d.Random).Distinct(ReferenceEqualityComparer.Instance).Cast<XentRandom>()];

    private static IEnumerable<Dropout> Dropouts(Module module) => module switch
    {
        Dropout d => [d],
        Sequential s => s.Layers.SelectMany(Dropouts),
        SegmentHead h => Dropouts(h.Inner),
        _ => [],
    };
}
