using Xent.Kernels;

namespace Xent.Nn;

/// <summary>Options of a <see cref="Conv2d"/> or <see cref="Conv1d"/> beyond its channels and kernel, as in PyTorch (for a 1-D layer only the width applies).</summary>
public sealed record ConvOptions
{
    /// <summary>Stride (height, width). Default: 1.</summary>
    public (int Height, int Width) Stride { get; init; } = (1, 1);

    /// <summary>Zero padding (height, width). Default: 0.</summary>
    public (int Height, int Width) Padding { get; init; }

    /// <summary>Dilation (height, width). Default: 1.</summary>
    public (int Height, int Width) Dilation { get; init; } = (1, 1);

    /// <summary>Whether the layer has a bias. Default: true.</summary>
    public bool Bias { get; init; } = true;
}

/// <summary>
/// PyTorch's <c>nn.Conv2d</c> over NCHW samples of C × H × W values (flat, C·H·W features per sample): weight
/// [out, C, kh, kw] and bias [out], initialised as PyTorch does (U(−1/√fan_in, 1/√fan_in), fan_in = C·kh·kw).
/// Computed by im2col and the SGEMM; no groups.
/// </summary>
public sealed class Conv2d : Module
{
    private readonly Convolution _core;

    /// <summary>The convolution arithmetic (run fused with a following ReLU and max pooling by <see cref="Sequential"/>).</summary>
    internal Convolution Core => _core;

    /// <summary>Creates the layer and initialises it from <paramref name="random"/>.</summary>
    /// <param name="inputShape">(C, H, W) of one sample.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernel">Kernel (height, width).</param>
    /// <param name="random">The generator for the initial weights.</param>
    /// <param name="options">Stride, padding, dilation, bias; <see langword="null"/> for PyTorch's defaults.</param>
    /// <exception cref="ArgumentException">A size is below 1 (padding below 0), or the kernel does not fit the padded input.</exception>
    public Conv2d((int Channels, int Height, int Width) inputShape, int outChannels, (int Height, int Width) kernel, XentRandom random, ConvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        options ??= new ConvOptions();
        Geometry = Check(inputShape.Channels, inputShape.Height, inputShape.Width, outChannels, kernel, options, "Conv2d");
        OutChannels = outChannels;
        Options = options;
        var weight = new Parameter("weight", outChannels, inputShape.Channels, kernel.Height, kernel.Width);
        Parameter? bias = options.Bias ? new Parameter("bias", outChannels) : null;
        _core = new Convolution(Geometry, outChannels, weight, bias, random);
        Parameters = bias is null ? [weight] : [weight, bias];
    }

    internal ConvGeometry Geometry { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>The options.</summary>
    public ConvOptions Options { get; }

    /// <summary>W, [out, C, kh, kw].</summary>
    public Parameter Weight => _core.Weight;

    /// <summary>b, [out], or <see langword="null"/> without a bias.</summary>
    public Parameter? Bias => _core.Bias;

    /// <summary>The shape of one output sample: (out, OH, OW).</summary>
    public (int Channels, int Height, int Width) OutputShape => (OutChannels, Geometry.OutHeight, Geometry.OutWidth);

    /// <inheritdoc />
    public override int InputFeatures => _core.InputFeatures;

    /// <inheritdoc />
    public override int OutputFeatures => _core.OutputFeatures;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Parameters { get; }

    /// <inheritdoc />
    public override LayerSpec Spec => new("conv2d", InputFeatures, OutputFeatures)
    {
        Shape = [Geometry.Channels, Geometry.Height, Geometry.Width],
        Channels = OutChannels,
        Kernel = [Geometry.KernelHeight, Geometry.KernelWidth],
        Stride = Options.Stride == (1, 1) ? null : [Options.Stride.Height, Options.Stride.Width],
        Padding = Options.Padding == (0, 0) ? null : [Options.Padding.Height, Options.Padding.Width],
        Dilation = Options.Dilation == (1, 1) ? null : [Options.Dilation.Height, Options.Dilation.Width],
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

    /// <summary>Checks a convolution's sizes and returns its geometry.</summary>
    internal static ConvGeometry Check(int channels, int height, int width, int outChannels, (int Height, int Width) kernel, ConvOptions options, string layer)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (channels < 1 || height < 1 || width < 1 || outChannels < 1 || kernel.Height < 1 || kernel.Width < 1
            || options.Stride.Height < 1 || options.Stride.Width < 1 || options.Dilation.Height < 1 || options.Dilation.Width < 1
            || options.Padding.Height < 0 || options.Padding.Width < 0)
        {
            throw new ArgumentException($"{layer}: channels, sizes, kernel, stride and dilation must be at least 1 and padding at least 0.");
        }

        var g = new ConvGeometry(channels, height, width, kernel.Height, kernel.Width, options.Stride.Height, options.Stride.Width, options.Padding.Height, options.Padding.Width, options.Dilation.Height, options.Dilation.Width);
        if (g.OutHeight < 1 || g.OutWidth < 1)
        {
            throw new ArgumentException($"{layer}: a {kernel.Height}×{kernel.Width} kernel (dilation {options.Dilation.Height}×{options.Dilation.Width}, padding {options.Padding.Height}×{options.Padding.Width}) does not fit an input of {height}×{width}.");
        }

        if ((long)g.Rows * outChannels > Array.MaxLength || (long)outChannels * g.OutPlane > int.MaxValue || (long)channels * height * width > int.MaxValue)
        {
            throw new ArgumentException($"{layer}: the layer is larger than an array holds.");
        }

        return g;
    }

    /// <summary>The <c>conv2d</c> kind: <c>conv2d(OUT, KERNEL[, stride=S, padding=P, dilation=D, bias=false])</c>, sizes as 3 or 3x5.</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "conv2d";

        public string? Alias => "conv";

        public bool Accepts(int rank) => rank == 3;

        public LayerShapes Check(LayerSpec spec, LayerCheck check)
        {
            int[] input = check.InputShape(spec, 3);
            ConvGeometry g = ConvSpec.Geometry(spec, check, input[0], input[1], input[2], 2);
            check.Parameter("weight", spec.Channels, input[0], g.KernelHeight, g.KernelWidth);
            if (spec.Bias != false)
            {
                check.Parameter("bias", spec.Channels);
            }

            return new(input, check.Output(spec, [spec.Channels, g.OutHeight, g.OutWidth]));
        }

        public Module Build(LayerSpec spec, XentRandom random)
        {
            ConvOptions options = ConvSpec.Options(spec, 2);
            return new Conv2d((spec.Shape![0], spec.Shape[1], spec.Shape[2]), spec.Channels, (spec.Kernel![0], spec.Kernel[1]), random, options);
        }

        public (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input) => ConvSpec.Describe(this, args, input, 3);
    }
}
