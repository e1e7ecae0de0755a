using Xent.Kernels;
using System.Text.Json;
using Xent.Data;
using Xent.Nn;

namespace Xent.Training;

/// <summary>What a model file records besides the weights.</summary>
public sealed record ModelInfo
{
    /// <summary>Class names; output i is class i.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>The input columns a CSV must have, by name: the model's features, or with a <see cref="Preprocessor"/> its input columns.</summary>
    public required IReadOnlyList<string> FeatureNames { get; init; }

    /// <summary>The standardisation fitted on the training split, applied before the model; <see langword="null"/> for none (older, numeric-only models).</summary>
    public Standardizer? Standardizer { get; init; }

    /// <summary>The column pipeline (imputation, one-hot encoding, standardisation) fitted on the training split; <see langword="null"/> in older models.</summary>
    public Preprocessor? Preprocessor { get; init; }

    /// <summary>The label column's name in the training file (evaluate's default --label), or <see langword="null"/>.</summary>
    public string? LabelColumn { get; init; }

    /// <summary>The factor applied to the outputs before the softmax (the loss's <see cref="Losses.ClassificationLoss.OutputScale"/>, LDAM's s). Default: 1.</summary>
    public double LogitScale { get; init; } = 1;

    /// <summary>Training rows per class, or <see langword="null"/>.</summary>
    public IReadOnlyList<int>? ClassCounts { get; init; }

    /// <summary>Sorted 64-bit hashes of the training rows' input values (<see cref="DataTable.RowHashes"/>), to warn when an evaluation scores rows the model was trained on; <see langword="null"/> when not kept.</summary>
    public IReadOnlyList<ulong>? TrainingRowHashes { get; init; }

    /// <summary>How many rows of a table are among the training rows, by their hashes (0 when no hashes are kept).</summary>
    /// <param name="table">Rows read with the model's schema.</param>
    /// <returns>The count.</returns>
    public int CountTrainingRows(DataTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (TrainingRowHashes is not { Count: > 0 } hashes)
        {
            return 0;
        }

        ulong[] sorted = hashes as ulong[] ?? [.. hashes];
        int overlap = 0;
        foreach (ulong h in table.RowHashes())
        {
            overlap += Array.BinarySearch(sorted, h) >= 0 ? 1 : 0;
        }

        return overlap;
    }

    /// <summary>The loss the model was trained with (<c>cross-entropy</c>, <c>soft-cross-entropy</c> or <c>nll</c>).</summary>
    public string Loss { get; init; } = "cross-entropy";
}

/// <summary>
/// Saves and loads models as safetensors: the weights under PyTorch's <c>nn.Sequential</c> state-dict names
/// (<c>0.weight</c>, <c>0.bias</c>, …), the architecture and the <see cref="ModelInfo"/> as JSON metadata.
/// A PyTorch user loads the weights with a few lines (see docs/training.md).
/// </summary>
public static class ModelFile
{
    /// <summary>The format tag written in the metadata.</summary>
    public const string Format = "xent-model/1";

    /// <summary>Writes the model atomically. A model file never holds a NaN or infinite value.</summary>
    /// <param name="path">The file.</param>
    /// <param name="model">The model.</param>
    /// <param name="info">The information to keep with it.</param>
    /// <exception cref="InvalidOperationException">A weight or a standardizer value is NaN or infinite; the message names the tensor. Nothing is written.</exception>
    public static void Save(string path, Sequential model, ModelInfo info)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(info);
        foreach (Parameter p in model.StateTensors)
        {
            RefuseNonFinite(p.Name, p.Value);
        }

        if (info.Standardizer is { } s)
        {
            RefuseNonFinite("xent.standardizer mean", s.Mean);
            RefuseNonFinite("xent.standardizer scale", s.Scale);
        }

        Safetensors.Write(path, model.StateTensors.Select(p => KeyValuePair.Create(p.Name, new NamedTensor(p.Shape, p.Value) { DType = p.Integer ? "I64" : "F32" })), Metadata(model, info));
    }

    private static void RefuseNonFinite(string tensor, float[] values)
    {
        int at = IndexOfNonFinite(values);
        if (at >= 0)
        {
            throw new InvalidOperationException($"Cannot save the model: tensor '{tensor}' holds {Describe(values[at])} at index {at}; a model file holds finite values only (did the training diverge?).");
        }
    }

    /// <summary>The index of the first NaN or infinity, or -1.</summary>
    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static string Describe(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+infinity" : "-infinity";

    /// <summary>The metadata strings of a model file.</summary>
    internal static Dictionary<string, string> Metadata(Sequential model, ModelInfo info)
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["xent.architecture"] = JsonSerializer.Serialize(model.Spec, JsonOptions.Compact),
            ["xent.classes"] = JsonSerializer.Serialize(info.ClassNames),
            ["xent.features"] = JsonSerializer.Serialize(info.FeatureNames),
            ["xent.loss"] = info.Loss,
        };
        if (info.Standardizer is { } s)
        {
            metadata["xent.standardizer"] = JsonSerializer.Serialize(new { mean = s.Mean, scale = s.Scale });
        }

        if (info.Preprocessor is { } pre)
        {
            metadata["xent.preprocessor"] = pre.ToJson();
        }

        if (info.LogitScale != 1)
        {
            metadata["xent.logit_scale"] = info.LogitScale.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        }

        if (info.LabelColumn is { } label)
        {
            metadata["xent.label"] = label;
        }

        if (info.ClassCounts is { } counts)
        {
            metadata["xent.class_counts"] = JsonSerializer.Serialize(counts);
        }

        if (info.TrainingRowHashes is { Count: > 0 } hashes)
        {
            byte[] bytes = new byte[hashes.Count * 8];
            for (int i = 0; i < hashes.Count; i++)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), hashes[i]);
            }

            metadata["xent.train_rows"] = Convert.ToBase64String(bytes);
        }

        return metadata;
    }

    /// <summary>
    /// Reads a model file. The architecture in the metadata is checked against the tensors in the file (names and
    /// shapes) before any layer is built, so a file cannot make Xent allocate more than the file itself holds; a NaN
    /// or infinite weight or standardizer value is refused.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The model and its information.</returns>
    /// <exception cref="InvalidDataException">The file is corrupt, truncated, not a Xent model, or holds a non-finite value; the message says which.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static (Sequential Model, ModelInfo Info) Load(string path)
    {
        SafetensorsFile file = Safetensors.Read(path);
        string name = Path.GetFileName(path);
        return FromFile(file, name);
    }

    internal static (Sequential Model, ModelInfo Info) FromFile(SafetensorsFile file, string name)
    {
        IReadOnlyDictionary<string, string> m = file.Metadata;
        if (!m.TryGetValue("xent.architecture", out string? architecture))
        {
            // A run's checkpoint lies beside its model and is the file people most often pass by mistake.
            string hint = m.ContainsKey("xent.state")
                ? " It looks like a training checkpoint, which holds no model description; use model.safetensors from the same folder."
                : string.Empty;
            throw new InvalidDataException($"{name}: not a Xent model: the metadata has no xent.architecture.{hint}");
        }

        LayerSpec spec;
        IReadOnlyList<KeyValuePair<string, int[]>> shapes;
        int inputs, outputs;
        ModelInfo info;
        string field = "xent.architecture";
        try
        {
            spec = JsonSerializer.Deserialize<LayerSpec>(architecture, JsonOptions.Compact) ?? throw new InvalidDataException($"{name}: empty architecture.");
            if (spec.Kind != "sequential")
            {
                throw new InvalidDataException($"{name}: the architecture is not a sequential model.");
            }

            // Sizes first, in 64 bits, against nothing but the description: no layer is built yet.
            shapes = spec.StateShapes(out inputs, out outputs);
            Standardizer? standardizer = null;
            field = "xent.standardizer";
            if (m.TryGetValue(field, out string? st))
            {
                using JsonDocument doc = JsonDocument.Parse(st);
                float[] mean = ReadFloats(doc.RootElement.GetProperty("mean"), "mean", name);
                float[] scale = ReadFloats(doc.RootElement.GetProperty("scale"), "scale", name);
                if (mean.Length != scale.Length || scale.Any(v => !(v > 0)))
                {
                    throw new InvalidDataException($"{name}: xent.standardizer needs as many means as scales ({mean.Length} and {scale.Length}), and scales > 0.");
                }

                standardizer = new Standardizer(mean, scale);
            }

            Preprocessor? preprocessor = null;
            field = "xent.preprocessor";
            if (m.TryGetValue(field, out string? pre))
            {
                try
                {
                    preprocessor = Preprocessor.FromJson(pre);
                }
                catch (InvalidDataException e)
                {
                    throw new InvalidDataException($"{name}: {e.Message}", e);
                }
            }

            field = "xent.class_counts";
            int[]? counts = m.TryGetValue(field, out string? cc) ? JsonSerializer.Deserialize<int[]>(cc) : null;
            field = "xent.train_rows";
            ulong[]? rowHashes = null;
            if (m.TryGetValue(field, out string? rh))
            {
                byte[] bytes = Convert.FromBase64String(rh);
                if (bytes.Length % 8 != 0)
                {
                    throw new FormatException("the row hashes are not whole 64-bit values.");
                }

                rowHashes = new ulong[bytes.Length / 8];
                for (int i = 0; i < rowHashes.Length; i++)
                {
                    rowHashes[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(i * 8));
                }

                Array.Sort(rowHashes);
            }

            field = "xent.classes";
            string[] classes = JsonSerializer.Deserialize<string[]>(m.GetValueOrDefault(field, "[]")) ?? [];
            field = "xent.features";
            string[] features = JsonSerializer.Deserialize<string[]>(m.GetValueOrDefault(field, "[]")) ?? [];
            info = new ModelInfo
            {
                ClassNames = classes,
                FeatureNames = features,
                Standardizer = standardizer,
                Preprocessor = preprocessor,
                ClassCounts = counts,
                LabelColumn = m.GetValueOrDefault("xent.label"),
                LogitScale = m.TryGetValue("xent.logit_scale", out string? ls) ? (double.TryParse(ls, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double logitScale) && logitScale > 0 && double.IsFinite(logitScale) ? logitScale : throw new FormatException($"xent.logit_scale is '{ls}', not a positive number.")) : 1,
                TrainingRowHashes = rowHashes,
                Loss = m.GetValueOrDefault("xent.loss", "cross-entropy"),
            };
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{name}: corrupt model metadata: {field} is not what Xent writes (at {e.Path ?? "$"}, line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}).", e);
        }
        catch (Exception e) when (e is FormatException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"{name}: corrupt model metadata: {field}: {e.Message}", e);
        }

        foreach ((string tensor, int[] shape) in shapes)
        {
            if (!file.Tensors.TryGetValue(tensor, out NamedTensor? t))
            {
                throw new InvalidDataException($"{name}: the tensor '{tensor}' that the architecture needs is missing.");
            }

            if (!t.Shape.AsSpan().SequenceEqual(shape))
            {
                throw new InvalidDataException($"{name}: tensor '{tensor}' has shape [{string.Join(", ", t.Shape)}]; the architecture needs [{string.Join(", ", shape)}].");
            }

            int at = IndexOfNonFinite(t.Values);
            if (at >= 0)
            {
                throw new InvalidDataException($"{name}: tensor '{tensor}' holds {Describe(t.Values[at])} at index {at}; a model's weights must be finite.");
            }
        }

        if (info.ClassCounts is { } storedCounts && (storedCounts.Count != outputs || storedCounts.Any(k => k < 0)))
        {
            throw new InvalidDataException($"{name}: corrupt model metadata: xent.class_counts lists {storedCounts.Count} counts for {outputs} classes (or a negative one).");
        }

        string? twice = info.FeatureNames.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key
            ?? info.ClassNames.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (twice is not null)
        {
            throw new InvalidDataException($"{name}: corrupt model metadata: the name '{twice}' is listed twice among the features or the classes.");
        }

        if (info.Preprocessor is { } pipeline)
        {
            if (pipeline.OutputWidth != inputs || !pipeline.Columns.Select(c => c.Name).SequenceEqual(info.FeatureNames))
            {
                throw new InvalidDataException($"{name}: the preprocessor reads {pipeline.Columns.Count} columns into {pipeline.OutputWidth} inputs, but the metadata names {info.FeatureNames.Count} columns and the model takes {inputs} inputs.");
            }

            if (info.ClassNames.Count != outputs)
            {
                throw new InvalidDataException($"{name}: the metadata names {info.ClassNames.Count} classes but the model has {outputs} outputs.");
            }
        }
        else if (info.ClassNames.Count != outputs || info.FeatureNames.Count != inputs)
        {
            throw new InvalidDataException($"{name}: the metadata names {info.FeatureNames.Count} features and {info.ClassNames.Count} classes but the model maps {inputs} to {outputs}.");
        }

        if (info.Standardizer is { } s && s.Mean.Length != inputs)
        {
            throw new InvalidDataException($"{name}: the standardizer has {s.Mean.Length} values per feature but the model takes {inputs} features.");
        }

        Sequential model;
        try
        {
            model = spec.Build(new XentRandom(0)) as Sequential ?? throw new InvalidDataException($"{name}: the architecture is not a sequential model.");
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{name}: corrupt model metadata: {e.Message}", e);
        }

        model.NameParameters();
        foreach (Parameter p in model.StateTensors)
        {
            file.Tensors[p.Name].Values.CopyTo(p.Value, 0);
        }

        return (model, info);
    }

    /// <summary>Reads a standardizer array: finite numbers only.</summary>
    private static float[] ReadFloats(JsonElement array, string field, string name)
    {
        var values = new float[array.GetArrayLength()];
        int i = 0;
        foreach (JsonElement e in array.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double v) || !double.IsFinite(v) || !float.IsFinite((float)v))
            {
                throw new InvalidDataException($"{name}: xent.standardizer {field}[{i}] is {Shorten(e.GetRawText())}; standardizer values must be finite numbers.");
            }

            values[i++] = (float)v;
        }

        return values;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

/// <summary>Shared JSON settings.</summary>
internal static class JsonOptions
{
    public static readonly JsonSerializerOptions Compact = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault,
    };

    public static readonly JsonSerializerOptions Indented = new(Compact) { WriteIndented = true };
}
