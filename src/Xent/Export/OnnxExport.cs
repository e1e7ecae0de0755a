using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Google.Protobuf;
using Onnx;
using Xent.Data;
using Xent.Nn;
using Xent.Training;

namespace Xent.Export;

/// <summary>Options of <see cref="OnnxExport.Write"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Output the logits (named <c>logits</c>) instead of the probabilities (named <c>probabilities</c>). Default: false.</summary>
    public bool Logits { get; init; }

    /// <summary>One float tensor <c>input</c> of shape (N, columns) instead of one tensor per column; every input column must be numeric. Default: false.</summary>
    public bool SingleInput { get; init; }

    /// <summary>Training settings to record in the model's metadata (for example config.json's text), or <see langword="null"/>.</summary>
    public string? Settings { get; init; }
}

/// <summary>
/// Writes a trained model and its column pipeline as one ONNX graph (opset 17, with ai.onnx.ml 3 for categories),
/// built with OnnxSharp's protobuf classes: per input column, numbers are imputed with the training median (and get
/// their missing indicator) and standardised; text is mapped to its category (CategoryMapper), missing spellings to
/// the most frequent category (and the indicator), unseen text to all zeros, then one-hot encoded; then the network
/// (Linear as Gemm, ReLU, cosine heads, log_softmax; dropout is the identity at inference; Conv1d/Conv2d as Conv,
/// max and average pooling as MaxPool and AveragePool, global average pooling as GlobalAveragePool and Flatten,
/// BatchNorm1d/2d as BatchNormalization with the running statistics, and a Reshape from the flat features to
/// (N, C, L) or (N, C, H, W) before the first layer that needs the shape) and the softmax, with the loss's output scale. Inputs are named after the columns: float (N, 1) for numbers, string (N, 1) for text. The class
/// names, the Xent version and the settings go into the metadata. A layer that cannot be exported is an error naming it.
/// </summary>
public static class OnnxExport
{
    /// <summary>Writes the ONNX file atomically.</summary>
    /// <param name="path">The file.</param>
    /// <param name="model">The network.</param>
    /// <param name="info">Its model information (classes, columns, pipeline).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="NotSupportedException">The model has a layer that has no ONNX form here; the message names it.</exception>
    /// <exception cref="ArgumentException"><see cref="OnnxExportOptions.SingleInput"/> with a text column.</exception>
    public static void Write(string path, Sequential model, ModelInfo info, OnnxExportOptions? options = null)
    {
        ModelProto proto = Build(model, info, options);
        AtomicFile.Write(path, stream => proto.WriteTo(stream));
    }

    /// <summary>Builds the ONNX model.</summary>
    /// <param name="model">The network.</param>
    /// <param name="info">Its model information.</param>
    /// <param name="options">The options.</param>
    /// <returns>The model proto.</returns>
    public static ModelProto Build(Sequential model, ModelInfo info, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(info);
        options ??= new OnnxExportOptions();
        var g = new GraphBuilder();
        string features = info.Preprocessor is { } pre ? Pipeline(g, pre, options) : Legacy(g, info, options);
        string output = Network(g, model, features);
        int classes = model.OutputFeatures;
        string final;
        if (options.Logits)
        {
            final = g.Node("Identity", [output], "logits");
        }
        else if (info.Loss == "nll")
        {
            final = g.Node("Exp", [output], "probabilities");
        }
        else
        {
            string scaled = info.LogitScale == 1 ? output : g.Node("Mul", [output, g.Scalar(info.LogitScale)]);
            final = g.Node("Softmax", [scaled], "probabilities", Int("axis", 1));
        }

        g.Graph.Output.Add(TensorInfo(final, TensorProto.Types.DataType.Float, classes));
        var proto = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "Xent",
            ProducerVersion = Version,
            Graph = g.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "ai.onnx.ml", Version = 3 });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = "xent.classes", Value = JsonSerializer.Serialize(info.ClassNames) });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = "xent.features", Value = JsonSerializer.Serialize(info.FeatureNames) });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = "xent.loss", Value = info.Loss });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = "xent.version", Value = Version });
        if (options.Settings is { } settings)
        {
            proto.MetadataProps.Add(new StringStringEntryProto { Key = "xent.settings", Value = settings });
        }

        return proto;
    }

    /// <summary>The library's version.</summary>
    public static string Version => typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private static string Pipeline(GraphBuilder g, Preprocessor pre, OnnxExportOptions options)
    {
        var parts = new List<string>();
        string? single = null;
        if (options.SingleInput)
        {
            if (pre.Columns.Any(c => c is not NumericEncoder))
            {
                throw new ArgumentException($"A single float input needs every column numeric; '{pre.Columns.First(c => c is not NumericEncoder).Name}' is not.", nameof(options));
            }

            single = "input";
            g.Graph.Input.Add(TensorInfo(single, TensorProto.Types.DataType.Float, pre.Columns.Count));
        }

        for (int j = 0; j < pre.Columns.Count; j++)
        {
            switch (pre.Columns[j])
            {
                case NumericEncoder n:
                {
                    string x;
                    if (single is not null)
                    {
                        x = g.Node("Slice", [single, g.Int64s([j]), g.Int64s([j + 1]), g.Int64s([1])]);
                    }
                    else
                    {
                        x = n.Name;
                        g.Graph.Input.Add(TensorInfo(x, TensorProto.Types.DataType.Float, 1));
                    }

                    string isNaN = g.Node("IsNaN", [x]);
                    string imputed = g.Node("Where", [isNaN, g.Scalar(n.Median), x]);
                    parts.Add(g.Node("Div", [g.Node("Sub", [imputed, g.Scalar(n.Mean)]), g.Scalar(n.Scale)]));
                    if (n.Indicator)
                    {
                        parts.Add(g.Node("Cast", [isNaN], attributes: Int("to", (long)TensorProto.Types.DataType.Float)));
                    }

                    break;
                }

                case CategoricalEncoder k:
                {
                    string s = k.Name;
                    g.Graph.Input.Add(TensorInfo(s, TensorProto.Types.DataType.String, 1));
                    // Categories map to 0..K−1, every missing spelling to K, anything else (unseen) to −1.
                    string[] missing = [string.Empty, .. pre.MissingTokens.SelectMany(t => new[] { t, t.ToLowerInvariant(), t.ToUpperInvariant() }).Distinct(StringComparer.Ordinal)];
                    string[] known = [.. k.Categories];
                    var spellings = new List<(string Text, long Code)>();
                    for (int i = 0; i < known.Length; i++)
                    {
                        spellings.Add((known[i], i));
                        if (k.Kind == ColumnKind.Boolean)
                        {
                            // The reader accepts these spellings of a boolean, in any case.
                            string[] aliases = known[i] == "true" ? ["yes", "y", "t", "true"] : ["no", "n", "f", "false"];
                            foreach (string alias in aliases.SelectMany(a => new[] { a, a.ToUpperInvariant(), char.ToUpperInvariant(a[0]) + a[1..] }))
                            {
                                spellings.Add((alias, i));
                            }
                        }
                    }

                    spellings.AddRange(missing.Select(m => (m, (long)known.Length)));
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    (string Text, long Code)[] unique = [.. spellings.Where(sp => seen.Add(sp.Text))];
                    string[] names = [.. unique.Select(u => u.Text)];
                    long[] codes = [.. unique.Select(u => u.Code)];
                    var mapper = new NodeProto { OpType = "CategoryMapper", Domain = "ai.onnx.ml", Name = g.Fresh("CategoryMapper") };
                    mapper.Input.Add(s);
                    string code = g.Fresh("code");
                    mapper.Output.Add(code);
                    var cats = new AttributeProto { Name = "cats_strings", Type = AttributeProto.Types.AttributeType.Strings };
                    cats.Strings.AddRange(names.Select(ByteString.CopyFromUtf8));
                    var ints = new AttributeProto { Name = "cats_int64s", Type = AttributeProto.Types.AttributeType.Ints };
                    ints.Ints.AddRange(codes);
                    mapper.Attribute.Add(cats);
                    mapper.Attribute.Add(ints);
                    mapper.Attribute.Add(new AttributeProto { Name = "default_int64", Type = AttributeProto.Types.AttributeType.Int, I = -1 });
                    g.Graph.Node.Add(mapper);
                    string isMissing = g.Node("Equal", [code, g.Int64s([known.Length])]);
                    string imputed = g.Node("Where", [isMissing, g.Int64s([k.MostFrequent]), code]);
                    // One-hot: compare the code with 0..K−1 (shape (1, K)); −1 matches none.
                    string oneHot = g.Node("Equal", [imputed, g.Int64Matrix([.. Enumerable.Range(0, known.Length).Select(i => (long)i)])]);
                    parts.Add(g.Node("Cast", [oneHot], attributes: Int("to", (long)TensorProto.Types.DataType.Float)));
                    if (k.Indicator)
                    {
                        parts.Add(g.Node("Cast", [isMissing], attributes: Int("to", (long)TensorProto.Types.DataType.Float)));
                    }

                    break;
                }

                default:
                    throw new NotSupportedException($"The column encoder {pre.Columns[j].GetType().Name} has no ONNX form.");
            }
        }

        return parts.Count == 1 ? parts[0] : g.Node("Concat", [.. parts], attributes: Int("axis", 1));
    }

    private static string Legacy(GraphBuilder g, ModelInfo info, OnnxExportOptions options)
    {
        string x = "input";
        g.Graph.Input.Add(TensorInfo(x, TensorProto.Types.DataType.Float, info.FeatureNames.Count));
        if (info.Standardizer is { } s)
        {
            x = g.Node("Div", [g.Node("Sub", [x, g.Floats("mean", s.Mean, [1, s.Mean.Length])]), g.Floats("scale", s.Scale, [1, s.Scale.Length])]);
        }

        return x;
    }

    private static string Network(GraphBuilder g, Sequential model, string x)
    {
        bool shaped = false;
        x = Network(g, model, x, ref shaped);
        return shaped ? g.Node("Flatten", [x], attributes: Int("axis", 1)) : x;
    }

    /// <summary>
    /// Adds the layers' nodes. Samples travel flat, (N, features), until a layer needs its input shaped (a
    /// convolution, a pooling, BatchNorm over (C, L) or (C, H, W), a global average pool): then a Reshape makes it
    /// (N, C, L) or (N, C, H, W) from the layer's stored input shape (NCHW order, as Xent stores samples); a layer that
    /// needs flat features (Linear, the heads, softmax) or Flatten turns it back into (N, features).
    /// </summary>
    private static string Network(GraphBuilder g, Sequential model, string x, ref bool shaped)
    {
        foreach (Xent.Nn.Module layer in model.Layers)
        {
            switch (layer)
            {
                case Sequential nested:
                    x = Network(g, nested, x, ref shaped);
                    continue;
                case ReLU:
                    x = g.Node("Relu", [x]);
                    continue;
                case Dropout:
                    continue;
                case Flatten:
                    x = Flat(g, x, ref shaped);
                    continue;
                case Conv1d or Conv2d:
                    x = Convolution(g, layer.Spec, layer.StateTensors, Shaped(g, x, layer.Spec, ref shaped));
                    continue;
                case MaxPool1d or MaxPool2d or AvgPool1d or AvgPool2d:
                    x = Pool(g, layer.Spec, layer is MaxPool1d or MaxPool2d, Shaped(g, x, layer.Spec, ref shaped));
                    continue;
                case GlobalAvgPool:
                    x = g.Node("Flatten", [g.Node("GlobalAveragePool", [Shaped(g, x, layer.Spec, ref shaped)])], attributes: Int("axis", 1));
                    shaped = false;
                    continue;
                case BatchNormLayer:
                    // BatchNorm1d over (C) features works on (N, C) as it is; over (C, L) and (C, H, W) it needs the channels apart.
                    x = BatchNorm(g, layer.StateTensors, layer.Spec.Shape is { Count: 1 } ? Flat(g, x, ref shaped) : Shaped(g, x, layer.Spec, ref shaped));
                    continue;
            }

            x = Flat(g, x, ref shaped);
            x = layer switch
            {
                Linear l => g.Node("Gemm", [x, g.Floats(l.Weight.Name, l.Weight.Value, [l.OutputFeatures, l.InputFeatures]), g.Floats(l.Bias.Name, l.Bias.Value, [l.OutputFeatures])], attributes: Int("transB", 1)),
                CosineLinear c => Cosine(g, c, x),
                LogSoftmax => g.Node("LogSoftmax", [x], attributes: Int("axis", 1)),
                Softmax => g.Node("Softmax", [x], attributes: Int("axis", 1)),
                _ => throw new NotSupportedException($"The layer {layer.Spec.Kind} ({layer.GetType().Name}) has no ONNX export yet."),
            };
        }

        return x;
    }

    /// <summary>(N, features) from a shaped tensor; a flat one as it is.</summary>
    private static string Flat(GraphBuilder g, string x, ref bool shaped)
    {
        if (!shaped)
        {
            return x;
        }

        shaped = false;
        return g.Node("Flatten", [x], attributes: Int("axis", 1));
    }

    /// <summary>(N, C, L) or (N, C, H, W) from flat features, by the layer's stored input shape; a shaped tensor as it is.</summary>
    private static string Shaped(GraphBuilder g, string x, LayerSpec spec, ref bool shaped)
    {
        if (shaped)
        {
            return x;
        }

        IReadOnlyList<int> shape = spec.Shape ?? throw new NotSupportedException($"The layer {spec.Kind} stores no input shape, so its ONNX input cannot be shaped.");
        shaped = true;
        return g.Node("Reshape", [x, g.Int64s([-1, .. shape.Select(d => (long)d)])]);
    }

    /// <summary>Conv (1-D or 2-D): weight [out, C, k…], bias [out] when the layer has one; stride, zero padding on both sides, dilation.</summary>
    private static string Convolution(GraphBuilder g, LayerSpec spec, IReadOnlyList<Parameter> state, string x)
    {
        int rank = spec.Kernel!.Count;
        Parameter weight = state.Single(p => p.Name.EndsWith("weight", StringComparison.Ordinal));
        Parameter? bias = state.SingleOrDefault(p => p.Name.EndsWith("bias", StringComparison.Ordinal));
        long[] dims = [spec.Channels, spec.Shape![0], .. spec.Kernel.Select(k => (long)k)];
        string[] inputs = bias is null
            ? [x, g.Floats(weight.Name, weight.Value, dims)]
            : [x, g.Floats(weight.Name, weight.Value, dims), g.Floats(bias.Name, bias.Value, [spec.Channels])];
        long[] pads = Sizes(spec.Padding, rank, 0);
        return g.Node("Conv", inputs, attributes:
        [
            Ints("kernel_shape", [.. spec.Kernel.Select(k => (long)k)]),
            Ints("strides", Sizes(spec.Stride, rank, 1)),
            Ints("pads", [.. pads, .. pads]),
            Ints("dilations", Sizes(spec.Dilation, rank, 1)),
        ]);
    }

    /// <summary>MaxPool (−∞ padding) or AveragePool (padding counted, PyTorch's <c>count_include_pad=True</c>); stride defaults to the kernel; output sizes round down.</summary>
    private static string Pool(GraphBuilder g, LayerSpec spec, bool max, string x)
    {
        long[] kernel = [.. spec.Kernel!.Select(k => (long)k)];
        long[] pads = Sizes(spec.Padding, kernel.Length, 0);
        AttributeProto[] attributes =
        [
            Ints("kernel_shape", kernel),
            Ints("strides", spec.Stride is { } s ? [.. s.Select(v => (long)v)] : kernel),
            Ints("pads", [.. pads, .. pads]),
        ];
        return max
            ? g.Node("MaxPool", [x], attributes: attributes)
            : g.Node("AveragePool", [x], attributes: [.. attributes, Int("count_include_pad", 1)]);
    }

    /// <summary>BatchNormalization in evaluation mode: the running statistics, ε = 1e-5.</summary>
    private static string BatchNorm(GraphBuilder g, IReadOnlyList<Parameter> state, string x)
    {
        string Tensor(string suffix)
        {
            Parameter p = state.Single(t => t.Name.EndsWith(suffix, StringComparison.Ordinal));
            return g.Floats(p.Name, p.Value, [p.Value.Length]);
        }

        string[] inputs = [x, Tensor(".weight"), Tensor(".bias"), Tensor("running_mean"), Tensor("running_var")];
        return g.Node("BatchNormalization", inputs, attributes: [new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = 1e-5f }]);
    }

    /// <summary>A stored size per dimension, or <paramref name="fallback"/> for each when absent.</summary>
    private static long[] Sizes(IReadOnlyList<int>? values, int rank, long fallback) => values is null ? [.. Enumerable.Repeat(fallback, rank)] : [.. values.Select(v => (long)v)];

    private static AttributeProto Ints(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    private static string Cosine(GraphBuilder g, CosineLinear c, string x)
    {
        int k = c.InputFeatures, n = c.OutputFeatures;
        var unit = new float[c.Weight.Value.Length];
        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<float> row = c.Weight.Value.AsSpan(r * k, k);
            float norm = MathF.Max(System.Numerics.Tensors.TensorPrimitives.Norm(row), 1e-12f);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, unit.AsSpan(r * k, k));
        }

        string norm2 = g.Node("Max", [g.Node("ReduceL2", [x], attributes: Int("keepdims", 1), axes: [1]), g.Scalar(1e-12)]);
        string xn = g.Node("Div", [x, norm2]);
        return g.Node("Gemm", [xn, g.Floats(c.Weight.Name + ".unit", unit, [n, k])], attributes: Int("transB", 1));
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static ValueInfoProto TensorInfo(string name, TensorProto.Types.DataType type, int width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    /// <summary>Adds nodes and initializers with fresh names.</summary>
    private sealed class GraphBuilder
    {
        private int _next;

        public GraphProto Graph { get; } = new() { Name = "xent" };

        public string Fresh(string stem) => string.Create(CultureInfo.InvariantCulture, $"{stem}_{_next++}");

        public string Node(string op, string[] inputs, string? output = null, AttributeProto? attributes = null, long[]? axes = null)
            => Node(op, inputs, attributes is null ? [] : [attributes], output, axes);

        public string Node(string op, string[] inputs, AttributeProto[] attributes, string? output = null, long[]? axes = null)
        {
            var node = new NodeProto { OpType = op, Name = Fresh(op) };
            node.Input.AddRange(inputs);
            if (axes is not null)
            {
                var a = new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints };
                a.Ints.AddRange(axes);
                node.Attribute.Add(a);
            }

            string result = output ?? Fresh(op.ToLowerInvariant());
            node.Output.Add(result);
            node.Attribute.AddRange(attributes);

            Graph.Node.Add(node);
            return result;
        }

        public string Scalar(double value) => Floats(Fresh("c"), [(float)value], []);

        public string Floats(string name, float[] values, long[] dims)
        {
            var t = new TensorProto { Name = Fresh(name.Replace('.', '_')), DataType = (int)TensorProto.Types.DataType.Float };
            t.Dims.AddRange(dims);
            t.FloatData.AddRange(values);
            Graph.Initializer.Add(t);
            return t.Name;
        }

        public string Int64s(long[] values)
        {
            var t = new TensorProto { Name = Fresh("i"), DataType = (int)TensorProto.Types.DataType.Int64 };
            t.Dims.Add(values.Length);
            t.Int64Data.AddRange(values);
            Graph.Initializer.Add(t);
            return t.Name;
        }

        public string Int64Matrix(long[] values)
        {
            var t = new TensorProto { Name = Fresh("range"), DataType = (int)TensorProto.Types.DataType.Int64 };
            t.Dims.Add(1);
            t.Dims.Add(values.Length);
            t.Int64Data.AddRange(values);
            Graph.Initializer.Add(t);
            return t.Name;
        }
    }
}
