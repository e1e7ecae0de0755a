using System.Globalization;

namespace Xent.Nn;

/// <summary>
/// Model descriptions such as <c>conv2d(32,3),relu,maxpool(2),flatten,linear(128),relu,linear</c>: parsed into
/// <see cref="LayerEntry"/> items, then turned into a <see cref="LayerSpec"/> by following the shape of one sample from
/// the input shape through every layer. Each layer kind reads its own arguments (see <c>docs/images.md</c>); a last
/// <c>linear</c> without a size gets the class count.
/// </summary>
public static class ModelDescription
{
    /// <summary>Parses the compact syntax: layers separated by commas, each <c>kind</c> or <c>kind(arguments)</c>, arguments positional (<c>32</c>, <c>3x5</c>) or named (<c>padding=1</c>).</summary>
    /// <param name="text">The description.</param>
    /// <returns>The layers as written.</returns>
    /// <exception cref="FormatException">The text is empty, a parenthesis is unbalanced, or a layer or argument is malformed; the message names the layer.</exception>
    public static IReadOnlyList<LayerEntry> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var items = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '(')
            {
                if (++depth > 1)
                {
                    throw new FormatException($"layer {items.Count + 1} ('{Cut(text[start..])}'): parentheses cannot nest.");
                }
            }
            else if (c == ')')
            {
                if (--depth < 0)
                {
                    throw new FormatException($"layer {items.Count + 1} ('{Cut(text[start..(i + 1)])}'): a ')' without its '('.");
                }
            }
            else if (c == ',' && depth == 0)
            {
                items.Add(text[start..i]);
                start = i + 1;
            }
        }

        if (depth != 0)
        {
            throw new FormatException($"layer {items.Count + 1} ('{Cut(text[start..])}'): a '(' without its ')'.");
        }

        items.Add(text[start..]);
        if (items.Count == 1 && string.IsNullOrWhiteSpace(items[0]))
        {
            throw new FormatException("the model description is empty; for example conv2d(32,3),relu,maxpool(2),flatten,linear(128),relu,linear.");
        }

        return [.. items.Select((item, i) => ParseLayer(item.Trim(), i + 1))];
    }

    /// <summary>
    /// Checks that every layer names a known kind, before any shape is known (so that a typo is reported before the
    /// data are read): the message names the layer, suggests the nearest kind and lists them all.
    /// </summary>
    /// <param name="layers">The parsed layers.</param>
    /// <exception cref="FormatException">A layer's kind is unknown.</exception>
    public static void CheckKinds(IReadOnlyList<LayerEntry> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is { } entry && LayerKinds.Resolve((entry.Kind ?? string.Empty).Trim().ToLowerInvariant(), 0) is null)
            {
                throw new FormatException(LayerKinds.Unknown($"layer {i + 1} ({entry})", entry.Kind));
            }
        }
    }

    /// <summary>Parses an input shape written <c>1x28x28</c>, <c>2x1000</c> or <c>784</c> (sizes of at least 1, 1 to 3 of them).</summary>
    /// <param name="text">The shape.</param>
    /// <returns>The sizes.</returns>
    /// <exception cref="FormatException">The text is not such a shape.</exception>
    public static int[] ParseShape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().Split('x', 'X', '×');
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]) || shape[i] < 1)
            {
                throw new FormatException($"'{Cut(text)}' is not a shape such as 1x28x28 (C×H×W), 2x1000 (C×L) or 784: '{Cut(parts[i])}' is not a size of at least 1.");
            }
        }

        if (shape.Length > 3 || LayerShapes.Size(shape) < 0)
        {
            throw new FormatException($"'{Cut(text)}' is not a shape such as 1x28x28 (C×H×W), 2x1000 (C×L) or 784: {(shape.Length > 3 ? "more than 3 sizes" : "too many values")}.");
        }

        return shape;
    }

    /// <summary>Turns the layers into a sequential model description for samples of <paramref name="inputShape"/> and <paramref name="classes"/> outputs, checking every shape.</summary>
    /// <param name="layers">The layers, as parsed or read from a file.</param>
    /// <param name="inputShape">One sample: (features), (C, L) or (C, H, W).</param>
    /// <param name="classes">The class count (the size of a last <c>linear</c> without one, and the size the model must end with).</param>
    /// <returns>The description, with every layer's sizes (and shapes where they matter) filled in.</returns>
    /// <exception cref="FormatException">A layer is unknown, has bad arguments or does not fit the shape it receives (the message names the layer and both shapes), or the model does not end with <paramref name="classes"/> outputs.</exception>
    public static LayerSpec Build(IReadOnlyList<LayerEntry> layers, IReadOnlyList<int> inputShape, int classes)
    {
        RefuseProbabilities(layers);
        (List<LayerSpec> specs, int[] shape) = Follow(layers, inputShape, classes);
        if (shape.Length != 1 || shape[0] != classes)
        {
            throw new FormatException($"the model ends with outputs of shape {LayerShapes.Format(shape)}, but the data have {classes} classes: end with flatten (if needed) and linear, whose size defaults to the class count.");
        }

        var model = new LayerSpec("sequential", LayerShapes.Size(inputShape), classes) { Layers = specs };
        model.ParameterShapes();
        return model;
    }

    /// <summary>
    /// Turns the layers into a sequential model description whose output is per position: (C, d1) or (C, d1, d2), C
    /// the class count, so that a batch of outputs is the (N, C, d1, …) logits of the K-dimensional cross-entropy. For
    /// example a sequence of (2, 2800) values cut into 140 segments of 20 by
    /// <c>conv1d(8,5,padding=2),relu,conv1d(16,20,stride=20),relu,conv1d(2,1)</c> gives (2, 140): two logits per segment.
    /// </summary>
    /// <param name="layers">The layers, as parsed or read from a file.</param>
    /// <param name="inputShape">One sample: (C, L) or (C, H, W).</param>
    /// <param name="classes">The class count: the channels the model must end with.</param>
    /// <returns>The description, with every layer's sizes and shapes filled in; its <see cref="LayerSpec.Out"/> is C·d1(·d2).</returns>
    /// <exception cref="FormatException">A layer is unknown, has bad arguments or does not fit the shape it receives, or the model does not end with <paramref name="classes"/> channels over one or two dimensions (the message names the shape).</exception>
    public static LayerSpec BuildPerPosition(IReadOnlyList<LayerEntry> layers, IReadOnlyList<int> inputShape, int classes)
    {
        RefuseProbabilities(layers);
        (List<LayerSpec> specs, int[] shape) = Follow(layers, inputShape, classes);
        if (shape.Length < 2 || shape[0] != classes)
        {
            throw new FormatException($"the model ends with outputs of shape {LayerShapes.Format(shape)}, but per-position logits need ({classes}, positions…): {classes} channels (the class count) over the positions; end with a convolution of {classes} output channels, for example conv1d({classes},1).");
        }

        var model = new LayerSpec("sequential", LayerShapes.Size(inputShape), LayerShapes.Size(shape)) { Layers = specs };
        model.ParameterShapes();
        return model;
    }

    /// <summary>Follows one sample's shape through the layers, describing each (a last <c>linear</c> without a size gets <paramref name="classes"/>).</summary>
    private static (List<LayerSpec> Specs, int[] Shape) Follow(IReadOnlyList<LayerEntry> layers, IReadOnlyList<int> inputShape, int classes)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Count is < 1 or > 3 || inputShape.Any(d => d < 1) || LayerShapes.Size(inputShape) < 0)
        {
            throw new FormatException($"the input shape {LayerShapes.Format(inputShape)} must have 1 to 3 sizes of at least 1.");
        }

        if (layers.Count == 0)
        {
            throw new FormatException("the model description lists no layers.");
        }

        int[] shape = [.. inputShape];
        var specs = new List<LayerSpec>(layers.Count);
        for (int i = 0; i < layers.Count; i++)
        {
            LayerEntry entry = layers[i] ?? throw new FormatException($"layer {i + 1} is empty.");
            string where = $"layer {i + 1} ({entry})";
            string name = (entry.Kind ?? string.Empty).Trim().ToLowerInvariant();
            ILayerKind kind = LayerKinds.Resolve(name, shape.Length)
                ?? throw new FormatException(LayerKinds.Unknown(where, entry.Kind));
            if (i == layers.Count - 1 && kind.Name == "linear" && entry.Positional.Count == 0 && !entry.Named.ContainsKey("out"))
            {
                entry = entry with { Positional = [classes.ToString(CultureInfo.InvariantCulture)] };
            }

            (LayerSpec spec, int[] output) = kind.Describe(new LayerArguments(entry, where), shape);
            specs.Add(spec);
            shape = output;
        }

        return (specs, shape);
    }

    private static LayerEntry ParseLayer(string item, int index)
    {
        if (item.Length == 0)
        {
            throw new FormatException($"layer {index} is empty (two commas in a row, or one at the end?).");
        }

        int open = item.IndexOf('(', StringComparison.Ordinal);
        string kind = (open < 0 ? item : item[..open]).Trim().ToLowerInvariant();
        if (kind.Length == 0 || !kind.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new FormatException($"layer {index} ('{Cut(item)}'): '{Cut(kind)}' is not a layer kind such as conv2d, relu or linear.");
        }

        var positional = new List<string>();
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        if (open >= 0)
        {
            if (!item.EndsWith(')'))
            {
                throw new FormatException($"layer {index} ('{Cut(item)}'): text after the ')'.");
            }

            string inside = item[(open + 1)..^1];
            if (inside.Trim().Length > 0)
            {
                foreach (string raw in inside.Split(','))
                {
                    string arg = raw.Trim();
                    int eq = arg.IndexOf('=', StringComparison.Ordinal);
                    if (arg.Length == 0)
                    {
                        throw new FormatException($"layer {index} ('{Cut(item)}'): an empty argument.");
                    }

                    if (eq < 0)
                    {
                        if (named.Count > 0)
                        {
                            throw new FormatException($"layer {index} ('{Cut(item)}'): the argument '{Cut(arg)}' comes after a named one; put positional arguments first.");
                        }

                        positional.Add(arg);
                    }
                    else
                    {
                        string key = arg[..eq].Trim().ToLowerInvariant().Replace('-', '_');
                        if (key.Length == 0 || !named.TryAdd(key, arg[(eq + 1)..].Trim()))
                        {
                            throw new FormatException($"layer {index} ('{Cut(item)}'): {(key.Length == 0 ? $"'{Cut(arg)}' has no name before '='" : $"'{key}' is given twice")}.");
                        }
                    }
                }
            }
        }

        return new LayerEntry(kind, positional, named);
    }

    private static string Cut(string text) => text.Length <= 60 ? text : text[..60] + "…";

    /// <summary>
    /// Refuses a model that ends with softmax or log_softmax: a model gives logits, and the loss takes the
    /// (log-)softmax itself (or the pipeline adds log_softmax for a loss that reads log-probabilities). A softmax before
    /// the loss is the classic bug: the loss then reads probabilities as logits and cannot reach the labels' entropy.
    /// </summary>
    private static void RefuseProbabilities(IReadOnlyList<LayerEntry> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count > 0 && layers[^1].Kind is "softmax" or "log_softmax")
        {
            throw new FormatException($"layer {layers.Count} ({layers[^1].Kind}): a model ends with its logits (linear, or conv for per-position outputs); the loss applies log-softmax itself, so a {layers[^1].Kind} here is applied twice. Remove it: predict and evaluate give probabilities.");
        }
    }
}
