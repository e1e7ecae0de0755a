using Xent.Kernels;
using System.Text.Json;
using Xent.Data;
using Xent.Diagnostics;
using Xent.Nn;
using Xent.Optim;

namespace Xent.Training;

/// <summary>The optimizers the pipeline can build.</summary>
public enum OptimizerKind
{
    /// <summary>SGD with momentum.</summary>
    Sgd,

    /// <summary>Adam.</summary>
    Adam,

    /// <summary>AdamW.</summary>
    AdamW,
}

/// <summary>Everything <c>xent train</c> decides, with its defaults.</summary>
public sealed record PipelineOptions
{
    /// <summary>The loss. Default: cross-entropy.</summary>
    public LossKind Loss { get; init; } = LossKind.CrossEntropy;

    /// <summary>Class weights. Default: none.</summary>
    public ClassWeights ClassWeights { get; init; } = ClassWeights.None;

    /// <summary>Label smoothing (cross-entropy only). Default: 0.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Hidden layer widths. Default: [64].</summary>
    public IReadOnlyList<int> Hidden { get; init; } = [64];

    /// <summary>Dropout after each hidden layer. Default: 0.</summary>
    public float Dropout { get; init; }

    /// <summary>The optimizer. Default: Adam.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Learning rate; <see langword="null"/> for the optimizer's default (SGD 0.1, Adam/AdamW 0.001).</summary>
    public double? LearningRate { get; init; }

    /// <summary>SGD momentum. Default: 0.9.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Weight decay (L2 for SGD/Adam, decoupled for AdamW). Default: 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Validation share of the rows. Default: 0.1.</summary>
    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>Test share of the rows. Default: 0.2.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Whether to standardise features (fitted on the training split). Default: true.</summary>
    public bool Standardize { get; init; } = true;

    /// <summary>Bins of the ECE and the reliability diagram. Default: 15.</summary>
    public int EceBins { get; init; } = Xent.Metrics.Calibration.DefaultBins;

    /// <summary>The trainer's options (epochs, batch size, seed, …).</summary>
    public TrainerOptions Trainer { get; init; } = new();

    /// <summary>The learning rate actually used.</summary>
    public double EffectiveLearningRate => LearningRate ?? (Optimizer == OptimizerKind.Sgd ? 0.1 : 1e-3);
}

/// <summary>What a pipeline run produced.</summary>
/// <param name="Model">The trained model.</param>
/// <param name="Info">Its model-file information.</param>
/// <param name="Training">The training result and history.</param>
/// <param name="Evaluation">Scores on the test split (or the validation split when there is no test split).</param>
/// <param name="EvaluatedOn">"test" or "validation".</param>
/// <param name="Split">The row indices of each split.</param>
/// <param name="ClassWeights">The class weights used, or null.</param>
public sealed record PipelineResult(Sequential Model, ModelInfo Info, TrainingResult Training, EvaluationResult Evaluation, string EvaluatedOn, SplitIndices Split, double[]? ClassWeights);

/// <summary>
/// The whole path from a dataset to a scored model: stratified split, standardisation fitted on the training split,
/// an MLP, class weights from the training counts, training, and evaluation on the held-out split.
/// </summary>
public static class TrainingPipeline
{
    /// <summary>Runs the pipeline.</summary>
    /// <param name="data">The dataset (raw features).</param>
    /// <param name="options">The options.</param>
    /// <param name="progress">Progress reports, or null.</param>
    /// <param name="diagnostics">Warnings (for example logits that look like probabilities), or null.</param>
    /// <param name="resume">Resume from the trainer's checkpoint when it exists.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    /// <returns>The result.</returns>
    public static PipelineResult Run(Dataset data, PipelineOptions options, IProgress<TrainingProgress>? progress = null, IDiagnosticSink? diagnostics = null, bool resume = false, CancellationToken cancellationToken = default)
    {
        Check(data, options);
        if (diagnostics is not null)
        {
            foreach (Diagnostic d in DatasetInspector.Inspect(data).Diagnostics())
            {
                diagnostics.Report(d);
            }
        }

        ulong seed = options.Trainer.Seed;
        SplitIndices split = StratifiedSplit.Split(data.Labels, data.ClassCount, options.ValidationFraction, options.TestFraction, seed);
        Standardizer? standardizer = options.Standardize ? Standardizer.Fit(data, split.Train) : null;
        Dataset Prepare(int[] rows) => standardizer is null ? data.Subset(rows) : standardizer.TransformInPlace(data.Subset(rows));
        Dataset train = Prepare(split.Train);
        Dataset? validation = split.Validation.Length > 0 ? Prepare(split.Validation) : null;
        Dataset? test = split.Test.Length > 0 ? Prepare(split.Test) : null;
        double[]? weights = options.ClassWeights.Compute(train.ClassCounts());
        var init = XentRandom.ForStream(seed, 0x1417);
        Sequential model = Mlp.Create(data.FeatureCount, options.Hidden, data.ClassCount, init, options.Dropout, logSoftmax: options.Loss == LossKind.Nll);
        Optimizer optimizer = options.Optimizer switch
        {
            OptimizerKind.Sgd => new Sgd(model.Parameters, new SgdOptions { LearningRate = options.EffectiveLearningRate, Momentum = options.Momentum, WeightDecay = options.WeightDecay }),
            OptimizerKind.AdamW => Adam.AdamW(model.Parameters, new AdamOptions { LearningRate = options.EffectiveLearningRate, WeightDecay = options.WeightDecay }),
            _ => new Adam(model.Parameters, new AdamOptions { LearningRate = options.EffectiveLearningRate, WeightDecay = options.WeightDecay }),
        };
        var loss = new TrainingLoss(options.Loss, weights, options.LabelSmoothing, diagnostics);
        var settings = new RunSettings()
            .Add("val_fraction", options.ValidationFraction)
            .Add("test_fraction", options.TestFraction)
            .Add("standardize", options.Standardize)
            .Add("class_weights", options.ClassWeights.ToString())
            .AddRange(options.Trainer.Settings);
        TrainerOptions trainerOptions = options.Trainer with { Settings = settings };
        TrainingResult result = Trainer.Fit(model, optimizer, loss, train, validation, trainerOptions, progress, resume, cancellationToken);
        Dataset held = test ?? validation ?? train;
        string evaluatedOn = test is not null ? "test" : validation is not null ? "validation" : "train";
        EvaluationResult evaluation = Evaluation.Evaluate(model, held, options.Loss == LossKind.Nll, options.EceBins);
        var info = new ModelInfo { ClassNames = data.ClassNames, FeatureNames = data.FeatureNames, Standardizer = standardizer, Loss = options.Loss.Name() };
        return new PipelineResult(model, info, result, evaluation, evaluatedOn, split, weights);
    }

    /// <summary>
    /// Everything <see cref="Run"/> checks before it trains, without training: at least two classes, the trainer's
    /// options, class weights that are finite, non-negative and not all zero for the training split's counts, and a
    /// network that fits in memory. A caller that is about to replace a previous run's files calls it first.
    /// </summary>
    /// <param name="data">The dataset.</param>
    /// <param name="options">The options.</param>
    /// <exception cref="ArgumentException">A check fails; the message says which and why.</exception>
    public static void Check(Dataset data, PipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (data.ClassCount < 2)
        {
            throw new ArgumentException($"Classification needs at least 2 classes; the data have {data.ClassCount}.", nameof(data));
        }

        options.Trainer.Validate();
        SplitIndices split = StratifiedSplit.Split(data.Labels, data.ClassCount, options.ValidationFraction, options.TestFraction, options.Trainer.Seed);
        var counts = new int[data.ClassCount];
        foreach (int row in split.Train)
        {
            counts[data.Labels[row]]++;
        }

        double[]? weights = options.ClassWeights.Compute(counts);
        if (weights is not null && !(weights.All(w => w >= 0 && double.IsFinite(w)) && weights.Any(w => w > 0)))
        {
            throw new ArgumentException($"The class weights ({string.Join(", ", weights)}) must be finite, non-negative and not all zero; otherwise every loss is NaN.", nameof(options));
        }

        CheckModelSize(data.FeatureCount, options.Hidden, data.ClassCount);
    }

    /// <summary>
    /// Refuses, before anything is allocated, a network whose layers an array cannot hold or whose training state
    /// (weights, gradients, two optimizer moments, best weights) would not fit in this machine's memory.
    /// </summary>
    /// <param name="inputs">Input features.</param>
    /// <param name="hidden">Hidden widths.</param>
    /// <param name="classes">Classes.</param>
    /// <exception cref="ArgumentException">The network is too large; the message names the layer and the sizes.</exception>
    public static void CheckModelSize(int inputs, IReadOnlyList<int> hidden, int classes)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        long total = 0;
        int width = inputs;
        int[] outs = [.. hidden, classes];
        for (int i = 0; i < outs.Length; i++)
        {
            long weights = (long)width * outs[i];
            if (weights + outs[i] > Array.MaxLength)
            {
                throw new ArgumentException(FormattableString.Invariant($"Layer {i + 1} would map {width} inputs to {outs[i]} outputs: {weights:N0} weights, more than one array can hold ({Array.MaxLength:N0}). Use narrower layers (--hidden)."), nameof(hidden));
            }

            total += weights + outs[i];
            width = outs[i];
        }

        long bytes = total * sizeof(float) * 5;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available)
        {
            throw new ArgumentException(FormattableString.Invariant($"The network has {total:N0} parameters; training it needs about {bytes / 1e9:F1} GB (weights, gradients, optimizer state, best weights) but this machine has {available / 1e9:F1} GB. Use narrower layers (--hidden)."), nameof(hidden));
        }
    }

    /// <summary>The options as a JSON object, for config.json.</summary>
    /// <param name="options">The options.</param>
    /// <returns>The JSON text.</returns>
    public static string Describe(PipelineOptions options) => JsonSerializer.Serialize(new
    {
        loss = options.Loss.Name(),
        class_weights = options.ClassWeights.ToString(),
        label_smoothing = options.LabelSmoothing,
        hidden = options.Hidden,
        dropout = options.Dropout,
        optimizer = options.Optimizer.ToString().ToLowerInvariant(),
        learning_rate = options.EffectiveLearningRate,
        momentum = options.Momentum,
        weight_decay = options.WeightDecay,
        epochs = options.Trainer.Epochs,
        batch_size = options.Trainer.BatchSize,
        seed = options.Trainer.Seed,
        val_fraction = options.ValidationFraction,
        test_fraction = options.TestFraction,
        schedule = options.Trainer.Schedule.ToString(),
        early_stopping = options.Trainer.EarlyStopping?.ToString(),
        standardize = options.Standardize,
    }, JsonOptions.Indented);
}
