using Xent.Data;
using Xent.Metrics;
using Xent.Nn;

namespace Xent.Training;

/// <summary>A model's predictions on a dataset, with its metrics.</summary>
/// <param name="Probabilities">Rows × classes, row-major.</param>
/// <param name="Predicted">The most probable class of each row.</param>
/// <param name="Metrics">Classification metrics (when the data have labels).</param>
/// <param name="LogLoss">Log loss.</param>
/// <param name="ExpectedCalibrationError">ECE over <see cref="EceBins"/> equal-width bins of the top probability.</param>
/// <param name="Reliability">The reliability bins (as many as <see cref="EceBins"/>).</param>
public sealed record EvaluationResult(float[] Probabilities, int[] Predicted, ClassificationMetrics Metrics, double LogLoss, double ExpectedCalibrationError, ReliabilityBin[] Reliability)
{
    /// <summary>The number of bins of the ECE and the reliability diagram.</summary>
    public int EceBins => Reliability.Length;

    /// <summary>The evaluated rows' true classes, in row order (for ROC and precision-recall curves); <see langword="null"/> when not known.</summary>
    public IReadOnlyList<int>? Truth { get; init; }
}

/// <summary>Runs a trained model over data: probabilities, predictions and metrics.</summary>
public static class Evaluation
{
    /// <summary>Class probabilities for every row, in evaluation mode.</summary>
    /// <param name="model">The model.</param>
    /// <param name="data">The rows (standardised as in training).</param>
    /// <param name="outputsAreLogProbabilities">Whether the model ends with log_softmax (NLL models).</param>
    /// <param name="logitOffset">Subtracted from each row's outputs before the softmax (post-hoc logit adjustment: τ·log π), or <see langword="null"/>.</param>
    /// <returns>Rows × classes probabilities.</returns>
    /// <param name="logitScale">Multiplies the outputs first (LDAM's s, <see cref="ModelInfo.LogitScale"/>). Default: 1.</param>
    public static float[] PredictProbabilities(Sequential model, Dataset data, bool outputsAreLogProbabilities, IReadOnlyList<double>? logitOffset = null, double logitScale = 1)
        => PredictProbabilities(model, (ITrainingRows)data, outputsAreLogProbabilities, logitOffset, logitScale);

    /// <summary>
    /// Class probabilities for every row of a table read with the model's schema, encoded by its preprocessor as they
    /// are scored: an image table's pixels stay bytes and are encoded 512 rows at a time; other tables are encoded
    /// whole first.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="preprocessor">The model's preprocessor.</param>
    /// <param name="table">The rows.</param>
    /// <param name="outputsAreLogProbabilities">Whether the model ends with log_softmax (NLL models).</param>
    /// <param name="logitOffset">Post-hoc logit adjustment (subtracted from the outputs), or <see langword="null"/>.</param>
    /// <param name="logitScale">Multiplies the outputs first (LDAM's s). Default: 1.</param>
    /// <returns>Rows × classes probabilities.</returns>
    /// <exception cref="ArgumentException">The table's columns are not the preprocessor's inputs, or a pixel column holds a value outside [0, 1].</exception>
    public static float[] PredictProbabilities(Sequential model, Preprocessor preprocessor, DataTable table, bool outputsAreLogProbabilities, IReadOnlyList<double>? logitOffset = null, double logitScale = 1)
        => PredictProbabilities(model, RowsOf(preprocessor, table), outputsAreLogProbabilities, logitOffset, logitScale);

    /// <summary>
    /// Predicts and scores the labelled rows of a table, encoded by the model's preprocessor as they are scored (an
    /// image table's pixels stay bytes), as <see cref="PredictProbabilities(Sequential, Preprocessor, DataTable, bool, IReadOnlyList{double}?, double)"/> does.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="preprocessor">The model's preprocessor.</param>
    /// <param name="table">Labelled rows.</param>
    /// <param name="outputsAreLogProbabilities">Whether the model ends with log_softmax.</param>
    /// <param name="eceBins">Bins of the ECE and the reliability diagram. Default: 15.</param>
    /// <param name="logitOffset">Post-hoc logit adjustment (subtracted from the outputs), or <see langword="null"/>.</param>
    /// <param name="logitScale">Multiplies the outputs first (LDAM's s). Default: 1.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentException">The table's columns are not the preprocessor's inputs, or a pixel column holds a value outside [0, 1].</exception>
    public static EvaluationResult Evaluate(Sequential model, Preprocessor preprocessor, DataTable table, bool outputsAreLogProbabilities, int eceBins = Calibration.DefaultBins, IReadOnlyList<double>? logitOffset = null, double logitScale = 1)
        => Evaluate(model, RowsOf(preprocessor, table), outputsAreLogProbabilities, eceBins, logitOffset, logitScale);

    /// <summary>A table's rows as the model reads them: bytes encoded on reading for images, else encoded whole.</summary>
    private static ITrainingRows RowsOf(Preprocessor preprocessor, DataTable table)
    {
        ArgumentNullException.ThrowIfNull(preprocessor);
        ArgumentNullException.ThrowIfNull(table);
        return preprocessor.Rows(table, [.. Enumerable.Range(0, table.Count)]).Rows;
    }

    /// <summary>
    /// <see cref="PredictProbabilities(Sequential, Dataset, bool, IReadOnlyList{double}?, double)"/> on rows held in
    /// any form (an image table's rows are encoded a block at a time).
    /// </summary>
    internal static float[] PredictProbabilities(Sequential model, ITrainingRows data, bool outputsAreLogProbabilities, IReadOnlyList<double>? logitOffset = null, double logitScale = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        int classes = model.OutputFeatures;
        var result = new float[data.Count * classes];
        const int chunk = 512;
        float[]? block = null;
        for (int start = 0; start < data.Count; start += chunk)
        {
            int m = Math.Min(chunk, data.Count - start);
            ReadOnlySpan<float> output = model.Forward(RowBlock.Get(data, start, m, ref block), m, training: false);
            for (int i = 0; i < m; i++)
            {
                ToProbabilities(output.Slice(i * classes, classes), result.AsSpan((start + i) * classes, classes), outputsAreLogProbabilities, logitOffset, logitScale);
            }
        }

        return result;
    }

    /// <summary>
    /// One row of model outputs as probabilities: s·z − offset then a shifted softmax when a scale or an offset is
    /// given (for log-probabilities the same shift before renormalising); else exp for log-probabilities, or the softmax.
    /// </summary>
    internal static void ToProbabilities(ReadOnlySpan<float> output, Span<float> row, bool outputsAreLogProbabilities, IReadOnlyList<double>? logitOffset, double logitScale)
    {
        if (logitOffset is not null || logitScale != 1)
        {
            output.CopyTo(row);
            for (int k = 0; k < row.Length; k++)
            {
                row[k] = (float)((row[k] * logitScale) - (logitOffset?[k] ?? 0));
            }

            Xent.Kernels.StableSoftmax.Row(row, row);
        }
        else if (outputsAreLogProbabilities)
        {
            System.Numerics.Tensors.TensorPrimitives.Exp(output, row);
        }
        else
        {
            Xent.Kernels.StableSoftmax.Row(output, row);
        }
    }

    /// <summary>The post-hoc logit adjustment τ·log π_c from training class counts (Menon et al., 2021).</summary>
    /// <param name="classCounts">Training rows per class.</param>
    /// <param name="tau">τ.</param>
    /// <returns>One offset per class, to subtract from the logits.</returns>
    /// <exception cref="ArgumentException">A class has no training rows.</exception>
    public static double[] LogitAdjustment(IReadOnlyList<int> classCounts, double tau)
    {
        ArgumentNullException.ThrowIfNull(classCounts);
        if (classCounts.Any(c => c <= 0))
        {
            throw new ArgumentException("Post-hoc logit adjustment needs at least one training row of every class.", nameof(classCounts));
        }

        double n = classCounts.Sum(c => (double)c);
        return [.. classCounts.Select(c => tau * Math.Log(c / n))];
    }

    /// <summary>Predicts and scores.</summary>
    /// <param name="model">The model.</param>
    /// <param name="data">Labelled rows (standardised as in training).</param>
    /// <param name="outputsAreLogProbabilities">Whether the model ends with log_softmax.</param>
    /// <param name="eceBins">Bins of the ECE and the reliability diagram. Default: 15.</param>
    /// <param name="logitOffset">Post-hoc logit adjustment (subtracted from the outputs), or <see langword="null"/>.</param>
    /// <returns>The result.</returns>
    /// <param name="logitScale">Multiplies the outputs first (LDAM's s). Default: 1.</param>
    public static EvaluationResult Evaluate(Sequential model, Dataset data, bool outputsAreLogProbabilities, int eceBins = Calibration.DefaultBins, IReadOnlyList<double>? logitOffset = null, double logitScale = 1)
        => Evaluate(model, (ITrainingRows)data, outputsAreLogProbabilities, eceBins, logitOffset, logitScale);

    /// <summary>
    /// <see cref="Evaluate(Sequential, Dataset, bool, int, IReadOnlyList{double}?, double)"/> on rows held in any form
    /// (an image table's rows are encoded a block at a time).
    /// </summary>
    internal static EvaluationResult Evaluate(Sequential model, ITrainingRows data, bool outputsAreLogProbabilities, int eceBins = Calibration.DefaultBins, IReadOnlyList<double>? logitOffset = null, double logitScale = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(eceBins, 1);
        float[] probabilities = PredictProbabilities(model, data, outputsAreLogProbabilities, logitOffset, logitScale);
        int classes = model.OutputFeatures;
        var predicted = new int[data.Count];
        for (int i = 0; i < data.Count; i++)
        {
            predicted[i] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax<float>(probabilities.AsSpan(i * classes, classes));
        }

        return new EvaluationResult(
            probabilities, predicted,
            ClassificationMetrics.Compute(data.Labels, predicted, classes),
            Calibration.LogLoss(data.Labels, probabilities, classes),
            Calibration.ExpectedCalibrationError(data.Labels, probabilities, classes, eceBins),
            Calibration.Reliability(data.Labels, probabilities, classes, eceBins))
        {
            Truth = data.Labels,
        };
    }
}
