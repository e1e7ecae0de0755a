using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// PyTorch's <c>nn.Conv1d</c> over samples of C × L values (flat, C·L features per sample): weight [out, C, k] and
/// bias [out], initialised as PyTorch does (U(−1/√fan_in, 1/√fan_in), fan_in = C·k). Computed as a 2-D convolution of
/// height 1 (im2col and the SGEMM); no groups.
/// </summary>
public sealed class Conv1d : Module
{
    private readonly Convolution _core;

    /// <summary>The convolution arithmetic (run fused with a following ReLU and max pooling by <see cref="Sequential"/>).</summary>
    internal Convolution Core => _core;

    /// <summary>Creates the layer and initialises it from <paramref name="random"/>.</summary>
    /// <param name="inputShape">(C, L) of one sample.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernel">Kernel size.</param>
    /// <param name="random">The generator for the initial weights.</param>
    /// <param name="options">Stride, padding, dilation (their width), bias; <see langword="null"/> for PyTorch's defaults.</param>
    /// <exception cref="ArgumentException">A size is below 1 (padding below 0), or the kernel does not fit the padded input.</exception>
    public Conv1d((int Channels, int Length) inputShape, int outChannels, int kernel, XentRandom random, ConvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        options ??= new ConvOptions();
        options = options with { Stride = (1, options.Stride.Width), Padding = (0, options.Padding.Width), Dilation = (1, options.Dilation.Width) };
        Geometry = Conv2d.Check(inputShape.Channels, 1, inputShape.Length, outChannels, (1, kernel), options, "Conv1d");
        OutChannels = outChannels;
        Options = options;
        var weight = new Parameter("weight", outChannels, inputShape.Channels, kernel);
        Parameter? bias = options.Bias ? new Parameter("bias", outChannels) : null;
        _core = new Convolution(Geometry, outChannels, weight, bias, random);
        Parameters = bias is null ? [weight] : [weight, bias];
    }

    internal ConvGeometry Geometry { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>The options (stride, padding and dilation of height 1 and 0).</summary>
    public ConvOptions Options { get; }

    /// <summary>W, [out, C, k].</summary>
    public Parameter Weight => _core.Weight;

    /// <summary>b, [out], or <see langword="null"/> without a bias.</summary>
    public Parameter? Bias => _core.Bias;

    /// <summary>The shape of one output sample: (out, L_out).</summary>
    public (int Channels, int Length) OutputShape => (OutChannels, Geometry.OutWidth);

    /// <inheritdoc />
    public override int InputFeatures => _core.InputFeatures;

    /// <inheritdoc />
    public override int OutputFeatures => _core.OutputFeatures;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Parameters { get; }

    /// <inheritdoc />
    public override LayerSpec Spec => new("conv1d", InputFeatures, OutputFeatures)
    {
        Shape = [Geometry.Channels, Geometry.Width],
        Channels = OutChannels,
        Kernel = [Geometry.KernelWidth],
        Stride = Options.Stride.Width == 1 ? null : [Options.Stride.Width],
        Padding = Options.Padding.Width == 0 ? null : [Options.Padding.Width],
        Dilation = Options.Dilation.Width == 1 ? null : [Options.Dilation.Width],
        Bias = Options.Bias ? null : false,
    };

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        _core.Forward(input, output, batch);
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
        => _core.Backward(input, outputGradient, inputGradient, batch);

    /// <summary>The <c>conv1d</c> kind: <c>conv1d(OUT, KERNEL[, stride=S, padding=P, dilation=D, bias=false])</c>.</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "conv1d";

        public string? Alias => "conv";

        public bool Accepts(int rank) => rank == 2;

        public LayerShapes Check(LayerSpec spec, LayerCheck check)
        {
            int[] input = check.InputShape(spec, 2);
            ConvGeometry g = ConvSpec.Geometry(spec, check, input[0], 1, input[1], 1);
            check.Parameter("weight", spec.Channels, input[0], g.KernelWidth);
            if (spec.Bias != false)
            {
                check.Parameter("bias", spec.Channels);
            }

            return new(input, check.Output(spec, [spec.Channels, g.OutWidth]));
        }

        public Module Build(LayerSpec spec, XentRandom random)
            => new Conv1d((spec.Shape![0], spec.Shape[1]), spec.Channels, spec.Kernel![0], random, ConvSpec.Options(spec, 1));

        public (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input) => ConvSpec.Describe(this, args, input, 2);
    }
}
