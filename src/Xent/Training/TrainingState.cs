using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Xent.Training;

/// <summary>
/// Everything the trainer's loop changes as it runs, in one type that is saved into the checkpoint and restored from
/// it whole. A new piece of loop state is added here and nowhere else: the checkpoint serialises every property, so
/// the resume cannot forget it. Every value is written with a fixed width (integers zero-padded, doubles as their
/// 64-bit patterns), so a checkpoint's size depends only on the model, the optimizer and the settings, never on how
/// far training has gone, and a resumed run restores each double bit for bit.
/// </summary>
internal sealed class TrainingState
{
    /// <summary>The epoch the next step belongs to, from 0.</summary>
    public int Epoch { get; set; }

    /// <summary>The next step within <see cref="Epoch"/>, from 0.</summary>
    public int Step { get; set; }

    /// <summary>Steps taken since the start.</summary>
    public long GlobalStep { get; set; }

    /// <summary>The optimizer's step count.</summary>
    public long OptimizerSteps { get; set; }

    /// <summary>The dropout generator's state, when the model has dropout.</summary>
    public ulong[]? DropoutState { get; set; }

    /// <summary>The best early-stopping value so far (NaN before the first).</summary>
    public double BestValue { get; set; } = double.NaN;

    /// <summary>The epoch of <see cref="BestValue"/>, or -1.</summary>
    public int BestEpoch { get; set; } = -1;

    /// <summary>Epochs without improvement.</summary>
    public int BadEpochs { get; set; }

    /// <summary>Whether the best weights are held (saved as <c>best/NAME</c> tensors).</summary>
    public bool HasBest { get; set; }

    /// <summary>Whether early stopping ended training.</summary>
    public bool StoppedEarly { get; set; }

    /// <summary>Whether training has finished (a resume then only restores the result).</summary>
    public bool Finished { get; set; }

    /// <summary>Σ batch loss × rows over the current epoch so far.</summary>
    public double EpochLossSum { get; set; }

    /// <summary>Correct predictions over the current epoch so far.</summary>
    public double EpochCorrect { get; set; }

    /// <summary>Rows trained on in the current epoch so far.</summary>
    public long EpochRows { get; set; }

    /// <summary>Per-step records written to the history log so far.</summary>
    public long BatchRecords { get; set; }

    /// <summary>Per-epoch records written to the history log so far.</summary>
    public long EpochRecords { get; set; }

    /// <summary>The length of history.csv at this state, in bytes (0 when no log is kept).</summary>
    public long BatchLogBytes { get; set; }

    /// <summary>The length of epochs.csv at this state, in bytes (0 when no log is kept).</summary>
    public long EpochLogBytes { get; set; }

    /// <summary>The state as fixed-width JSON.</summary>
    /// <returns>The text.</returns>
    public string Serialize() => JsonSerializer.Serialize(this, Options);

    /// <summary>A copy to serialise on another thread while the loop goes on changing this one (arrays are replaced, never changed in place).</summary>
    public TrainingState Snapshot() => (TrainingState)MemberwiseClone();

    /// <summary>Reads <see cref="Serialize"/>'s text.</summary>
    /// <param name="json">The text.</param>
    /// <returns>The state.</returns>
    /// <exception cref="JsonException">The text is malformed.</exception>
    public static TrainingState Deserialize(string json) => JsonSerializer.Deserialize<TrainingState>(json, Options) ?? throw new JsonException("The training state is empty.");

    /// <summary>The JSON settings: fixed-width converters for every value type the state uses.</summary>
    internal static readonly JsonSerializerOptions Options = new()
    {
        Converters = { new FixedInt32(), new FixedInt64(), new FixedDouble(), new FixedBoolean(), new FixedUInt64() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private sealed class FixedInt32 : JsonConverter<int>
    {
        public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => int.Parse(reader.GetString()!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

        public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString("+0000000000;-0000000000", CultureInfo.InvariantCulture));
    }

    private sealed class FixedInt64 : JsonConverter<long>
    {
        public override long Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => long.Parse(reader.GetString()!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

        public override void Write(Utf8JsonWriter writer, long value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString("+0000000000000000000;-0000000000000000000", CultureInfo.InvariantCulture));
    }

    private sealed class FixedUInt64 : JsonConverter<ulong>
    {
        public override ulong Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ulong.Parse(reader.GetString()!, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

        public override void Write(Utf8JsonWriter writer, ulong value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString("X16", CultureInfo.InvariantCulture));
    }

    private sealed class FixedDouble : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => BitConverter.UInt64BitsToDouble(ulong.Parse(reader.GetString()!, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => writer.WriteStringValue(BitConverter.DoubleToUInt64Bits(value).ToString("X16", CultureInfo.InvariantCulture));
    }

    private sealed class FixedBoolean : JsonConverter<bool>
    {
        public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetString() == "1";

        public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) => writer.WriteStringValue(value ? "1" : "0");
    }
}
