namespace Xent.Nn;

/// <summary>
/// A per-position head: each sample, a long input of <see cref="Segments"/> × <see cref="SegmentLength"/> values, is cut
/// into segments, an inner network classifies every segment, and the logits come out shaped (N, C, S), the layout of
/// the K-dimensional cross-entropy (for example a length-140000 sequence cut into 140 segments of 1000, 2 classes each).
/// </summary>
public sealed class SegmentHead : Module
{
    private float[] _innerGradient = [];

    /// <summary>Creates the head.</summary>
    /// <param name="segments">S, segments per sample.</param>
    /// <param name="inner">Maps one segment (its input features) to the C class logits.</param>
    public SegmentHead(int segments, Sequential inner)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(segments, 1);
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        Segments = segments;
    }

    /// <summary>S.</summary>
    public int Segments { get; }

    /// <summary>Values per segment.</summary>
    public int SegmentLength => Inner.InputFeatures;

    /// <summary>C.</summary>
    public int Classes => Inner.OutputFeatures;

    /// <summary>The per-segment network.</summary>
    public Sequential Inner { get; }

    /// <inheritdoc />
    public override int InputFeatures => Segments * SegmentLength;

    /// <inheritdoc />
    public override int OutputFeatures => Segments * Classes;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Parameters => Inner.Parameters;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Buffers => Inner.Buffers;

    /// <inheritdoc />
    public override LayerSpec Spec => new("segment_head", InputFeatures, OutputFeatures) { Segments = Segments, Layers = Inner.Spec.Layers };

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        int s = Segments, c = Classes;
        // (N, S·L) is (N·S, L) row-major: no copy going in.
        ReadOnlySpan<float> logits = Inner.Forward(input, batch * s, training);
        for (int n = 0; n < batch; n++)
        {
            for (int p = 0; p < s; p++)
            {
                for (int k = 0; k < c; k++)
                {
                    output[(((n * c) + k) * s) + p] = logits[(((n * s) + p) * c) + k];
                }
            }
        }
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        int s = Segments, c = Classes;
        if (_innerGradient.Length < batch * s * c)
        {
            _innerGradient = new float[batch * s * c];
        }

        Span<float> g = _innerGradient.AsSpan(0, batch * s * c);
        for (int n = 0; n < batch; n++)
        {
            for (int p = 0; p < s; p++)
            {
                for (int k = 0; k < c; k++)
                {
                    g[(((n * s) + p) * c) + k] = outputGradient[(((n * c) + k) * s) + p];
                }
            }
        }

        Inner.Backward(g, inputGradient);
    }
}
