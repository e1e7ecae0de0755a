namespace Xent.Nn;

/// <summary>
/// softmax over each sample's features. Useful at inference; placed before a cross-entropy loss it is the classic
/// "double softmax" bug, which the demo reproduces and Xent's diagnostics flag.
/// </summary>
public sealed class Softmax : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="classes">Features per sample.</param>
    public Softmax(int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        InputFeatures = classes;
    }

    /// <inheritdoc />
    public override int InputFeatures { get; }

    /// <inheritdoc />
    public override int OutputFeatures => InputFeatures;

    /// <inheritdoc />
    public override LayerSpec Spec => new("softmax", InputFeatures, OutputFeatures);

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        int c = InputFeatures;
        for (int r = 0; r < batch; r++)
        {
            Kernels.StableSoftmax.Row(input.Slice(r * c, c), output.Slice(r * c, c));
        }
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        int c = InputFeatures;
        for (int r = 0; r < batch; r++)
        {
            float dot = 0;
            for (int k = 0; k < c; k++)
            {
                dot += outputGradient[(r * c) + k] * output[(r * c) + k];
            }

            for (int k = 0; k < c; k++)
            {
                int i = (r * c) + k;
                inputGradient[i] = output[i] * (outputGradient[i] - dot);
            }
        }
    }

    /// <summary>The <c>softmax</c> kind (no arguments; keeps the shape).</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "softmax";

        public LayerShapes Check(LayerSpec spec, LayerCheck check) => check.SameSize(spec);

        public Module Build(LayerSpec spec, Xent.Kernels.XentRandom random) => new Softmax(spec.In);

        public (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input)
        {
            args.Done();
            if (input.Length != 1)
            {
                throw args.Fail($"needs a flat input [features] but gets {LayerShapes.Format(input)}.");
            }

            return (new LayerSpec(Name, LayerShapes.Size(input), LayerShapes.Size(input)), input);
        }
    }
}
