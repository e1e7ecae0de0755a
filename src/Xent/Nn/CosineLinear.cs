using System.Numerics.Tensors;
using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// The cosine-normalised last layer that LDAM's authors use (their <c>NormedLinear</c>): y_j = cos(x, w_j) =
/// (x·w_j) ÷ (‖x‖·‖w_j‖), no bias, W shaped [out, in]. Outputs lie in [−1, 1]; the loss scales them (LDAM's s).
/// Initialised as <see cref="Linear"/>'s weight (the scale of W does not matter).
/// </summary>
public sealed class CosineLinear : Module
{
    private const float Epsilon = 1e-12f;
    private float[] _xn = [];
    private float[] _xNorm = [];
    private readonly float[] _wn;
    private readonly float[] _wNorm;
    private float[] _scratch = [];

    /// <summary>Creates the layer.</summary>
    /// <param name="inputFeatures">in.</param>
    /// <param name="outputFeatures">out.</param>
    /// <param name="random">The generator for the initial weights.</param>
    /// <param name="name">The state-dict prefix.</param>
    public CosineLinear(int inputFeatures, int outputFeatures, XentRandom random, string name = "")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputFeatures, 1);
        ArgumentNullException.ThrowIfNull(random);
        InputFeatures = inputFeatures;
        OutputFeatures = outputFeatures;
        Weight = new Parameter((name.Length == 0 ? string.Empty : name + ".") + "weight", outputFeatures, inputFeatures);
        float bound = 1f / MathF.Sqrt(inputFeatures);
        for (int i = 0; i < Weight.Value.Length; i++)
        {
            Weight.Value[i] = random.NextSingle(-bound, bound);
        }

        _wn = new float[Weight.Value.Length];
        _wNorm = new float[outputFeatures];
    }

    /// <inheritdoc />
    public override int InputFeatures { get; }

    /// <inheritdoc />
    public override int OutputFeatures { get; }

    /// <summary>W, [out, in].</summary>
    public Parameter Weight { get; }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Parameters => _parameters ??= [Weight];

    private Parameter[]? _parameters;

    /// <inheritdoc />
    public override LayerSpec Spec => new("cosine_linear", InputFeatures, OutputFeatures);

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        int k = InputFeatures, n = OutputFeatures;
        if (_xn.Length < batch * k)
        {
            _xn = new float[batch * k];
            _xNorm = new float[batch];
        }

        Normalise(input, _xn, _xNorm, batch, k);
        Normalise(Weight.Value, _wn, _wNorm, n, k);
        Sgemm.Multiply(Transpose.No, Transpose.Yes, batch, n, k, 1f, _xn, k, _wn, k, 0f, output, n);
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        int k = InputFeatures, n = OutputFeatures;
        if (_scratch.Length < Math.Max(batch, n) * k)
        {
            _scratch = new float[Math.Max(batch, n) * k];
        }

        // d/dŵ_j = Σ_r g_rj·x̂_r; then through ŵ = w/‖w‖: dw = (dŵ − (dŵ·ŵ)·ŵ) / ‖w‖.
        Span<float> dwn = _scratch.AsSpan(0, n * k);
        Sgemm.Multiply(Transpose.Yes, Transpose.No, n, k, batch, 1f, outputGradient, n, _xn, k, 0f, dwn, k);
        Project(dwn, _wn, _wNorm, Weight.Gradient, n, k, accumulate: true);
        if (!inputGradient.IsEmpty)
        {
            Span<float> dxn = _scratch.AsSpan(0, batch * k);
            Sgemm.Multiply(Transpose.No, Transpose.No, batch, k, n, 1f, outputGradient, n, _wn, k, 0f, dxn, k);
            Project(dxn, _xn, _xNorm, inputGradient, batch, k, accumulate: false);
        }
    }

    private static void Normalise(ReadOnlySpan<float> rows, Span<float> unit, Span<float> norms, int count, int k)
    {
        for (int r = 0; r < count; r++)
        {
            ReadOnlySpan<float> row = rows.Slice(r * k, k);
            float norm = MathF.Max(TensorPrimitives.Norm(row), Epsilon);
            norms[r] = norm;
            TensorPrimitives.Divide(row, norm, unit.Slice(r * k, k));
        }
    }

    /// <summary>destination (+)= (d − (d·û)·û) / ‖u‖, row by row.</summary>
    private static void Project(ReadOnlySpan<float> d, ReadOnlySpan<float> unit, ReadOnlySpan<float> norms, Span<float> destination, int count, int k, bool accumulate)
    {
        for (int r = 0; r < count; r++)
        {
            ReadOnlySpan<float> dr = d.Slice(r * k, k), ur = unit.Slice(r * k, k);
            float dot = TensorPrimitives.Dot(dr, ur);
            Span<float> target = destination.Slice(r * k, k);
            for (int i = 0; i < k; i++)
            {
                float v = (dr[i] - (dot * ur[i])) / norms[r];
                target[i] = accumulate ? target[i] + v : v;
            }
        }
    }

    /// <summary>The <c>cosine_linear</c> kind: <c>cosine_linear(OUT)</c> in a model description.</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "cosine_linear";

        public LayerShapes Check(LayerSpec spec, LayerCheck check)
        {
            check.Positive(spec.In, "in", spec.Kind);
            check.Positive(spec.Out, "out", spec.Kind);
            if ((long)spec.In * spec.Out > Array.MaxLength)
            {
                throw new FormatException($"{check.Where} (cosine_linear {spec.In} → {spec.Out}) needs more weights than an array holds ({Array.MaxLength}).");
            }

            check.Parameter("weight", spec.Out, spec.In);
            return new([spec.In], [spec.Out]);
        }

        public Module Build(LayerSpec spec, XentRandom random) => new CosineLinear(spec.In, spec.Out, random);

        public (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input)
        {
            int outputs = args.Int(0, "out", null, 1);
            args.Done();
            if (input.Length != 1)
            {
                throw args.Fail($"needs a flat input [features] but gets {LayerShapes.Format(input)}; put flatten before it.");
            }

            return (new LayerSpec(Name, input[0], outputs), [outputs]);
        }
    }
}
