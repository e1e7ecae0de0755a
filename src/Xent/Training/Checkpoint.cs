using System.Text.Json;
using Xent.Nn;
using Xent.Optim;

namespace Xent.Training;

/// <summary>The trainer's position and counters, saved with the weights so that a resumed run is bit-identical.</summary>
internal sealed record CheckpointState
{
    public int Epoch { get; init; }

    public int Step { get; init; }

    public long GlobalStep { get; init; }

    public long OptimizerSteps { get; init; }

    public ulong[]? DropoutState { get; init; }

    public double BestValue { get; init; } = double.NaN;

    public int BestEpoch { get; init; } = -1;

    public int BadEpochs { get; init; }

    public bool Finished { get; init; }

    public double EpochLossSum { get; init; }

    public double EpochCorrect { get; init; }

    public long EpochRows { get; init; }

    public required string Fingerprint { get; init; }

    public required string History { get; init; }
}

/// <summary>
/// A training checkpoint: one safetensors file holding the model's parameters, the optimizer's state
/// (<c>optimizer/NAME</c>), the best weights so far (<c>best/NAME</c>), and the trainer's state as metadata
/// (position, counters, dropout generator, history). Written atomically, so a kill at any moment leaves either the
/// previous checkpoint or the new one.
/// </summary>
internal static class Checkpoint
{
    private static readonly JsonSerializerOptions StateJson = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Save(string path, Sequential model, Optimizer optimizer, float[][]? best, CheckpointState state)
    {
        var tensors = new List<KeyValuePair<string, NamedTensor>>();
        foreach (Parameter p in model.Parameters)
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
                tensors.Add(KeyValuePair.Create("best/" + model.Parameters[i].Name, new NamedTensor(model.Parameters[i].Shape, best[i])));
            }
        }

        Safetensors.Write(path, tensors, new Dictionary<string, string>
        {
            ["format"] = "xent-checkpoint/1",
            ["xent.state"] = JsonSerializer.Serialize(state, StateJson),
        });
    }

    public static CheckpointState Load(string path, Sequential model, Optimizer optimizer, out float[][]? best)
    {
        SafetensorsFile file = Safetensors.Read(path);
        string name = Path.GetFileName(path);
        if (!file.Metadata.TryGetValue("xent.state", out string? json))
        {
            throw new InvalidDataException($"{name}: not a Xent checkpoint (no xent.state metadata).");
        }

        CheckpointState state = JsonSerializer.Deserialize<CheckpointState>(json, StateJson) ?? throw new InvalidDataException($"{name}: empty checkpoint state.");
        foreach (Parameter p in model.Parameters)
        {
            p.Value.AsSpan().CopyFrom(Tensor(file, name, p.Name, p.Value.Length));
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

        best = file.Tensors.ContainsKey("best/" + model.Parameters[0].Name)
            ? [.. model.Parameters.Select(p => Tensor(file, name, "best/" + p.Name, p.Value.Length))]
            : null;
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

    private static void CopyFrom(this Span<float> destination, float[] source) => source.CopyTo(destination);
}
