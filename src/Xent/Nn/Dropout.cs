using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// Inverted dropout: while training, each value is zeroed with probability p and the rest are scaled by 1/(1 − p);
/// while evaluating it is the identity. The mask comes from the layer's own <see cref="XentRandom"/>, whose state is
/// part of a checkpoint, except in sharded training, where it is keyed by global row (see <see cref="Keys"/>).
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

    /// <summary>
    /// Keyed masks for sharded training, or <see langword="null"/> (the default) for masks drawn from
    /// <see cref="Random"/> in row order. When set, the mask of value j of a row is a hash of (the keys' seed, this
    /// layer's <see cref="KeyLayer"/>, the keys' step, the row's global index, j), so it does not depend on which
    /// process, shard or batch position computes the row.
    /// </summary>
    internal DropoutKeys? Keys { get; set; }

    /// <summary>This layer's index among the model's dropout layers, mixed into keyed masks.</summary>
    internal int KeyLayer { get; set; }

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
        if (Keys is { } keys)
        {
            ReadOnlySpan<int> rows = keys.Rows;
            if (rows.Length != batch)
            {
                throw new InvalidOperationException($"Dropout: keyed masks for {rows.Length} rows, but the batch has {batch}.");
            }

            int f = InputFeatures;
            for (int r = 0; r < batch; r++)
            {
                ulong key = DropoutKeys.RowKey(keys.Seed, KeyLayer, keys.Step, rows[r]);
                for (int j = 0; j < f; j++)
                {
                    int i = (r * f) + j;
                    _mask[i] = DropoutKeys.Uniform(key, j) >= Probability ? scale : 0f;
                    output[i] = input[i] * _mask[i];
                }
            }

            return;
        }

        // The uniforms in one pass (the generator's state in registers), then the mask and the product as vectors.
        Span<float> mask = _mask.AsSpan(0, input.Length);
        Random.NextSingles(mask);
        MaskFromUniforms(mask, Probability, scale);
        TensorPrimitives.Multiply(input, mask, output);
    }

    /// <summary>In place: u ≥ p → scale, else 0.</summary>
    private static void MaskFromUniforms(Span<float> values, float probability, float scale)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var p = Vector256.Create(probability);
            var s = Vector256.Create(scale);
            for (; i <= values.Length - 8; i += 8)
            {
                var u = Vector256.Create<float>(values.Slice(i, 8));
                (Vector256.GreaterThanOrEqual(u, p) & s).CopyTo(values.Slice(i, 8));
            }
        }

        for (; i < values.Length; i++)
        {
            values[i] = values[i] >= probability ? scale : 0f;
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

        TensorPrimitives.Multiply(outputGradient[..inputGradient.Length], _mask.AsSpan(0, inputGradient.Length), inputGradient);
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

/// <summary>
/// What keyed dropout masks depend on besides the layer and the value's position: the run's seed, the global step and
/// the global index of each row of the batch about to run forward (set by the sharded trainer before every shard).
/// </summary>
internal sealed class DropoutKeys(ulong seed, int capacity)
{
    private readonly int[] _rows = new int[capacity];
    private int _count;

    /// <summary>The seed.</summary>
    public ulong Seed { get; } = seed;

    /// <summary>The global step (from 0) of the batch.</summary>
    public long Step { get; set; }

    /// <summary>The global row indices of the batch about to run forward.</summary>
    public ReadOnlySpan<int> Rows => _rows.AsSpan(0, _count);

    /// <summary>Sets the rows of the next forward pass.</summary>
    /// <param name="rows">Their global indices (at most the capacity).</param>
    public void SetRows(ReadOnlySpan<int> rows)
    {
        rows.CopyTo(_rows);
        _count = rows.Length;
    }

    /// <summary>The key of one row of one layer at one step.</summary>
    public static ulong RowKey(ulong seed, int layer, long step, int row)
        => Mix(Mix(Mix(seed ^ 0xD80F_0000_0000_0000UL ^ (ulong)layer) + (ulong)step) + (ulong)row);

    /// <summary>A uniform float in [0, 1) for value <paramref name="j"/> of a row, with 24 random bits as <see cref="XentRandom.NextSingle()"/> has.</summary>
    public static float Uniform(ulong rowKey, int j) => (Mix(rowKey + ((ulong)(j + 1) * 0x9E3779B97F4A7C15UL)) >> 40) * (1.0f / (1 << 24));

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
