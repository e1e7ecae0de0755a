namespace Xent.Nn;

/// <summary>log_softmax over each sample's features (the classes), for use with the NLL loss.</summary>
public sealed class LogSoftmax : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="classes">Features per sample.</param>
    public LogSoftmax(int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        InputFeatures = classes;
    }

    /// <inheritdoc />
    public override int InputFeatures { get; }

    /// <inheritdoc />
    public override int OutputFeatures => InputFeatures;

    /// <inheritdoc />
    public override LayerSpec Spec => new("log_softmax", InputFeatures, OutputFeatures);

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        int c = InputFeatures;
        for (int r = 0; r < batch; r++)
        {
            ReadOnlySpan<float> x = input.Slice(r * c, c);
            float max = float.NegativeInfinity;
            foreach (float v in x)
            {
                max = MathF.Max(max, v);
            }

            double sum = 0;
            foreach (float v in x)
            {
                sum += Math.Exp(v - max);
            }

            float lse = (float)Math.Log(sum);
            for (int k = 0; k < c; k++)
            {
                output[(r * c) + k] = x[k] - max - lse;
            }
        }
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        int c = InputFeatures;
        for (int r = 0; r < batch; r++)
        {
            float sum = 0;
            for (int k = 0; k < c; k++)
            {
                sum += outputGradient[(r * c) + k];
            }

            for (int k = 0; k < c; k++)
            {
                int i = (r * c) + k;
                inputGradient[i] = outputGradient[i] - (MathF.Exp(output[i]) * sum);
            }
        }
    }

    /// <summary>The <c>log_softmax</c> kind (no arguments; keeps the shape).</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "log_softmax";

        public LayerShapes Check(LayerSpec spec, LayerCheck check) => check.SameSize(spec);

        public Module Build(LayerSpec spec, Xent.Kernels.XentRandom random) => new LogSoftmax(spec.In);

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
