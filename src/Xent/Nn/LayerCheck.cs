namespace Xent.Nn;

/// <summary>What a <see cref="ILayerKind"/> needs to check a description: its state-dict prefix, a place for messages, and the lists of parameter and buffer shapes.</summary>
internal sealed class LayerCheck(string name, string where, List<KeyValuePair<string, int[]>> parameters, List<KeyValuePair<string, int[]>> buffers)
{
    /// <summary>The state-dict prefix, for example <c>3</c> (empty at the top level).</summary>
    public string Name { get; } = name;

    /// <summary>The layer in messages, for example <c>layer 3</c>.</summary>
    public string Where { get; } = where;

    /// <summary>Records a parameter.</summary>
    public void Parameter(string local, params int[] shape) => parameters.Add(KeyValuePair.Create(Child(Name, local), shape));

    /// <summary>Records a buffer (saved, not trained).</summary>
    public void Buffer(string local, params int[] shape) => buffers.Add(KeyValuePair.Create(Child(Name, local), shape));

    /// <summary>An error about this layer.</summary>
    public FormatException Fail(string kind, string message) => new($"{Where} ({kind}): {message}");

    /// <summary>Requires a value of at least 1.</summary>
    public void Positive(int value, string field, string kind)
    {
        if (value < 1)
        {
            throw new FormatException($"{Where} ({kind}) has {field} = {value}; it must be at least 1.");
        }
    }

    /// <summary>A per-sample input shape: <see cref="LayerSpec.Shape"/> of the given rank with positive sizes, agreeing with <see cref="LayerSpec.In"/> when that is stated.</summary>
    public int[] InputShape(LayerSpec spec, params int[] ranks)
    {
        if (spec.Shape is not { } shape || Array.IndexOf(ranks, shape.Count) < 0)
        {
            throw Fail(spec.Kind, $"the input shape {(spec.Shape is null ? "is missing" : "is " + LayerShapes.Format(spec.Shape))}; it needs {string.Join(" or ", ranks.Select(RankText))}.");
        }

        foreach (int d in shape)
        {
            if (d < 1)
            {
                throw Fail(spec.Kind, $"the input shape {LayerShapes.Format(shape)} has a size below 1.");
            }
        }

        int size = LayerShapes.Size(shape);
        if (size < 0)
        {
            throw Fail(spec.Kind, $"the input shape {LayerShapes.Format(shape)} holds more than {int.MaxValue} values.");
        }

        if (spec.In != 0 && spec.In != size)
        {
            throw Fail(spec.Kind, $"states {spec.In} input features but its input shape {LayerShapes.Format(shape)} holds {size}.");
        }

        return [.. shape];
    }

    /// <summary>Requires the stated output features (when stated) to match the shape computed.</summary>
    public int[] Output(LayerSpec spec, int[] output)
    {
        int size = LayerShapes.Size(output);
        if (size < 0)
        {
            throw Fail(spec.Kind, $"the output shape {LayerShapes.Format(output)} holds more than {int.MaxValue} values.");
        }

        if (spec.Out != 0 && spec.Out != size)
        {
            throw Fail(spec.Kind, $"states {spec.Out} output features but its output shape {LayerShapes.Format(output)} holds {size}.");
        }

        return output;
    }

    /// <summary>The check of a layer that keeps the size (relu, dropout, softmax, log_softmax): only dropout has a probability, in [0, 1).</summary>
    public LayerShapes SameSize(LayerSpec spec)
    {
        Positive(spec.In, "in", spec.Kind);
        if (spec.Out != 0 && spec.Out != spec.In)
        {
            throw new FormatException($"{Where} ({spec.Kind}) maps {spec.In} features to {spec.Out}; this layer keeps the size.");
        }

        if (!(spec.Probability >= 0 && spec.Probability < 1) || (spec.Kind != "dropout" && spec.Probability != 0))
        {
            throw new FormatException($"{Where} ({spec.Kind}) has probability {spec.Probability}; dropout needs one in [0, 1) and other layers none.");
        }

        return new([spec.In], [spec.In]);
    }

    /// <summary>How a rank is written in messages.</summary>
    public static string RankText(int rank) => rank switch
    {
        1 => "[features]",
        2 => "[C, L]",
        _ => "[C, H, W]",
    };

    private static string Child(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
}
