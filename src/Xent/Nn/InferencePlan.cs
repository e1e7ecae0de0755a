using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// A <see cref="Sequential"/> run for inference with the weights of its top-level <see cref="Linear"/> layers packed
/// once (<see cref="Sgemm.MultiplyPacked"/>), each bias and a ReLU that follows fused into the product, and dropout
/// (the identity when evaluating) skipped; every other layer runs its own forward. The result equals
/// <see cref="Sequential.Forward(ReadOnlySpan{float}, int, bool)"/> with training off, bit for bit, on batches larger
/// than <see cref="Linear.SmallBatch"/> (on smaller ones the layer's dot products round differently).
/// </summary>
/// <remarks>
/// The packed weights (<see cref="Pack"/>) are a snapshot, shared by every plan built from them: pack again after the
/// weights change. A plan holds the buffers of one call at a time, like the model it wraps.
/// </remarks>
internal sealed class InferencePlan
{
    private readonly Module[] _layers;
    private readonly PackedLinear?[] _packed;
    private readonly int _width;
    private float[] _even = [];
    private float[] _odd = [];
    private int _capacity;

    /// <summary>Builds a plan over <paramref name="model"/>'s layers (used for the layers that are not packed).</summary>
    /// <param name="model">The model; its layers must be those <paramref name="packed"/> was made from, or copies.</param>
    /// <param name="packed">From <see cref="Pack"/>.</param>
    public InferencePlan(Sequential model, PackedLinear?[] packed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(packed);
        _layers = [.. model.Layers];
        if (packed.Length != _layers.Length)
        {
            throw new ArgumentException($"The packed weights are for {packed.Length} layers; the model has {_layers.Length}.", nameof(packed));
        }

        _packed = packed;
        _width = _layers.Max(l => l.OutputFeatures);
        InputFeatures = model.InputFeatures;
        OutputFeatures = model.OutputFeatures;
    }

    /// <summary>Features per sample going in.</summary>
    public int InputFeatures { get; }

    /// <summary>Features per sample coming out.</summary>
    public int OutputFeatures { get; }

    /// <summary>The multiply-adds of the packed layers per sample, times two: what decides whether a batch is worth splitting across threads.</summary>
    public long FlopsPerRow => _packed.Sum(p => p is null ? 0L : 2L * p.Weight.K * p.Weight.N);

    /// <summary>Packs the weights of the model's top-level linear layers (a snapshot: the model's later changes are not seen).</summary>
    /// <param name="model">The model.</param>
    /// <returns>One entry per layer: the packed weight and a copy of the bias of a linear layer, <see langword="null"/> for any other.</returns>
    public static PackedLinear?[] Pack(Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var packed = new PackedLinear?[model.Layers.Count];
        for (int i = 0; i < packed.Length; i++)
        {
            if (model.Layers[i] is Linear linear)
            {
                packed[i] = new PackedLinear(
                    PackedMatrix.Pack(Transpose.Yes, linear.InputFeatures, linear.OutputFeatures, linear.Weight.Value, linear.InputFeatures),
                    [.. linear.Bias.Value]);
            }
        }

        return packed;
    }

    /// <summary>Runs a batch forward (training off) and returns the last layer's output, valid until the next call.</summary>
    /// <param name="input">(batch, <see cref="InputFeatures"/>).</param>
    /// <param name="batch">Samples.</param>
    /// <returns>(batch, <see cref="OutputFeatures"/>).</returns>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if (input.Length != (long)batch * InputFeatures)
        {
            throw new ArgumentException($"The input holds {input.Length} values; a batch of {batch} × {InputFeatures} features needs {(long)batch * InputFeatures}.", nameof(input));
        }

        if (batch > _capacity)
        {
            _even = new float[batch * _width];
            _odd = new float[batch * _width];
            _capacity = batch;
        }

        ReadOnlySpan<float> x = input;
        bool even = true;
        for (int i = 0; i < _layers.Length; i++)
        {
            Module layer = _layers[i];
            if (layer is Dropout)
            {
                continue;
            }

            Span<float> y = (even ? _even : _odd).AsSpan(0, batch * layer.OutputFeatures);
            if (_packed[i] is { } linear)
            {
                bool relu = i + 1 < _layers.Length && _layers[i + 1] is ReLU;
                Sgemm.MultiplyPacked(batch, x, layer.InputFeatures, linear.Weight, linear.Bias, relu, y, layer.OutputFeatures);
                if (relu)
                {
                    i++;
                }
            }
            else
            {
                layer.Forward(x, y, batch, training: false);
            }

            x = y;
            even = !even;
        }

        return x;
    }
}

/// <summary>A linear layer's weight, packed, and a copy of its bias.</summary>
/// <param name="Weight">Wᵀ packed (k = in, n = out).</param>
/// <param name="Bias">b.</param>
internal sealed record PackedLinear(PackedMatrix Weight, float[] Bias);
