using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// PyTorch's <c>nn.AvgPool1d</c> over samples of C × L values (flat, NCHW order): the mean of each window per channel, padding counted as zeros (<c>count_include_pad=True</c>). Stride defaults
/// to the kernel; padding is at most half the kernel; the output size rounds down. No parameters.
/// </summary>
public sealed class AvgPool1d : PoolingLayer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inputShape">(C, L) of one sample.</param>
    /// <param name="kernel">The window.</param>
    /// <param name="stride">The step; <see langword="null"/> for the kernel.</param>
    /// <param name="padding">Padding on each side. Default: 0.</param>
    /// <exception cref="ArgumentException">A size is below 1, the padding is more than half the kernel, or the window does not fit.</exception>
    public AvgPool1d((int Channels, int Length) inputShape, int kernel, int? stride = null, int padding = default)
        : base(Pooling.Check(inputShape.Channels, 1, inputShape.Length, (1, kernel), (1, stride ?? kernel), (0, padding), "AvgPool1d"), max: false, "avgpool1d", oneDimensional: true)
    {
    }

    /// <summary>The shape of one output sample.</summary>
    public (int Channels, int Length) OutputShape => (Core.Geometry.Channels, Core.Geometry.OutWidth);

    /// <summary>The <c>avgpool1d</c> kind: <c>avgpool1d(KERNEL[, stride=KERNEL, padding=0])</c>, or <c>avgpool(…)</c> on a (C, L) input.</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "avgpool1d";

        public string? Alias => "avgpool";

        public bool Accepts(int rank) => rank == 2;

        public LayerShapes Check(LayerSpec spec, LayerCheck check)
        {
            int[] input = check.InputShape(spec, 2);
            ConvGeometry g = ConvSpec.PoolGeometry(spec, check, input[0], 1, input[1], 1);
            return new(input, check.Output(spec, [input[0], g.OutWidth]));
        }

        public Module Build(LayerSpec spec, XentRandom random)
        {
            var (kernel, stride, padding) = ConvSpec.PoolWindow(spec);
            return new AvgPool1d((spec.Shape![0], spec.Shape[1]), kernel.Item2, stride.Item2, padding.Item2);
        }

        public (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input) => ConvSpec.DescribePool(this, args, input, 2);
    }
}
