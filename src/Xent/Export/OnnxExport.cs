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
/// (Linear as Gemm, ReLU, cosine heads, log_softmax; dropout is the identity at inference) and the softmax, with the
/// loss's output scale. Inputs are named after the columns: float (N, 1) for numbers, string (N, 1) for text. The class
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
        foreach (Xent.Nn.Module layer in model.Layers)
        {
            x = layer switch
            {
                Linear l => g.Node("Gemm", [x, g.Floats(l.Weight.Name, l.Weight.Value, [l.OutputFeatures, l.InputFeatures]), g.Floats(l.Bias.Name, l.Bias.Value, [l.OutputFeatures])], attributes: Int("transB", 1)),
                CosineLinear c => Cosine(g, c, x),
                ReLU => g.Node("Relu", [x]),
                Dropout => x,
                LogSoftmax => g.Node("LogSoftmax", [x], attributes: Int("axis", 1)),
                Softmax => g.Node("Softmax", [x], attributes: Int("axis", 1)),
                Sequential nested => Network(g, nested, x),
                _ => throw new NotSupportedException($"The layer {layer.Spec.Kind} ({layer.GetType().Name}) has no ONNX export yet."),
            };
        }

        return x;
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
            if (attributes is not null)
            {
                node.Attribute.Add(attributes);
            }

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
