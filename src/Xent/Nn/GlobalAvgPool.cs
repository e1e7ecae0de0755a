using System.Numerics.Tensors;
using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// Global average pooling: the mean of each channel over all its positions, (C, L) or (C, H, W) → (C). PyTorch writes
/// it <c>nn.AdaptiveAvgPool2d(1)</c> followed by <c>nn.Flatten()</c> (or <c>x.mean((2, 3))</c>). No parameters.
/// </summary>
public sealed class GlobalAvgPool : Module
{
    private readonly int[] _shape;

    /// <summary>Creates the layer.</summary>
    /// <param name="inputShape">(C, L) or (C, H, W) of one sample.</param>
    /// <exception cref="ArgumentException">The shape is not of rank 2 or 3, or a size is below 1.</exception>
    public GlobalAvgPool(params int[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length is not (2 or 3) || inputShape.Any(d => d < 1) || LayerShapes.Size(inputShape) < 0)
        {
            throw new ArgumentException($"GlobalAvgPool: the input shape {LayerShapes.Format(inputShape)} must be (C, L) or (C, H, W) with sizes of at least 1.", nameof(inputShape));
        }

        _shape = [.. inputShape];
        Channels = inputShape[0];
        Positions = LayerShapes.Size(inputShape) / Channels;
    }

    /// <summary>C.</summary>
    public int Channels { get; }

    /// <summary>Positions per channel (L, or H·W).</summary>
    public int Positions { get; }

    /// <inheritdoc />
    public override int InputFeatures => Channels * Positions;

    /// <inheritdoc />
    public override int OutputFeatures => Channels;

    /// <inheritdoc />
    public override LayerSpec Spec => new("global_avgpool", InputFeatures, OutputFeatures) { Shape = [.. _shape] };

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        float scale = 1f / Positions;
        for (int p = 0; p < batch * Channels; p++)
        {
            output[p] = TensorPrimitives.Sum<float>(input.Slice(p * Positions, Positions)) * scale;
        }
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (inputGradient.IsEmpty)
        {
            return;
        }

        float scale = 1f / Positions;
        for (int p = 0; p < batch * Channels; p++)
        {
            inputGradient.Slice(p * Positions, Positions).Fill(outputGradient[p] * scale);
        }
    }

    /// <summary>The <c>global_avgpool</c> kind (alias <c>gap</c>): no arguments, (C, …) → (C).</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "global_avgpool";

        public string? Alias => "gap";

        public LayerShapes Check(LayerSpec spec, LayerCheck check)
        {
            int[] input = check.InputShape(spec, 2, 3);
            return new(input, check.Output(spec, [input[0]]));
        }

        public Module Build(LayerSpec spec, XentRandom random) => new GlobalAvgPool([.. spec.Shape!]);

        public (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input)
        {
            args.Done();
            ConvSpec.RequireRank(args, input, 2, 3);
            return ConvSpec.Finish(this, new LayerSpec(Name, 0, 0) { Shape = input }, args, input);
        }
    }
}
