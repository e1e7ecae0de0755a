namespace Xent.Nn;

/// <summary>
/// A layer with an explicit forward and backward over a batch stored row-major: (batch, <see cref="InputFeatures"/>)
/// in, (batch, <see cref="OutputFeatures"/>) out. Backward receives the forward's input and output again (the
/// container keeps them), so layers hold no per-step allocations.
/// </summary>
public abstract class Module
{
    /// <summary>Features per sample going in.</summary>
    public abstract int InputFeatures { get; }

    /// <summary>Features per sample coming out.</summary>
    public abstract int OutputFeatures { get; }

    /// <summary>The trainable parameters (none by default).</summary>
    public virtual IReadOnlyList<Parameter> Parameters => [];

    /// <summary>
    /// State that is saved with the model but not trained (none by default): BatchNorm's <c>running_mean</c>,
    /// <c>running_var</c> and <c>num_batches_tracked</c>, named as in PyTorch's state dict. Optimizers never see them;
    /// their <see cref="Parameter.Gradient"/> stays unused.
    /// </summary>
    public virtual IReadOnlyList<Parameter> Buffers => [];

    /// <summary>Every tensor of the state dict: <see cref="Parameters"/>, then <see cref="Buffers"/>.</summary>
    public IReadOnlyList<Parameter> StateTensors => Buffers.Count == 0 ? Parameters : [.. Parameters, .. Buffers];

    /// <summary>A description that <see cref="LayerSpec"/> can rebuild the layer from.</summary>
    public abstract LayerSpec Spec { get; }

    /// <summary>Computes the output of a batch.</summary>
    /// <param name="input">(batch, InputFeatures).</param>
    /// <param name="output">(batch, OutputFeatures), written.</param>
    /// <param name="batch">Samples in the batch.</param>
    /// <param name="training">Whether training (dropout is active) or evaluating.</param>
    public abstract void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training);

    /// <summary>Adds this batch's parameter gradients and computes the input gradient.</summary>
    /// <param name="input">The forward's input.</param>
    /// <param name="output">The forward's output.</param>
    /// <param name="outputGradient">d loss / d output.</param>
    /// <param name="inputGradient">d loss / d input, written; empty when not needed (the first layer).</param>
    /// <param name="batch">Samples in the batch.</param>
    public abstract void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch);

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGradients()
    {
        IReadOnlyList<Parameter> parameters = Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            Array.Clear(parameters[i].Gradient);
        }
    }

    /// <summary>Checks the lengths of a forward call.</summary>
    protected void CheckForward(ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if (input.Length != (long)batch * InputFeatures)
        {
            throw new ArgumentException($"{GetType().Name}: input holds {input.Length} values; a batch of {batch} × {InputFeatures} features needs {(long)batch * InputFeatures}.", nameof(input));
        }

        if (output.Length != (long)batch * OutputFeatures)
        {
            throw new ArgumentException($"{GetType().Name}: output holds {output.Length} values; a batch of {batch} × {OutputFeatures} features needs {(long)batch * OutputFeatures}.", nameof(output));
        }
    }
}
