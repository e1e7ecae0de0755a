using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// PyTorch's <c>nn.Flatten()</c>: (C, H, W) or (C, L) → (C·H·W) or (C·L), in NCHW order. Samples are already stored
/// flat, so the values pass through unchanged; the layer marks where a model description's shape becomes features.
/// </summary>
public sealed class Flatten : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="features">Values per sample.</param>
    public Flatten(int features)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        InputFeatures = features;
    }

    /// <inheritdoc />
    public override int InputFeatures { get; }

    /// <inheritdoc />
    public override int OutputFeatures => InputFeatures;

    /// <inheritdoc />
    public override LayerSpec Spec => new("flatten", InputFeatures, OutputFeatures);

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        input.CopyTo(output);
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (!inputGradient.IsEmpty)
        {
            outputGradient.CopyTo(inputGradient);
        }
    }

    /// <summary>The <c>flatten</c> kind: no arguments.</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "flatten";

        public LayerShapes Check(LayerSpec spec, LayerCheck check) => check.SameSize(spec);

        public Module Build(LayerSpec spec, XentRandom random) => new Flatten(spec.In);

        public (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input)
        {
            args.Done();
            int size = LayerShapes.Size(input);
            return (new LayerSpec(Name, size, size), [size]);
        }
    }
}
