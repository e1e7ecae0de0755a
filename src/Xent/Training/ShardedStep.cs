using System.Runtime.InteropServices;
using Xent.Data;
using Xent.Distributed;
using Xent.Losses;
using Xent.Nn;

namespace Xent.Training;

/// <summary>
/// The gradient of one global batch of sharded training (<see cref="TrainerOptions.Shards"/>): each of this rank's
/// micro-shards runs forward and backward on its own rows into its own gradient buffer, the buffers are added by the
/// fixed tree of <see cref="TreeSum"/> across the job (the bits of <see cref="TreeSum.AllReduce(ICommunicator, Span{float}, int, Span{float})"/>,
/// with the shards' loss parts carried in the same all-gather), and the total is left in the parameters' gradients,
/// ready for the optimizer. The loss's mean divides by the whole global batch's weight, computed on every rank from the batch's
/// labels (every rank holds all of them), so each shard's gradient is already scaled by 1 ÷ that weight. The shards'
/// loss sums and correct counts are gathered and added in shard order. Every buffer is allocated once; a warm step
/// allocates nothing.
/// </summary>
internal sealed class ShardedStep
{
    private readonly Sequential _model;
    private readonly TrainingLoss _loss;
    private readonly ICommunicator _communicator;
    private readonly int _shards;
    private readonly int _first;
    private readonly int _count;
    private readonly int _localBatch;
    private readonly int _features;
    private readonly int _classes;
    private readonly int _length;
    private readonly float[] _x;
    private readonly int[] _y;
    private readonly int[] _labels;
    private readonly float[] _outputGradient;
    private readonly float[] _local;
    private readonly float[] _send;
    private readonly float[] _gathered;
    private readonly double[] _parts;
    private readonly double[] _allParts;
    private readonly DropoutKeys _keys;
    private readonly Dropout[] _dropouts;

    /// <summary>Allocates the buffers.</summary>
    /// <param name="model">The model (its parameters' gradients receive the total).</param>
    /// <param name="loss">The loss.</param>
    /// <param name="communicator">The job; its size divides <paramref name="shards"/>.</param>
    /// <param name="shards">M, a power of 2.</param>
    /// <param name="localBatch">Rows per shard per step (the global batch ÷ M).</param>
    /// <param name="features">Input features.</param>
    /// <param name="seed">The run's seed, which keys the dropout masks.</param>
    public ShardedStep(Sequential model, TrainingLoss loss, ICommunicator communicator, int shards, int localBatch, int features, ulong seed = 0)
    {
        (_model, _loss, _communicator, _shards, _localBatch, _features) = (model, loss, communicator, shards, localBatch, features);
        (_first, _count) = TreeSum.LocalShards(shards, communicator.Rank, communicator.Size);
        if (communicator.Size > 1)
        {
            InstructionSets.CheckAlike(communicator);
        }

        _classes = model.OutputFeatures;
        long length = model.Parameters.Sum(p => (long)p.Gradient.Length);
        if ((length + (4L * _count)) * Math.Max(_count, communicator.Size) > Array.MaxLength)
        {
            throw new ArgumentException($"{Math.Max(_count, communicator.Size)} gradient buffers of {length} parameters are larger than an array can hold; use fewer --shards per process.", nameof(shards));
        }

        _length = (int)length;
        _x = new float[localBatch * features];
        _y = new int[localBatch];
        _labels = new int[localBatch * shards];
        _outputGradient = new float[localBatch * _classes];
        _local = new float[_count * _length];

        // What a rank sends per step: its subtree sum, then its shards' loss parts (two doubles a shard, as their bits).
        _send = new float[_length + (4 * _count)];
        _gathered = new float[communicator.Size * _send.Length];
        _parts = new double[2 * _count];
        _allParts = new double[2 * shards];

        // Dropout masks keyed by (seed, layer, global step, global row), so that a row gets its mask wherever it runs.
        _keys = new DropoutKeys(seed, localBatch);
        _dropouts = [.. Dropouts(model)];
        for (int i = 0; i < _dropouts.Length; i++)
        {
            (_dropouts[i].Keys, _dropouts[i].KeyLayer) = (_keys, i);
        }
    }

    /// <summary>Gives the model's dropout layers back their unkeyed masks.</summary>
    public void Detach()
    {
        foreach (Dropout d in _dropouts)
        {
            d.Keys = null;
        }
    }

    /// <summary>
    /// Computes step <paramref name="step"/> of an epoch whose order is <paramref name="order"/> (partition by
    /// partition, as <see cref="BatchOrder.ForEpoch(int, int, ulong, int)"/> gives it) and leaves the global batch's mean
    /// gradient in the model's parameters.
    /// </summary>
    /// <param name="train">The training rows: every label, and at least the features of this rank's partitions.</param>
    /// <param name="order">The epoch's order.</param>
    /// <param name="step">The step within the epoch.</param>
    /// <param name="globalStep">Steps taken before this one since the start (keys the dropout masks).</param>
    /// <returns>The global batch's mean loss, its correct predictions and its rows.</returns>
    public (double Loss, int Correct, int Rows) Run(ITrainingRows train, ReadOnlySpan<int> order, int step, long globalStep = 0)
    {
        int n = train.Count, d = _features, classes = _classes, b = _localBatch;

        // The whole global batch's labels, shard by shard: every rank computes the same denominator.
        int rows = 0;
        for (int p = 0; p < _shards; p++)
        {
            ReadOnlySpan<int> shard = Rows(order, n, p, step);
            for (int i = 0; i < shard.Length; i++)
            {
                _labels[rows++] = train.Labels[shard[i]];
            }
        }

        double denominator = _loss.Denominator(_labels.AsSpan(0, rows), classes);
        double scale = 1 / denominator;
        IReadOnlyList<Parameter> parameters = _model.Parameters;
        for (int s = 0; s < _count; s++)
        {
            ReadOnlySpan<int> shard = Rows(order, n, _first + s, step);
            Span<float> slot = _local.AsSpan(s * _length, _length);
            int m = shard.Length;
            if (m == 0)
            {
                slot.Clear();
                _parts[2 * s] = _parts[(2 * s) + 1] = 0;
                continue;
            }

            for (int i = 0; i < m; i++)
            {
                train.CopyRow(shard[i], _x.AsSpan(i * d, d));
                _y[i] = train.Labels[shard[i]];
            }

            _keys.Step = globalStep;
            _keys.SetRows(shard);
            _model.ZeroGradients();
            ReadOnlySpan<float> output = _model.Forward(_x.AsSpan(0, m * d), m, training: true);
            Span<float> gradient = _outputGradient.AsSpan(0, m * classes);
            LossResult r = _loss.ComputePart(output, _y.AsSpan(0, m), classes, gradient, scale);
            _parts[2 * s] = r.WeightedSum;
            _parts[(2 * s) + 1] = Trainer.CountCorrect(output, _y.AsSpan(0, m), classes);
            _model.Backward(gradient);
            int offset = 0;
            for (int j = 0; j < parameters.Count; j++)
            {
                float[] g = parameters[j].Gradient;
                g.CopyTo(slot.Slice(offset, g.Length));
                offset += g.Length;
            }
        }

        // One all-gather per step: every rank's subtree sum with its loss parts. The parts are copied out as bits, then
        // the top of the tree is added over the whole blocks (the parts' tails become meaningless; the gradient
        // elements get the additions of TreeSum.AllReduce, element by element).
        TreeSum.SumInPlace(_local, _count).CopyTo(_send);
        MemoryMarshal.AsBytes(_parts.AsSpan()).CopyTo(MemoryMarshal.AsBytes(_send.AsSpan(_length)));
        _communicator.AllGather(_send, _gathered);
        int block = _send.Length;
        for (int r = 0; r < _communicator.Size; r++)
        {
            MemoryMarshal.AsBytes(_gathered.AsSpan((r * block) + _length, 4 * _count)).CopyTo(MemoryMarshal.AsBytes(_allParts.AsSpan(r * 2 * _count, 2 * _count)));
        }

        Span<float> total = TreeSum.SumInPlace(_gathered, _communicator.Size)[.._length];
        int at = 0;
        for (int j = 0; j < parameters.Count; j++)
        {
            float[] g = parameters[j].Gradient;
            total.Slice(at, g.Length).CopyTo(g);
            at += g.Length;
        }

        double lossSum = 0, correct = 0;
        for (int p = 0; p < _shards; p++)
        {
            lossSum += _allParts[2 * p];
            correct += _allParts[(2 * p) + 1];
        }

        return (lossSum / denominator, (int)correct, rows);

        ReadOnlySpan<int> Rows(ReadOnlySpan<int> order, int n, int p, int step)
        {
            int size = BatchOrder.PartitionSize(n, _shards, p);
            int from = Math.Min(size, step * b), to = Math.Min(size, from + b);
            return order.Slice(BatchOrder.PartitionStart(n, _shards, p) + from, to - from);
        }
    }

    private static IEnumerable<Dropout> Dropouts(Module module) => module switch
    {
        Dropout d => [d],
        Sequential s => s.Layers.SelectMany(Dropouts),
        _ => [],
    };
}
