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

    /// <summary>Feature names, in input order.</summary>
    public required IReadOnlyList<string> FeatureNames { get; init; }

    /// <summary>The standardisation fitted on the training split, applied before the model; <see langword="null"/> for none.</summary>
    public Standardizer? Standardizer { get; init; }

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

    /// <summary>Writes the model atomically.</summary>
    /// <param name="path">The file.</param>
    /// <param name="model">The model.</param>
    /// <param name="info">The information to keep with it.</param>
    public static void Save(string path, Sequential model, ModelInfo info)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(info);
        Safetensors.Write(path, model.Parameters.Select(p => KeyValuePair.Create(p.Name, new NamedTensor(p.Shape, p.Value))), Metadata(model, info));
    }

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

        return metadata;
    }

    /// <summary>Reads a model file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The model and its information.</returns>
    /// <exception cref="InvalidDataException">The file is corrupt, truncated, or not a Xent model; the message says which.</exception>
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
            throw new InvalidDataException($"{name}: not a Xent model: the metadata has no xent.architecture.");
        }

        Sequential model;
        ModelInfo info;
        try
        {
            LayerSpec spec = JsonSerializer.Deserialize<LayerSpec>(architecture, JsonOptions.Compact) ?? throw new InvalidDataException($"{name}: empty architecture.");
            model = spec.Build(new XentRandom(0)) as Sequential ?? throw new InvalidDataException($"{name}: the architecture is not a sequential model.");
            model.NameParameters();
            Standardizer? standardizer = null;
            if (m.TryGetValue("xent.standardizer", out string? st))
            {
                using JsonDocument doc = JsonDocument.Parse(st);
                standardizer = new Standardizer(
                    [.. doc.RootElement.GetProperty("mean").EnumerateArray().Select(e => e.GetSingle())],
                    [.. doc.RootElement.GetProperty("scale").EnumerateArray().Select(e => e.GetSingle())]);
            }

            info = new ModelInfo
            {
                ClassNames = JsonSerializer.Deserialize<string[]>(m.GetValueOrDefault("xent.classes", "[]")) ?? [],
                FeatureNames = JsonSerializer.Deserialize<string[]>(m.GetValueOrDefault("xent.features", "[]")) ?? [],
                Standardizer = standardizer,
                Loss = m.GetValueOrDefault("xent.loss", "cross-entropy"),
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"{name}: corrupt model metadata: {e.Message}", e);
        }

        foreach (Parameter p in model.Parameters)
        {
            if (!file.Tensors.TryGetValue(p.Name, out NamedTensor? t))
            {
                throw new InvalidDataException($"{name}: the tensor '{p.Name}' that the architecture needs is missing.");
            }

            if (!t.Shape.SequenceEqual(p.Shape))
            {
                throw new InvalidDataException($"{name}: tensor '{p.Name}' has shape [{string.Join(", ", t.Shape)}]; the architecture needs [{string.Join(", ", p.Shape)}].");
            }

            t.Values.CopyTo(p.Value, 0);
        }

        if (info.ClassNames.Count != model.OutputFeatures || info.FeatureNames.Count != model.InputFeatures)
        {
            throw new InvalidDataException($"{name}: the metadata names {info.FeatureNames.Count} features and {info.ClassNames.Count} classes but the model maps {model.InputFeatures} to {model.OutputFeatures}.");
        }

        return (model, info);
    }
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
