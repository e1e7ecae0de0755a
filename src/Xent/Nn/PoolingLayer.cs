using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// What the pooling layers (<see cref="MaxPool1d"/>, <see cref="MaxPool2d"/>, <see cref="AvgPool1d"/>,
/// <see cref="AvgPool2d"/>) share: a window over each channel of a flat NCHW sample, no parameters, and a stored
/// description of the window. Each layer adds its constructor and its kind.
/// </summary>
public abstract class PoolingLayer : Module
{
    private readonly string _kind;
    private readonly bool _oneDimensional;

    private protected PoolingLayer(ConvGeometry geometry, bool max, string kind, bool oneDimensional)
    {
        Core = new Pooling(geometry, max);
        _kind = kind;
        _oneDimensional = oneDimensional;
    }

    /// <inheritdoc />
    public override int InputFeatures => Core.InputFeatures;

    /// <inheritdoc />
    public override int OutputFeatures => Core.OutputFeatures;

    /// <inheritdoc />
    public override LayerSpec Spec
    {
        get
        {
            ConvGeometry g = Core.Geometry;
            int[] kernel = _oneDimensional ? [g.KernelWidth] : [g.KernelHeight, g.KernelWidth];
            int[] stride = _oneDimensional ? [g.StrideWidth] : [g.StrideHeight, g.StrideWidth];
            int[] padding = _oneDimensional ? [g.PadWidth] : [g.PadHeight, g.PadWidth];
            return new(_kind, InputFeatures, OutputFeatures)
            {
                Shape = _oneDimensional ? [g.Channels, g.Width] : [g.Channels, g.Height, g.Width],
                Kernel = kernel,
                Stride = stride.SequenceEqual(kernel) ? null : stride,
                Padding = padding.All(p => p == 0) ? null : padding,
            };
        }
    }

    /// <summary>The pooling arithmetic (also run by a convolution that pools its own output, see <see cref="Sequential"/>).</summary>
    internal Pooling Core { get; }

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        Core.Forward(input, output, batch);
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
        => Core.Backward(outputGradient, inputGradient, batch);
}
