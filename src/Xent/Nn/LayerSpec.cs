using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// A serialisable description of a layer, stored in model files so that the architecture can be rebuilt.
/// Containers: <c>sequential</c>, <c>segment_head</c>. Every other kind is described, checked and built by its entry
/// in the layer registry: <c>linear</c>, <c>cosine_linear</c>, <c>relu</c>, <c>dropout</c>, <c>log_softmax</c>,
/// <c>softmax</c>, <c>conv1d</c>, <c>conv2d</c>, <c>maxpool1d</c>, <c>maxpool2d</c>, <c>avgpool1d</c>, <c>avgpool2d</c>,
/// <c>global_avgpool</c>, <c>flatten</c>, <c>batchnorm1d</c>, <c>batchnorm2d</c>.
/// </summary>
/// <param name="Kind">The layer kind.</param>
/// <param name="In">Input features per sample.</param>
/// <param name="Out">Output features per sample.</param>
/// <param name="Probability">Dropout probability (dropout only).</param>
public sealed record LayerSpec(string Kind, int In, int Out, float Probability = 0)
{
    /// <summary>Segments per sample (segment_head only).</summary>
    public int Segments { get; init; }

    /// <summary>Child layers (sequential, and segment_head's inner network).</summary>
    public IReadOnlyList<LayerSpec>? Layers { get; init; }

    /// <summary>The shape of one sample going in, for layers that need it: (C, L) or (C, H, W), NCHW order.</summary>
    public IReadOnlyList<int>? Shape { get; init; }

    /// <summary>Output channels (convolutions).</summary>
    public int Channels { get; init; }

    /// <summary>Kernel size per spatial dimension (convolutions and pooling).</summary>
    public IReadOnlyList<int>? Kernel { get; init; }

    /// <summary>Stride per spatial dimension; absent for 1 (convolutions) or the kernel size (pooling).</summary>
    public IReadOnlyList<int>? Stride { get; init; }

    /// <summary>Zero padding per spatial dimension (−∞ padding for max pooling); absent for 0.</summary>
    public IReadOnlyList<int>? Padding { get; init; }

    /// <summary>Dilation per spatial dimension (convolutions); absent for 1.</summary>
    public IReadOnlyList<int>? Dilation { get; init; }

    /// <summary>Whether a convolution has a bias; absent for true.</summary>
    public bool? Bias { get; init; }

    /// <summary>Builds the described layer; parameters are initialised from <paramref name="random"/> (then usually overwritten by loading).</summary>
    /// <param name="random">The generator for initial weights and dropout masks.</param>
    /// <returns>The layer.</returns>
    /// <exception cref="FormatException">The description is incomplete or unknown.</exception>
    public Module Build(XentRandom random) => Kind switch
    {
        "sequential" => BuildSequential(Layers, random),
        "segment_head" => new SegmentHead(Segments, BuildSequential(Layers, random)),
        _ => (Kind is null ? null : LayerKinds.Find(Kind))?.Build(this, random) ?? throw new FormatException($"Unknown layer kind '{Kind}'."),
    };

    /// <summary>
    /// Checks the description without building anything, and lists the parameters that <see cref="Build"/> would
    /// create, named as <see cref="Sequential.NameParameters"/> names them when this is the top-level model
    /// (<c>0.weight</c>, <c>0.bias</c>, <c>1.0.weight</c> for a nested sequential, <c>1.inner.0.weight</c> for a
    /// segment head). Sizes are computed in 64 bits, so a description whose layers could not be allocated (more
    /// values than an array holds) is rejected here, before any memory is spent on it.
    /// </summary>
    /// <returns>Each parameter's name and shape, in the order of <see cref="Module.Parameters"/>.</returns>
    /// <exception cref="FormatException">The description is incomplete, unknown, inconsistent or too large; the message names the layer.</exception>
    public IReadOnlyList<KeyValuePair<string, int[]>> ParameterShapes() => ParameterShapes(out _, out _);

    /// <summary>As <see cref="ParameterShapes()"/>, also giving the input and output features of the described layer.</summary>
    /// <param name="inputs">Input features per sample.</param>
    /// <param name="outputs">Output features per sample.</param>
    /// <returns>Each parameter's name and shape.</returns>
    /// <exception cref="FormatException">The description is incomplete, unknown, inconsistent or too large.</exception>
    public IReadOnlyList<KeyValuePair<string, int[]>> ParameterShapes(out int inputs, out int outputs)
    {
        var shapes = new List<KeyValuePair<string, int[]>>();
        (inputs, outputs) = Check(this, string.Empty, "the model", shapes, [], depth: 0);
        return shapes;
    }

    /// <summary>As <see cref="ParameterShapes(out int, out int)"/>, listing the parameters and then the buffers (BatchNorm's running statistics): the order of <see cref="Module.StateTensors"/>.</summary>
    /// <param name="inputs">Input features per sample.</param>
    /// <param name="outputs">Output features per sample.</param>
    /// <returns>Each state tensor's name and shape.</returns>
    /// <exception cref="FormatException">The description is incomplete, unknown, inconsistent or too large.</exception>
    public IReadOnlyList<KeyValuePair<string, int[]>> StateShapes(out int inputs, out int outputs)
    {
        var shapes = new List<KeyValuePair<string, int[]>>();
        var buffers = new List<KeyValuePair<string, int[]>>();
        (inputs, outputs) = Check(this, string.Empty, "the model", shapes, buffers, depth: 0);
        shapes.AddRange(buffers);
        return shapes;
    }

    /// <summary>The deepest nesting that <see cref="ParameterShapes()"/> accepts.</summary>
    private const int MaxDepth = 64;

    private static (int In, int Out) Check(LayerSpec? spec, string name, string where, List<KeyValuePair<string, int[]>> shapes, List<KeyValuePair<string, int[]>> buffers, int depth)
    {
        if (spec is null)
        {
            throw new FormatException($"{where}: the layer description is empty.");
        }

        if (depth > MaxDepth)
        {
            throw new FormatException($"{where}: layers are nested more than {MaxDepth} deep.");
        }

        switch (spec.Kind)
        {
            case "sequential":
            {
                (int inputs, int outputs) = CheckChildren(spec.Layers, name, where, spec.Kind, shapes, buffers, depth);
                Stated(spec, inputs, outputs, where);
                return (inputs, outputs);
            }

            case "segment_head":
            {
                Positive(spec.Segments, "segments", where, spec.Kind);
                (int length, int classes) = CheckChildren(spec.Layers, Child(name, "inner"), where, spec.Kind, shapes, buffers, depth);
                long inputs = (long)spec.Segments * length, outputs = (long)spec.Segments * classes;
                if (inputs > int.MaxValue || outputs > int.MaxValue)
                {
                    throw new FormatException($"{where} (segment_head) has {spec.Segments} segments of {length} inputs and {classes} outputs: {inputs} inputs and {outputs} outputs per sample, more than {int.MaxValue}.");
                }

                Stated(spec, (int)inputs, (int)outputs, where);
                return ((int)inputs, (int)outputs);
            }

            case null:
                throw new FormatException($"{where}: the layer description has no kind.");
            default:
            {
                ILayerKind kind = LayerKinds.Find(spec.Kind) ?? throw new FormatException($"{where}: unknown layer kind '{spec.Kind}'.");
                LayerShapes s = kind.Check(spec, new LayerCheck(name, where, shapes, buffers));
                return (LayerShapes.Size(s.Input), LayerShapes.Size(s.Output));
            }
        }
    }

    private static (int In, int Out) CheckChildren(IReadOnlyList<LayerSpec>? layers, string prefix, string where, string kind, List<KeyValuePair<string, int[]>> shapes, List<KeyValuePair<string, int[]>> buffers, int depth)
    {
        if (layers is null || layers.Count == 0)
        {
            throw new FormatException($"{where} ({kind}) lists no layers.");
        }

        int inputs = 0, previous = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            string name = Child(prefix, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            (int layerIn, int layerOut) = Check(layers[i], name, "layer " + name, shapes, buffers, depth + 1);
            if (i == 0)
            {
                inputs = layerIn;
            }
            else if (layerIn != previous)
            {
                string shape = layers[i].Shape is { } s ? $" (shape {LayerShapes.Format(s)})" : string.Empty;
                throw new FormatException($"layer {name} ({layers[i].Kind}) takes {layerIn} features{shape} but the layer before it gives {previous}.");
            }

            previous = layerOut;
        }

        return (inputs, previous);
    }

    private static void Stated(LayerSpec spec, int inputs, int outputs, string where)
    {
        // 0 means "not written" (the JSON omits default values).
        if ((spec.In != 0 && spec.In != inputs) || (spec.Out != 0 && spec.Out != outputs))
        {
            throw new FormatException($"{where} ({spec.Kind}) states {spec.In} → {spec.Out} features but its layers map {inputs} → {outputs}.");
        }
    }

    /// <summary>Requires a value of at least 1.</summary>
    internal static void Positive(int value, string field, string where, string kind)
    {
        if (value < 1)
        {
            throw new FormatException($"{where} ({kind}) has {field} = {value}; it must be at least 1.");
        }
    }

    private static string Child(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    private static Sequential BuildSequential(IReadOnlyList<LayerSpec>? layers, XentRandom random)
    {
        if (layers is null || layers.Count == 0)
        {
            throw new FormatException("A sequential layer description lists no layers.");
        }

        var model = new Sequential([.. layers.Select(l => l.Build(random))]);
        model.NameParameters();
        return model;
    }
}
