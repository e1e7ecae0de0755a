namespace Xent.Nn;

/// <summary>
/// What <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/> share: the parameters and buffers, the stored
/// description, and the forward and backward of <see cref="BatchNormalization"/> over C channels of S positions. Each
/// layer adds the input shapes it accepts and its kind.
/// </summary>
public abstract class BatchNormLayer : Module
{
    private readonly BatchNormalization _core;
    private readonly int[] _shape;
    private readonly string _kind;

    private protected BatchNormLayer(int[] inputShape, string layer, string kind)
    {
        _shape = [.. inputShape];
        _kind = kind;
        _core = new BatchNormalization(inputShape[0], LayerShapes.Size(inputShape) / inputShape[0], layer);
    }

    /// <summary>Channels.</summary>
    public int Channels => _core.Channels;

    /// <summary>γ, [C].</summary>
    public Parameter Weight => _core.Weight;

    /// <summary>β, [C].</summary>
    public Parameter Bias => _core.Bias;

    /// <summary>The running mean, [C] (a buffer).</summary>
    public Parameter RunningMean => _core.RunningMean;

    /// <summary>The running variance, [C] (a buffer).</summary>
    public Parameter RunningVar => _core.RunningVar;

    /// <summary>Training batches seen, a scalar stored as int64 (a buffer).</summary>
    public Parameter BatchesTracked => _core.BatchesTracked;

    /// <inheritdoc />
    public override int InputFeatures => _core.Channels * _core.Positions;

    /// <inheritdoc />
    public override int OutputFeatures => InputFeatures;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Parameters => _core.Parameters;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Buffers => _core.Buffers;

    /// <inheritdoc />
    public override LayerSpec Spec => new(_kind, InputFeatures, OutputFeatures) { Shape = [.. _shape] };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Training on a batch with a single value per channel (PyTorch refuses it too).</exception>
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        _core.Forward(input, output, batch, training);
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
        => _core.Backward(input, outputGradient, inputGradient, batch);
}
