using System.Text.Json;
using Xent.Nn;
using Xent.Optim;

namespace Xent.Training;

/// <summary>
/// A training checkpoint: one safetensors file holding the model's parameters and buffers, the optimizer's state
/// (<c>optimizer/NAME</c>), the best weights so far (<c>best/NAME</c>, when early stopping is on), and as metadata
/// the <see cref="TrainingState"/> (fixed-width) and the <see cref="RunSettings"/> that a resume must match. Its size
/// depends on the model, the optimizer and the settings only, not on the step count (the history lives in its own
/// log). Written atomically by <see cref="CheckpointWriter"/>, in the background, so a kill at any moment leaves either the
/// previous checkpoint or the new one.
/// </summary>
internal static class Checkpoint
{
    /// <summary>The format tag.</summary>
    public const string Format = "xent-checkpoint/2";

    /// <summary>The tensors a checkpoint holds, viewing the live arrays: the model's state, the optimizer's, and the best weights.</summary>
    internal static List<KeyValuePair<string, NamedTensor>> Tensors(Sequential model, Optimizer optimizer, float[][]? best)
    {
        var tensors = new List<KeyValuePair<string, NamedTensor>>();
        IReadOnlyList<Parameter> tensorsOfModel = model.StateTensors;
        foreach (Parameter p in tensorsOfModel)
        {
            tensors.Add(KeyValuePair.Create(p.Name, new NamedTensor(p.Shape, p.Value)));
        }

        foreach ((string name, float[] values) in optimizer.ExportState())
        {
            tensors.Add(KeyValuePair.Create("optimizer/" + name, new NamedTensor([values.Length], values)));
        }

        if (best is not null)
        {
            for (int i = 0; i < best.Length; i++)
            {
                tensors.Add(KeyValuePair.Create("best/" + tensorsOfModel[i].Name, new NamedTensor(tensorsOfModel[i].Shape, best[i])));
            }
        }

        return tensors;
    }

    /// <summary>Refuses a checkpoint with a NaN or infinite value, naming the tensor.</summary>
    internal static void CheckFinite(List<KeyValuePair<string, NamedTensor>> tensors)
    {
        foreach ((string name, NamedTensor t) in tensors)
        {
            if (!float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum<float>(t.Values)) && t.Values.Any(v => !float.IsFinite(v)))
            {
                throw new InvalidOperationException($"Refusing to write a checkpoint: tensor '{name}' holds a non-finite value.");
            }
        }
    }

    /// <summary>The metadata of a checkpoint: the format, the state and the settings, as text (taken when called).</summary>
    internal static Dictionary<string, string> Metadata(TrainingState state, RunSettings settings) => new()
    {
        ["format"] = Format,
        ["xent.state"] = state.Serialize(),
        ["xent.settings"] = settings.ToJson(),
    };

    /// <summary>Reads a checkpoint, checks that it was made with <paramref name="settings"/>, and restores the model and optimizer.</summary>
    /// <exception cref="InvalidDataException">The file is corrupt, not a current checkpoint, or made with other settings or data (the message names the first that differs).</exception>
    public static TrainingState Load(string path, Sequential model, Optimizer optimizer, RunSettings settings, out float[][]? best)
    {
        SafetensorsFile file = Safetensors.Read(path);
        string name = Path.GetFileName(path);
        if (!file.Metadata.TryGetValue("xent.state", out string? json) || !file.Metadata.TryGetValue("xent.settings", out string? saved)
            || file.Metadata.GetValueOrDefault("format") != Format)
        {
            throw new InvalidDataException($"{name}: not a checkpoint of this Xent version (format {file.Metadata.GetValueOrDefault("format", "unknown")}, expected {Format}); start afresh with --force instead of --resume.");
        }

        TrainingState state;
        RunSettings savedSettings;
        try
        {
            savedSettings = RunSettings.FromJson(saved);
            state = TrainingState.Deserialize(json);
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException or NotSupportedException)
        {
            throw new InvalidDataException($"{name}: corrupt checkpoint state: {e.Message}", e);
        }

        if (RunSettings.FirstDifference(savedSettings, settings) is { } difference)
        {
            throw new InvalidDataException($"{name}: the checkpoint was made with other settings or data ({difference}); resume with the same options and data, or start afresh with --force instead of --resume.");
        }

        foreach (Parameter p in model.StateTensors)
        {
            Tensor(file, name, p.Name, p.Value.Length).CopyTo(p.Value, 0);
        }

        var optimizerState = file.Tensors.Where(kv => kv.Key.StartsWith("optimizer/", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["optimizer/".Length..], kv => kv.Value.Values);
        try
        {
            optimizer.ImportState(optimizerState, state.OptimizerSteps);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{name}: {e.Message} (was the checkpoint made with another optimizer?)", e);
        }

        best = state.HasBest ? [.. model.StateTensors.Select(p => Tensor(file, name, "best/" + p.Name, p.Value.Length))] : null;
        return state;
    }

    private static float[] Tensor(SafetensorsFile file, string name, string key, int length)
    {
        if (!file.Tensors.TryGetValue(key, out NamedTensor? t) || t.Values.Length != length)
        {
            throw new InvalidDataException($"{name}: tensor '{key}' is missing or has the wrong size for this model.");
        }

        return t.Values;
    }
}
