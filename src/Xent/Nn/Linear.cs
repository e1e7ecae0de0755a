using System.Numerics.Tensors;
using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// y = x·Wᵀ + b, with W shaped [out, in] as in PyTorch. Initialised as PyTorch's <c>nn.Linear</c> default:
/// W ~ U(−1/√in, 1/√in) (kaiming-uniform with a = √5) and b ~ U(−1/√in, 1/√in).
/// </summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer and initialises it from <paramref name="random"/>.</summary>
    /// <param name="inputFeatures">in.</param>
    /// <param name="outputFeatures">out.</param>
    /// <param name="random">The generator for the initial weights.</param>
    /// <param name="name">The state-dict prefix, for example <c>0</c>.</param>
    public Linear(int inputFeatures, int outputFeatures, XentRandom random, string name = "")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputFeatures, 1);
        ArgumentNullException.ThrowIfNull(random);
        InputFeatures = inputFeatures;
        OutputFeatures = outputFeatures;
        string prefix = name.Length == 0 ? string.Empty : name + ".";
        Weight = new Parameter(prefix + "weight", outputFeatures, inputFeatures);
        Bias = new Parameter(prefix + "bias", outputFeatures);
        float bound = 1f / MathF.Sqrt(inputFeatures);
        for (int i = 0; i < Weight.Value.Length; i++)
        {
            Weight.Value[i] = random.NextSingle(-bound, bound);
        }

        for (int i = 0; i < Bias.Value.Length; i++)
        {
            Bias.Value[i] = random.NextSingle(-bound, bound);
        }
    }

    /// <summary>The most rows that inference computes as dot products instead of a GEMM.</summary>
    internal const int SmallBatch = 4;

    /// <inheritdoc />
    public override int InputFeatures { get; }

    /// <inheritdoc />
    public override int OutputFeatures { get; }

    /// <summary>W, [out, in].</summary>
    public Parameter Weight { get; }

    /// <summary>b, [out].</summary>
    public Parameter Bias { get; }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Parameters => _parameters ??= [Weight, Bias];

    private Parameter[]? _parameters;

    /// <inheritdoc />
    public override LayerSpec Spec => new("linear", InputFeatures, OutputFeatures);

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        int n = OutputFeatures;
        if (!training && batch <= SmallBatch)
        {
            // Inference on a few rows: one dot product per output, without packing W for the GEMM (at batch 1 the
            // packing costs more than the product).
            for (int r = 0; r < batch; r++)
            {
                ReadOnlySpan<float> x = input.Slice(r * InputFeatures, InputFeatures);
                Span<float> y = output.Slice(r * n, n);
                for (int j = 0; j < n; j++)
                {
                    y[j] = TensorPrimitives.Dot(x, Weight.Value.AsSpan(j * InputFeatures, InputFeatures)) + Bias.Value[j];
                }
            }

            return;
        }

        Sgemm.Multiply(Transpose.No, Transpose.Yes, batch, n, InputFeatures, 1f, input, InputFeatures, Weight.Value, InputFeatures, 0f, output, n);
        for (int r = 0; r < batch; r++)
        {
            Span<float> row = output.Slice(r * n, n);
            TensorPrimitives.Add(row, Bias.Value, row);
        }
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        int n = OutputFeatures, k = InputFeatures;
        // dW += dYᵀ·X, db += Σ rows of dY, dX = dY·W.
        Sgemm.Multiply(Transpose.Yes, Transpose.No, n, k, batch, 1f, outputGradient, n, input, k, 1f, Weight.Gradient, k);
        for (int r = 0; r < batch; r++)
        {
            TensorPrimitives.Add(Bias.Gradient, outputGradient.Slice(r * n, n), Bias.Gradient);
        }

        if (!inputGradient.IsEmpty)
        {
            Sgemm.Multiply(Transpose.No, Transpose.No, batch, k, n, 1f, outputGradient, n, Weight.Value, k, 0f, inputGradient, k);
        }
    }

    /// <summary>The <c>linear</c> kind: <c>linear(OUT)</c> in a model description (the last one's OUT defaults to the class count).</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "linear";

        public LayerShapes Check(LayerSpec spec, LayerCheck check)
        {
            check.Positive(spec.In, "in", spec.Kind);
            check.Positive(spec.Out, "out", spec.Kind);
            long weights = (long)spec.In * spec.Out;
            if (weights > Array.MaxLength)
            {
                throw new FormatException($"{check.Where} (linear {spec.In} → {spec.Out}) needs {weights} weights, more than an array holds ({Array.MaxLength}).");
            }

            check.Parameter("weight", spec.Out, spec.In);
            check.Parameter("bias", spec.Out);
            return new([spec.In], [spec.Out]);
        }

        public Module Build(LayerSpec spec, XentRandom random) => new Linear(spec.In, spec.Out, random);

        public (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input)
        {
            int outputs = args.Int(0, "out", null, 1);
            args.Done();
            if (input.Length != 1)
            {
                throw args.Fail($"needs a flat input [features] but gets {LayerShapes.Format(input)}; put flatten (or a global average pool) before it.");
            }

            return (new LayerSpec(Name, input[0], outputs), [outputs]);
        }
    }
}
