using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// PyTorch's <c>nn.BatchNorm1d</c> over samples of C features, or C channels of L positions: per channel, (x − mean) / √(var + 1e-5) · weight + bias.
/// Training uses the batch's statistics (biased variance) and updates <c>running_mean</c> and <c>running_var</c> with
/// momentum 0.1 (the unbiased variance for the latter) and counts <c>num_batches_tracked</c>; evaluation uses the running
/// statistics. weight starts at 1 and bias at 0; the running statistics (buffers, not trained) at 0 and 1.
/// </summary>
public sealed class BatchNorm1d : BatchNormLayer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inputShape">(C) or (C, L) of one sample.</param>
    /// <exception cref="ArgumentException">The shape has the wrong rank or a size below 1.</exception>
    public BatchNorm1d(params int[] inputShape)
        : base(Checked(inputShape), "BatchNorm1d", "batchnorm1d")
    {
    }

    private static int[] Checked(int[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length is not (1 or 2) || inputShape.Any(d => d < 1) || LayerShapes.Size(inputShape) < 0)
        {
            throw new ArgumentException($"BatchNorm1d: the input shape {LayerShapes.Format(inputShape)} must be (C) or (C, L) with sizes of at least 1.", nameof(inputShape));
        }

        return inputShape;
    }

    /// <summary>The <c>batchnorm1d</c> kind: no arguments, or <c>batchnorm</c> on a [features] or (C, L) input.</summary>
    internal sealed class Kind : ILayerKind
    {
        public string Name => "batchnorm1d";

        public string? Alias => "batchnorm";

        public bool Accepts(int rank) => rank is 1 or 2;

        public LayerShapes Check(LayerSpec spec, LayerCheck check)
        {
            int[] input = check.InputShape(spec, 1, 2);
            check.Parameter("weight", input[0]);
            check.Parameter("bias", input[0]);
            check.Buffer("running_mean", input[0]);
            check.Buffer("running_var", input[0]);
            check.Buffer("num_batches_tracked");
            return new(input, check.Output(spec, input));
        }

        public Module Build(LayerSpec spec, XentRandom random) => new BatchNorm1d([.. spec.Shape!]);

        public (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input)
        {
            args.Done();
            ConvSpec.RequireRank(args, input, 1, 2);
            return ConvSpec.Finish(this, new LayerSpec(Name, 0, 0) { Shape = input }, args, input);
        }
    }
}
