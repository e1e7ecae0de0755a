using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// PyTorch's <c>nn.AvgPool2d</c> over samples of C × H × W values (flat, NCHW order): the mean of each window per channel, padding counted as zeros (<c>count_include_pad=True</c>). Stride defaults
/// to the kernel; padding is at most half the kernel; the output size rounds down. No parameters.
/// </summary>
public sealed class AvgPool2d : Module
{
    private readonly Pooling _core;

    /// <summary>Creates the layer.</summary>
    /// <param name="inputShape">(C, H, W) of one sample.</param>
    /// <param name="kernel">The window.</param>
    /// <param name="stride">The step; <see langword="null"/> for the kernel.</param>
    /// <param name="padding">Padding on each side (height, width). Default: 0.</param>
    /// <exception cref="ArgumentException">A size is below 1, the padding is more than half the kernel, or the window does not fit.</exception>
    public AvgPool2d((int Channels, int Height, int Width) inputShape, (int Height, int Width) kernel, (int Height, int Width)? stride = null, (int Height, int Width) padding = default)
    {
        _core = new Pooling(Pooling.Check(inputShape.Channels, inputShape.Height, inputShape.Width, kernel, stride ?? kernel, padding, "AvgPool2d"), max: false);
    }

    /// <summary>The shape of one output sample.</summary>
    public (int Channels, int Height, int Width) OutputShape => (_core.Geometry.Channels, _core.Geometry.OutHeight, _core.Geometry.OutWidth);

    /// <inheritdoc />
    public override int InputFeatures => _core.InputFeatures;

    /// <inheritdoc />
    public override int OutputFeatures => _core.OutputFeatures;

    /// <inheritdoc />
    public override LayerSpec Spec
    {
        get
        {
            ConvGeometry g = _core.Geometry;
            int[] kernel = [g.KernelHeight, g.KernelWidth], stride = [g.StrideHeight, g.StrideWidth], padding = [g.PadHeight, g.PadWidth];
            return new("avgpool2d", InputFeatures, OutputFeatures)
            {
                Shape = [g.Channels, g.Height, g.Width],
                Kernel = kernel,
                Stride = stride.SequenceEqual(kernel) ? null : stride,
                Padding = padding.All(p => p == 0) ? null : padding,
            };
        }
    }

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        _core.Forward(input, output, batch);
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
        => _core.Backward(outputGradient, inputGradient, batch);

    /// <summary>The <c>avgpool2d</c> kind: <c>avgpool2d(KERNEL[, stride=KERNEL, padding=0])</c>, or <c>avgpool(…)</c> on a (C, H, W) input.</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "avgpool2d";

        public string? Alias => "avgpool";

        public bool Accepts(int rank) => rank == 3;

        public LayerShapes Check(LayerSpec spec, LayerCheck check)
        {
            int[] input = check.InputShape(spec, 3);
            ConvGeometry g = ConvSpec.PoolGeometry(spec, check, input[0], input[1], input[2], 2);
            return new(input, check.Output(spec, [input[0], g.OutHeight, g.OutWidth]));
        }

        public Module Build(LayerSpec spec, XentRandom random)
        {
            var (kernel, stride, padding) = ConvSpec.PoolWindow(spec);
            return new AvgPool2d((spec.Shape![0], spec.Shape[1], spec.Shape[2]), kernel, stride, padding);
        }

        public (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input) => ConvSpec.DescribePool(this, args, input, 3);
    }
}
