using System.Globalization;
using System.Text;
using System.Text.Json;
using Xent.Data;

namespace Xent.Training;

/// <summary>One mini-batch of training.</summary>
/// <param name="Epoch">Epoch, from 0.</param>
/// <param name="Step">Step within the epoch, from 1.</param>
/// <param name="GlobalStep">Step since the start, from 1.</param>
/// <param name="Loss">The training objective on this batch.</param>
/// <param name="Accuracy">Accuracy on this batch.</param>
/// <param name="LearningRate">The learning rate used.</param>
/// <param name="ValidationLoss">Validation cross-entropy after this step, when evaluated (NaN otherwise).</param>
/// <param name="ValidationAccuracy">Validation accuracy after this step, when evaluated (NaN otherwise).</param>
public sealed record BatchRecord(int Epoch, int Step, long GlobalStep, double Loss, double Accuracy, double LearningRate, double ValidationLoss = double.NaN, double ValidationAccuracy = double.NaN);

/// <summary>One epoch of training.</summary>
/// <param name="Epoch">Epoch, from 0.</param>
/// <param name="Loss">Mean training objective over the epoch's rows.</param>
/// <param name="Accuracy">Training accuracy over the epoch's batches (as trained, in training mode).</param>
/// <param name="ValidationLoss">Validation cross-entropy (unweighted, unsmoothed: the log loss), NaN without a validation split.</param>
/// <param name="ValidationAccuracy">Validation accuracy, NaN without a validation split.</param>
/// <param name="LearningRate">The learning rate of the epoch.</param>
public sealed record EpochRecord(int Epoch, double Loss, double Accuracy, double ValidationLoss, double ValidationAccuracy, double LearningRate);

/// <summary>Everything recorded while training, per mini-batch and per epoch.</summary>
public sealed class TrainingHistory
{
    /// <summary>Per mini-batch.</summary>
    public List<BatchRecord> Batches { get; init; } = [];

    /// <summary>Per epoch.</summary>
    public List<EpochRecord> Epochs { get; init; } = [];

    /// <summary>The batch records as CSV (header: epoch, step, global_step, loss, accuracy, learning_rate, val_loss, val_accuracy).</summary>
    /// <returns>The text.</returns>
    public string BatchesCsv()
    {
        var sb = new StringBuilder("epoch,step,global_step,loss,accuracy,learning_rate,val_loss,val_accuracy\n");
        foreach (BatchRecord b in Batches)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{b.Epoch},{b.Step},{b.GlobalStep},{N(b.Loss)},{N(b.Accuracy)},{N(b.LearningRate)},{N(b.ValidationLoss)},{N(b.ValidationAccuracy)}\n");
        }

        return sb.ToString();
    }

    /// <summary>The epoch records as CSV (header: epoch, loss, accuracy, val_loss, val_accuracy, learning_rate).</summary>
    /// <returns>The text.</returns>
    public string EpochsCsv()
    {
        var sb = new StringBuilder("epoch,loss,accuracy,val_loss,val_accuracy,learning_rate\n");
        foreach (EpochRecord e in Epochs)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{e.Epoch},{N(e.Loss)},{N(e.Accuracy)},{N(e.ValidationLoss)},{N(e.ValidationAccuracy)},{N(e.LearningRate)}\n");
        }

        return sb.ToString();
    }

    /// <summary>Both as JSON (NaN written as null).</summary>
    /// <returns>The text.</returns>
    public string ToJson() => JsonSerializer.Serialize(new { batches = Batches.Select(Plain), epochs = Epochs.Select(Plain) }, JsonOptions.Indented);

    /// <summary>Writes history.csv (batches), epochs.csv and history.json into a folder, each atomically.</summary>
    /// <param name="directory">The folder.</param>
    public void WriteTo(string directory)
    {
        AtomicFile.WriteAllText(Path.Combine(directory, "history.csv"), BatchesCsv());
        AtomicFile.WriteAllText(Path.Combine(directory, "epochs.csv"), EpochsCsv());
        AtomicFile.WriteAllText(Path.Combine(directory, "history.json"), ToJson());
    }

    internal string Serialize() => JsonSerializer.Serialize(this, SerializeOptions);

    internal static TrainingHistory Deserialize(string json) => JsonSerializer.Deserialize<TrainingHistory>(json, SerializeOptions) ?? new TrainingHistory();

    private static readonly JsonSerializerOptions SerializeOptions = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private static Dictionary<string, object?> Plain(BatchRecord b) => new()
    {
        ["epoch"] = b.Epoch, ["step"] = b.Step, ["global_step"] = b.GlobalStep, ["loss"] = J(b.Loss), ["accuracy"] = J(b.Accuracy),
        ["learning_rate"] = J(b.LearningRate), ["val_loss"] = J(b.ValidationLoss), ["val_accuracy"] = J(b.ValidationAccuracy),
    };

    private static Dictionary<string, object?> Plain(EpochRecord e) => new()
    {
        ["epoch"] = e.Epoch, ["loss"] = J(e.Loss), ["accuracy"] = J(e.Accuracy), ["val_loss"] = J(e.ValidationLoss),
        ["val_accuracy"] = J(e.ValidationAccuracy), ["learning_rate"] = J(e.LearningRate),
    };

    private static double? J(double v) => double.IsFinite(v) ? v : null;

    private static string N(double v) => double.IsNaN(v) ? string.Empty : v.ToString("R", CultureInfo.InvariantCulture);
}
