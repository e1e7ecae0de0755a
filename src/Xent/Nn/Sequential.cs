namespace Xent.Nn;

/// <summary>
/// Layers applied in order. It keeps each layer's output for the backward pass in buffers that grow with the
/// largest batch seen and are reused afterwards, so a warm training step allocates nothing.
/// Parameters are named by layer index, as in PyTorch's <c>nn.Sequential</c> (<c>0.weight</c>, <c>0.bias</c>, <c>2.weight</c>…).
/// </summary>
/// <remarks>
/// The layers run in stages. A convolution followed by a ReLU, a max pooling, or a ReLU and then a max pooling is
/// one stage: the convolution applies them to each chunk of its product while it is in cache, forward and backward
/// (<see cref="Convolution"/>), with the same bits as the layers run one by one. The layers, their descriptions and
/// the saved model do not change; only the intermediate outputs of a fused stage are not kept.
/// </remarks>
public sealed class Sequential : Module
{
    private readonly Module[] _layers;
    private readonly Stage[] _stages;
    private readonly Parameter[] _parameters;
    private readonly Parameter[] _buffers;
    private float[][] _outputs = [];
    private float[][] _gradients = [];
    private float[] _input = [];
    private int _capacity;
    private int _batch;

    /// <summary>Creates the container; each layer's input size must equal the previous layer's output size.</summary>
    /// <param name="layers">At least one layer.</param>
    /// <exception cref="ArgumentException">The list is empty or two neighbours do not fit.</exception>
    public Sequential(params Module[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0)
        {
            throw new ArgumentException("A Sequential needs at least one layer.", nameof(layers));
        }

        for (int i = 1; i < layers.Length; i++)
        {
            if (layers[i].InputFeatures != layers[i - 1].OutputFeatures)
            {
                throw new ArgumentException($"Layer {i} ({layers[i].GetType().Name}) takes {layers[i].InputFeatures} features but layer {i - 1} ({layers[i - 1].GetType().Name}) gives {layers[i - 1].OutputFeatures}.", nameof(layers));
            }
        }

        _layers = layers;
        _stages = Plan(layers);
        _parameters = [.. layers.SelectMany(l => l.Parameters)];
        _buffers = [.. layers.SelectMany(l => l.Buffers)];
    }

    /// <summary>The layers.</summary>
    public IReadOnlyList<Module> Layers => _layers;

    /// <inheritdoc />
    public override int InputFeatures => _layers[0].InputFeatures;

    /// <inheritdoc />
    public override int OutputFeatures => _layers[^1].OutputFeatures;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Parameters => _parameters;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Buffers => _buffers;

    /// <inheritdoc />
    public override LayerSpec Spec => new("sequential", InputFeatures, OutputFeatures) { Layers = [.. _layers.Select(l => l.Spec)] };

    /// <summary>Runs the batch forward and returns the last layer's output (valid until the next call).</summary>
    /// <param name="input">(batch, InputFeatures).</param>
    /// <param name="batch">Samples.</param>
    /// <param name="training">Training or evaluating.</param>
    /// <returns>(batch, OutputFeatures).</returns>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int batch, bool training)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if (input.Length != (long)batch * InputFeatures)
        {
            throw new ArgumentException($"Sequential: input holds {input.Length} values; a batch of {batch} × {InputFeatures} features needs {(long)batch * InputFeatures}.", nameof(input));
        }

        Reserve(batch);
        _batch = batch;
        input.CopyTo(_input);
        ReadOnlySpan<float> x = _input.AsSpan(0, batch * InputFeatures);
        for (int k = 0; k < _stages.Length; k++)
        {
            int last = _stages[k].Last;
            Span<float> y = _outputs[last].AsSpan(0, batch * _layers[last].OutputFeatures);
            ForwardStage(k, x, y, batch, training);
            x = y;
        }

        return x;
    }

    /// <summary>The stages: each a layer, or a convolution and the ReLU and max pooling fused into it.</summary>
    internal IReadOnlyList<Stage> Stages => _stages;

    /// <summary>Runs stage <paramref name="stage"/> forward: <paramref name="output"/> is its last layer's output.</summary>
    internal void ForwardStage(int stage, ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        Stage s = _stages[stage];
        if (s.Convolution is { } conv)
        {
            CheckStage(s, input, output, batch);
            conv.Forward(input, output, batch, s.Relu, s.Pool);
        }
        else
        {
            _layers[s.First].Forward(input, output, batch, training);
        }
    }

    /// <summary>Runs stage <paramref name="stage"/> backward, from its input and its last layer's output and output gradient.</summary>
    internal void BackwardStage(int stage, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        Stage s = _stages[stage];
        if (s.Convolution is { } conv)
        {
            conv.Backward(input, output, outputGradient, inputGradient, batch, s.Relu, s.Pool);
        }
        else
        {
            _layers[s.First].Backward(input, output, outputGradient, inputGradient, batch);
        }
    }

    private void CheckStage(Stage s, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        if (input.Length != (long)batch * _layers[s.First].InputFeatures || output.Length != (long)batch * _layers[s.Last].OutputFeatures)
        {
            throw new ArgumentException($"Sequential: layers {s.First}-{s.Last} take {(long)batch * _layers[s.First].InputFeatures} values and give {(long)batch * _layers[s.Last].OutputFeatures} for a batch of {batch}; got {input.Length} and {output.Length}.", nameof(output));
        }
    }

    /// <summary>Groups a convolution with a ReLU and a max pooling (over its output shape) that follow it; every other layer is a stage of its own.</summary>
    private static Stage[] Plan(Module[] layers)
    {
        var stages = new List<Stage>();
        for (int i = 0; i < layers.Length;)
        {
            Convolution? conv = layers[i] switch
            {
                Conv2d c => c.Core,
                Conv1d c => c.Core,
                _ => null,
            };
            if (conv is null)
            {
                stages.Add(new Stage(i, i, null, false, null));
                i++;
                continue;
            }

            int last = i;
            bool relu = last + 1 < layers.Length && layers[last + 1] is ReLU;
            if (relu)
            {
                last++;
            }

            Pooling? pool = last + 1 < layers.Length && layers[last + 1] is PoolingLayer { Core: { Max: true } p } && conv.Fits(p) ? p : null;
            if (pool is not null)
            {
                last++;
            }

            stages.Add(new Stage(i, last, last > i ? conv : null, relu, pool));
            i = last + 1;
        }

        return [.. stages];
    }

    /// <summary>Layers <see cref="First"/> to <see cref="Last"/> run as one; <see cref="Convolution"/> is set when they are fused.</summary>
    internal readonly record struct Stage(int First, int Last, Convolution? Convolution, bool Relu, Pooling? Pool);

    /// <summary>Backpropagates d loss / d output of the last forward batch, adding to every parameter's gradient.</summary>
    /// <param name="outputGradient">(batch, OutputFeatures).</param>
    /// <param name="inputGradient">Receives d loss / d input, or empty to skip it.</param>
    public void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient = default)
    {
        int batch = _batch;
        if (outputGradient.Length != (long)batch * OutputFeatures)
        {
            throw new ArgumentException($"Sequential: the output gradient holds {outputGradient.Length} values; the last batch needs {(long)batch * OutputFeatures}.", nameof(outputGradient));
        }

        ReadOnlySpan<float> g = outputGradient;
        for (int k = _stages.Length - 1; k >= 0; k--)
        {
            (int i, int last) = (_stages[k].First, _stages[k].Last);
            ReadOnlySpan<float> input = i == 0 ? _input.AsSpan(0, batch * InputFeatures) : _outputs[i - 1].AsSpan(0, batch * _layers[i - 1].OutputFeatures);
            ReadOnlySpan<float> output = _outputs[last].AsSpan(0, batch * _layers[last].OutputFeatures);
            Span<float> gi = i == 0 ? inputGradient : _gradients[i - 1].AsSpan(0, batch * _layers[i].InputFeatures);
            BackwardStage(k, input, output, g, gi, batch);
            g = gi;
        }
    }

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        CheckForward(input, output, batch);
        Forward(input, batch, training).CopyTo(output);
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
        => Backward(outputGradient, inputGradient);

    /// <summary>Renames parameters by position, as PyTorch's <c>nn.Sequential</c> does, under an optional prefix.</summary>
    /// <param name="prefix">For example <c>1.inner</c>; empty at the top level.</param>
    public void NameParameters(string prefix = "")
    {
        for (int i = 0; i < _layers.Length; i++)
        {
            string name = prefix.Length == 0 ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{prefix}.{i}";
            switch (_layers[i])
            {
                case Linear linear:
                    linear.Weight.Name = name + ".weight";
                    linear.Bias.Name = name + ".bias";
                    break;
                case CosineLinear cosine:
                    cosine.Weight.Name = name + ".weight";
                    break;
                case SegmentHead head:
                    head.Inner.NameParameters(name + ".inner");
                    break;
                case Sequential nested:
                    nested.NameParameters(name);
                    break;
                default:
                    // A leaf layer: its tensors keep their own names (weight, running_mean…) under the position.
                    foreach (Parameter p in _layers[i].StateTensors)
                    {
                        p.Name = name + "." + p.Name[(p.Name.LastIndexOf('.') + 1)..];
                    }

                    break;
            }
        }
    }

    private void Reserve(int batch)
    {
        if (batch > _capacity || _outputs.Length != _layers.Length)
        {
            Grow(Math.Max(batch, _capacity));
        }
    }

    /// <summary>Kept apart from <see cref="Reserve"/>: its lambdas' closure is allocated on entry, and the warm path must not allocate.</summary>
    private void Grow(int capacity)
    {
        _input = new float[capacity * InputFeatures];
        _outputs = [.. _layers.Select(l => new float[capacity * l.OutputFeatures])];
        _gradients = [.. _layers.Select(l => new float[capacity * l.OutputFeatures])];
        _capacity = capacity;
    }
}
