using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// PyTorch's <c>nn.AvgPool2d</c> over samples of C × H × W values (flat, NCHW order): the mean of each window per channel, padding counted as zeros (<c>count_include_pad=True</c>). Stride defaults
/// to the kernel; padding is at most half the kernel; the output size rounds down. No parameters.
/// </summary>
public sealed class AvgPool2d : PoolingLayer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inputShape">(C, H, W) of one sample.</param>
    /// <param name="kernel">The window.</param>
    /// <param name="stride">The step; <see langword="null"/> for the kernel.</param>
    /// <param name="padding">Padding on each side (height, width). Default: 0.</param>
    /// <exception cref="ArgumentException">A size is below 1, the padding is more than half the kernel, or the window does not fit.</exception>
    public AvgPool2d((int Channels, int Height, int Width) inputShape, (int Height, int Width) kernel, (int Height, int Width)? stride = null, (int Height, int Width) padding = default)
        : base(Pooling.Check(inputShape.Channels, inputShape.Height, inputShape.Width, kernel, stride ?? kernel, padding, "AvgPool2d"), max: false, "avgpool2d", oneDimensional: false)
    {
    }

    /// <summary>The shape of one output sample.</summary>
    public (int Channels, int Height, int Width) OutputShape => (Core.Geometry.Channels, Core.Geometry.OutHeight, Core.Geometry.OutWidth);

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
