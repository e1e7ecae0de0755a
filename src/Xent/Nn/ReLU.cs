using System.Numerics.Tensors;

namespace Xent.Nn;

/// <summary>max(0, x), elementwise.</summary>
public sealed class ReLU : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="features">Features per sample.</param>
    public ReLU(int features)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        InputFeatures = features;
    }

    /// <inheritdoc />
    public override int InputFeatures { get; }

    /// <inheritdoc />
    public override int OutputFeatures => InputFeatures;

    /// <inheritdoc />
    public override LayerSpec Spec => new("relu", InputFeatures, OutputFeatures);

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        TensorPrimitives.Max(input, 0f, output);
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        for (int i = 0; i < inputGradient.Length; i++)
        {
            inputGradient[i] = output[i] > 0 ? outputGradient[i] : 0f;
        }
    }
}
