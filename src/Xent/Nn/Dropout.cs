using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// Inverted dropout: while training, each value is zeroed with probability p and the rest are scaled by 1/(1 − p);
/// while evaluating it is the identity. The mask comes from the layer's own <see cref="XentRandom"/>, whose state is
/// part of a checkpoint.
/// </summary>
public sealed class Dropout : Module
{
    private float[] _mask = [];

    /// <summary>Creates the layer.</summary>
    /// <param name="features">Features per sample.</param>
    /// <param name="probability">p in [0, 1).</param>
    /// <param name="random">The mask generator.</param>
    public Dropout(int features, float probability, XentRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        if (!(probability >= 0 && probability < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout probability must be in [0, 1).");
        }

        InputFeatures = features;
        Probability = probability;
        Random = random ?? throw new ArgumentNullException(nameof(random));
    }

    /// <inheritdoc />
    public override int InputFeatures { get; }

    /// <inheritdoc />
    public override int OutputFeatures => InputFeatures;

    /// <summary>p.</summary>
    public float Probability { get; }

    /// <summary>The mask generator.</summary>
    public XentRandom Random { get; set; }

    /// <inheritdoc />
    public override LayerSpec Spec => new("dropout", InputFeatures, OutputFeatures, Probability);

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        if (!training || Probability == 0)
        {
            input.CopyTo(output);
            return;
        }

        if (_mask.Length < input.Length)
        {
            _mask = new float[input.Length];
        }

        float scale = 1f / (1f - Probability);
        for (int i = 0; i < input.Length; i++)
        {
            _mask[i] = Random.NextSingle() >= Probability ? scale : 0f;
            output[i] = input[i] * _mask[i];
        }
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (Probability == 0)
        {
            outputGradient.CopyTo(inputGradient);
            return;
        }

        for (int i = 0; i < inputGradient.Length; i++)
        {
            inputGradient[i] = outputGradient[i] * _mask[i];
        }
    }

    /// <summary>The <c>dropout</c> kind: <c>dropout(P)</c> in a model description (keeps the shape).</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "dropout";

        public LayerShapes Check(LayerSpec spec, LayerCheck check) => check.SameSize(spec);

        public Module Build(LayerSpec spec, XentRandom random) => new Dropout(spec.In, spec.Probability, random);

        public (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input)
        {
            double p = args.Number(0, "p", 0.5, 0, 1);
            args.Done();
            return (new LayerSpec(Name, LayerShapes.Size(input), LayerShapes.Size(input), (float)p), input);
        }
    }
}
