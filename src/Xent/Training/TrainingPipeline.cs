using Xent.Kernels;
using System.Text.Json;
using Xent.Data;
using Xent.Diagnostics;
using Xent.Losses;
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
    /// <summary>The loss, as <see cref="LossCatalog"/> reads it (<c>NAME[:key=value,…]</c>, for example <c>focal:gamma=2</c>). Default: cross-entropy.</summary>
    public string Loss { get; init; } = "cross-entropy";

    /// <summary>The z-loss coefficient, coef·(log Σ exp z)² added to any loss (0, the default, for none).</summary>
    public double ZLoss { get; init; }

    /// <summary>Deferred re-weighting: from this epoch (from 0) on, class-balanced weights with β = 0.9999 replace the class weights; <see langword="null"/> (the default) for none.</summary>
    public int? DrwEpoch { get; init; }

    /// <summary>Class weights. Default: none.</summary>
    public ClassWeights ClassWeights { get; init; } = ClassWeights.None;

    /// <summary>Label smoothing (cross-entropy only). Default: 0.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Hidden layer widths. Default: [64].</summary>
    public IReadOnlyList<int> Hidden { get; init; } = [64];

    /// <summary>
    /// A model description (<c>conv2d(32,3),relu,maxpool(2),flatten,linear(128),relu,linear</c>, parsed by
    /// <see cref="ModelDescription.Parse"/>) used instead of the MLP of <see cref="Hidden"/>; <see langword="null"/> (the default) for the MLP.
    /// </summary>
    public IReadOnlyList<LayerEntry>? Model { get; init; }

    /// <summary>The shape of one sample, (C, H, W) or (C, L), that <see cref="Model"/> sees the encoded features as (NCHW order); <see langword="null"/> (the default) for flat features.</summary>
    public IReadOnlyList<int>? InputShape { get; init; }

    /// <summary>The last layer: <c>linear</c> (the default) or <c>cosine</c> (cos(x, w_j), no bias; LDAM's authors pair it with LDAM).</summary>
    public string Head { get; init; } = "linear";

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

    /// <summary>The spellings of a missing cell the data were read with (stored with the model, so predictions read files the same way). Default: NA, NaN, ?, null.</summary>
    public IReadOnlyList<string> MissingTokens { get; init; } = TableReadOptions.DefaultMissingTokens;

    /// <summary>Keep hashes of the training rows in the model so that <c>evaluate</c> can warn about overlap (up to this many rows). Default: 2,000,000.</summary>
    public int MaxRowHashes { get; init; } = 2_000_000;

    /// <summary>Bins of the ECE and the reliability diagram. Default: 15.</summary>
    public int EceBins { get; init; } = Xent.Metrics.Calibration.DefaultBins;

    /// <summary>The trainer's options. Default: at most 200 epochs, early stopping on the validation loss with patience 10 (keeping the best weights), batch size 32, seed 0.</summary>
    public TrainerOptions Trainer { get; init; } = new() { Epochs = 200, EarlyStopping = new EarlyStopping("val_loss", 10) };

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
public sealed record PipelineResult(Sequential Model, ModelInfo Info, TrainingResult Training, EvaluationResult Evaluation, string EvaluatedOn, SplitIndices Split, double[]? ClassWeights)
{
    /// <summary>Cells of the evaluated rows whose category the training rows did not have (encoded as all zeros).</summary>
    public long UnseenCells { get; init; }

    /// <summary>The first of those cells, or <see langword="null"/>.</summary>
    public UnseenCategory? FirstUnseen { get; init; }

    /// <summary>
    /// Training rows whose encoded features this process kept: the whole training split, or, under sharded training
    /// across processes (<see cref="TrainerOptions.Communicator"/> of more than one process) with a validation or test
    /// split, only the rows of this process's partitions (about 1/K of the split).
    /// </summary>
    public int HeldTrainingRows { get; init; }
}

/// <summary>
/// The whole path from a dataset to a scored model: stratified split, standardisation fitted on the training split,
/// an MLP, class weights from the training counts, training, and evaluation on the held-out split.
/// </summary>
public static class TrainingPipeline
{
    /// <summary>Runs the pipeline on numeric data (every feature a numeric column).</summary>
    /// <param name="data">The dataset (raw features).</param>
    /// <param name="options">The options.</param>
    /// <param name="progress">Progress reports, or null.</param>
    /// <param name="diagnostics">Warnings (for example logits that look like probabilities), or null.</param>
    /// <param name="resume">Resume from the trainer's checkpoint when it exists.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    /// <returns>The result.</returns>
    public static PipelineResult Run(Dataset data, PipelineOptions options, IProgress<TrainingProgress>? progress = null, IDiagnosticSink? diagnostics = null, bool resume = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Run(DataTable.FromDataset(data), options, progress, diagnostics, resume, cancellationToken);
    }

    /// <summary>
    /// Runs the pipeline on a table: a stratified split (a validation or test table given here takes the place of
    /// that part of the split), a <see cref="Preprocessor"/> fitted on the training rows, an MLP, class weights from
    /// the training counts, training, and evaluation on the test rows (else the validation rows).
    /// </summary>
    /// <remarks>
    /// Under sharded training across processes (<see cref="TrainerOptions.Shards"/> with a
    /// <see cref="TrainerOptions.Communicator"/> of K &gt; 1 processes) and with a validation or test split, each
    /// process encodes the training rows of its own partitions only and keeps every training label; the preprocessor is
    /// still fitted on the whole training split (from the table), and the data check that reports to
    /// <paramref name="diagnostics"/> (conflicting rows, constant columns, class balance) looks at this process's rows.
    /// The table itself, and the validation and test rows, stay whole on every process.
    /// </remarks>
    /// <param name="table">The training data (and, without the tables below, the validation and test rows too).</param>
    /// <param name="options">The options.</param>
    /// <param name="progress">Progress reports, or null.</param>
    /// <param name="diagnostics">Warnings, or null.</param>
    /// <param name="resume">Resume from the trainer's checkpoint when it exists.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    /// <param name="validation">Validation rows read with the table's schema and classes, or null to split them off.</param>
    /// <param name="test">Test rows read with the table's schema and classes, or null to split them off.</param>
    /// <returns>The result.</returns>
    public static PipelineResult Run(DataTable table, PipelineOptions options, IProgress<TrainingProgress>? progress = null, IDiagnosticSink? diagnostics = null, bool resume = false, CancellationToken cancellationToken = default, DataTable? validation = null, DataTable? test = null)
    {
        (SplitIndices split, Preprocessor preprocessor) = Plan(table, options, validation, test);
        ulong seed = options.Trainer.Seed;
        // Held-out rows of an image table stay bytes too, encoded a block at a time as they are scored.
        HeldRows? Encode(DataTable? given, int[] rows)
        {
            DataTable source = given ?? table;
            int[] picked = given is not null ? [.. Enumerable.Range(0, given.Count)] : rows;
            if (picked.Length == 0)
            {
                return null;
            }

            (ITrainingRows held, long unseen, UnseenCategory? first) = preprocessor.Rows(source, picked);
            return new HeldRows(held, unseen, first);
        }

        HeldRows? validationRows = Encode(validation, split.Validation);
        HeldRows? testRows = Encode(test, split.Test);

        // Sharded training across processes: this rank keeps the features of its own partitions only (every label, and
        // the digest of the whole split, are kept). Without a held-out split the training rows are scored at the end,
        // so every rank then keeps them all.
        // An image table's training rows stay bytes and are encoded as batches are made.
        ITrainingRows train, inspected;
        if (options.Trainer is { Shards: > 0, Communicator: { Size: > 1 } job } && (validationRows is not null || testRows is not null))
        {
            (int first, int owned) = Xent.Distributed.TreeSum.LocalShards(options.Trainer.Shards, job.Rank, job.Size);
            var own = PartitionedRows.Encode(preprocessor, table, split.Train, options.Trainer.Shards, first, owned);
            (train, inspected) = (own, own.Held());
        }
        else if (EncodedRows.ForImages(preprocessor, table, split.Train) is { } images)
        {
            (train, inspected) = (images, images);
        }
        else
        {
            Dataset whole = preprocessor.Transform(table, split.Train).Data;
            (train, inspected) = (whole, whole);
        }

        if (diagnostics is not null)
        {
            foreach (Diagnostic d in DatasetInspector.Inspect(inspected).Diagnostics())
            {
                diagnostics.Report(d);
            }
        }

        int[] counts = table.ClassCounts(split.Train);
        double[]? weights = options.ClassWeights.Compute(counts);
        ClassificationLoss lossFunction = CreateLoss(options, counts);
        var init = XentRandom.ForStream(seed, 0x1417);
        Sequential model = CreateModel(options, preprocessor.OutputWidth, table.ClassCount, init, lossFunction.ExpectsLogProbabilities);
        Optimizer optimizer = options.Optimizer switch
        {
            OptimizerKind.Sgd => new Sgd(model.Parameters, new SgdOptions { LearningRate = options.EffectiveLearningRate, Momentum = options.Momentum, WeightDecay = options.WeightDecay }),
            OptimizerKind.AdamW => Adam.AdamW(model.Parameters, new AdamOptions { LearningRate = options.EffectiveLearningRate, WeightDecay = options.WeightDecay }),
            _ => new Adam(model.Parameters, new AdamOptions { LearningRate = options.EffectiveLearningRate, WeightDecay = options.WeightDecay }),
        };
        double[]? deferred = options.DrwEpoch is null ? null : new ClassWeights(ClassWeightScheme.EffectiveNumber, 0.9999).Compute(counts);
        var loss = new TrainingLoss(lossFunction, weights, options.ZLoss, deferred, options.DrwEpoch ?? 0, diagnostics);
        var settings = new RunSettings()
            .Add("val_fraction", validation is null ? options.ValidationFraction : "separate file")
            .Add("test_fraction", test is null ? options.TestFraction : "separate file")
            .Add("standardize", options.Standardize)
            .Add("class_weights", options.ClassWeights.ToString())
            .Add("missing_values", options.MissingTokens)
            .Add("columns", string.Join(",", preprocessor.Schema.Select(kv => kv.Key + ":" + kv.Value.Name())))
            .AddRange(options.Trainer.Settings);
        TrainerOptions trainerOptions = options.Trainer with { Settings = settings };
        TrainingResult result = Trainer.FitRows(model, optimizer, loss, train, validationRows?.Rows, trainerOptions, progress, resume, cancellationToken);
        HeldRows held = testRows ?? validationRows ?? new HeldRows(train, 0, null); // without a held-out split, train is whole (not sharded)
        string evaluatedOn = testRows is not null ? "test" : validationRows is not null ? "validation" : "train";
        EvaluationResult evaluation = Evaluation.Evaluate(model, held.Rows, lossFunction.ExpectsLogProbabilities, options.EceBins, logitScale: lossFunction.OutputScale);
        ulong[]? hashes = split.Train.Length <= options.MaxRowHashes ? table.RowHashes(split.Train) : null;
        if (hashes is not null)
        {
            Array.Sort(hashes);
        }

        var info = new ModelInfo
        {
            ClassNames = table.ClassNames,
            FeatureNames = [.. preprocessor.Columns.Select(c => c.Name)],
            Preprocessor = preprocessor,
            ClassCounts = counts,
            LabelColumn = table.LabelName,
            LogitScale = lossFunction.OutputScale,
            TrainingRowHashes = hashes,
            Loss = lossFunction.ToString(),
        };
        return new PipelineResult(model, info, result, evaluation, evaluatedOn, split, weights) { UnseenCells = held.UnseenCells, FirstUnseen = held.FirstUnseen, HeldTrainingRows = inspected.Count };
    }

    /// <summary>Held-out rows as the pipeline scores them, and their cells of categories unseen in training.</summary>
    private sealed record HeldRows(ITrainingRows Rows, long UnseenCells, UnseenCategory? FirstUnseen);

    /// <summary>
    /// Everything <c>Run</c> checks before it trains, without training: at least two classes, the trainer's
    /// options, class weights that are finite, non-negative and not all zero for the training split's counts, and a
    /// network that fits in memory. A caller that is about to replace a previous run's files calls it first.
    /// </summary>
    /// <param name="table">The training table.</param>
    /// <param name="options">The options.</param>
    /// <exception cref="ArgumentException">A check fails; the message says which and why.</exception>
    /// <param name="validation">A separate validation table, or null.</param>
    /// <param name="test">A separate test table, or null.</param>
    /// <returns>The split the run will use.</returns>
    public static SplitIndices Check(DataTable table, PipelineOptions options, DataTable? validation = null, DataTable? test = null)
        => Plan(table, options, validation, test).Split;

    /// <summary>The checks of <see cref="Check"/>, returning the split and the column pipeline fitted on its training rows, which <c>Run</c> then uses.</summary>
    private static (SplitIndices Split, Preprocessor Preprocessor) Plan(DataTable table, PipelineOptions options, DataTable? validation, DataTable? test)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(options);
        if (table.ClassCount < 2)
        {
            throw new ArgumentException($"Classification needs at least 2 classes; the label column{(table.LabelName is { } l ? $" '{l}'" : string.Empty)} holds {table.ClassCount}. Choose the label with --label.", nameof(table));
        }

        foreach ((string what, DataTable? other) in new[] { ("validation", validation), ("test", test) })
        {
            if (other is not null && (!other.ClassNames.SequenceEqual(table.ClassNames) || !other.Schema.SequenceEqual(table.Schema)))
            {
                throw new ArgumentException($"The {what} data must be read with the training data's columns and classes.", nameof(table));
            }
        }

        options.Trainer.Validate();
        SplitIndices split = StratifiedSplit.Split(table.Labels, table.ClassCount, validation is null ? options.ValidationFraction : 0, test is null ? options.TestFraction : 0, options.Trainer.Seed);
        if (split.Train.Length == 0)
        {
            throw new ArgumentException("No rows are left for training after the validation and test splits.", nameof(table));
        }

        int[] counts = table.ClassCounts(split.Train);
        CreateLoss(options, counts);
        double[]? weights = options.ClassWeights.Compute(counts);
        if (weights is not null && !(weights.All(w => w >= 0 && double.IsFinite(w)) && weights.Any(w => w > 0)))
        {
            throw new ArgumentException($"The class weights ({string.Join(", ", weights)}) must be finite, non-negative and not all zero; otherwise every loss is NaN.", nameof(options));
        }

        if (options.Head is not ("linear" or "cosine"))
        {
            throw new ArgumentException($"The head must be linear or cosine, not '{options.Head}'.", nameof(options));
        }

        // Fitting the column pipeline is cheap and finds columns without values in the training rows.
        Preprocessor preprocessor = Preprocessor.Fit(table, split.Train, options.Standardize, options.MissingTokens);
        if (options.Model is null)
        {
            if (options.InputShape is not null)
            {
                throw new ArgumentException("An input shape applies to a model description (--model), not to the MLP of --hidden.", nameof(options));
            }

            CheckModelSize(preprocessor.OutputWidth, options.Hidden, table.ClassCount);
        }
        else
        {
            CheckModelSize(Describe(options, preprocessor.OutputWidth, table.ClassCount));
        }
        if (options.Trainer.DropLast && split.Train.Length < options.Trainer.BatchSize)
        {
            throw new ArgumentException($"With drop-last, the {split.Train.Length} training rows do not fill one batch of {options.Trainer.BatchSize}; use a smaller --batch-size.", nameof(options));
        }

        return (split, preprocessor);
    }

    /// <summary>The loss the options name, built from the training class counts (label smoothing goes to cross-entropy).</summary>
    /// <param name="options">The options.</param>
    /// <param name="counts">Training rows per class.</param>
    /// <returns>The loss.</returns>
    /// <exception cref="ArgumentException">The loss text is unknown or its parameters invalid, or label smoothing is set for another loss.</exception>
    public static ClassificationLoss CreateLoss(PipelineOptions options, IReadOnlyList<int> counts)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            ClassificationLoss loss = LossCatalog.Create(options.Loss, counts);
            if (options.LabelSmoothing == 0)
            {
                return loss;
            }

            return loss is CrossEntropyLoss { LabelSmoothing: 0 }
                ? new CrossEntropyLoss(options.LabelSmoothing)
                : throw new ArgumentException($"--label-smoothing applies to --loss cross-entropy only, not {options.Loss}.", nameof(options));
        }
        catch (FormatException e)
        {
            throw new ArgumentException(e.Message, nameof(options), e);
        }
    }

    /// <summary>
    /// The network the options describe: <see cref="PipelineOptions.Model"/> over samples of <see cref="PipelineOptions.InputShape"/>
    /// (or flat <paramref name="inputs"/>), or else the MLP of <see cref="PipelineOptions.Hidden"/>; ending with log_softmax for a loss that expects log-probabilities.
    /// </summary>
    /// <param name="options">The options.</param>
    /// <param name="inputs">Encoded features per sample.</param>
    /// <param name="classes">Classes.</param>
    /// <param name="random">The generator for the initial weights.</param>
    /// <param name="logSoftmax">Whether to end with log_softmax.</param>
    /// <returns>The model, its parameters named as in PyTorch.</returns>
    /// <exception cref="ArgumentException">The description does not fit the data; the message names the layer and the shapes.</exception>
    public static Sequential CreateModel(PipelineOptions options, int inputs, int classes, XentRandom random, bool logSoftmax)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Model is null)
        {
            return Mlp.Create(inputs, options.Hidden, classes, random, options.Dropout, logSoftmax: logSoftmax, cosineHead: options.Head == "cosine");
        }

        LayerSpec spec = Describe(options, inputs, classes);
        if (logSoftmax)
        {
            spec = spec with { Layers = [.. spec.Layers!, new LayerSpec("log_softmax", classes, classes)] };
        }

        return (Sequential)spec.Build(random);
    }

    /// <summary>The layer description of <see cref="PipelineOptions.Model"/> for this data, checked.</summary>
    private static LayerSpec Describe(PipelineOptions options, int inputs, int classes)
    {
        int[] shape = options.InputShape is { } s ? [.. s] : [inputs];
        if (LayerShapes.Size(shape) != inputs)
        {
            throw new ArgumentException($"The input shape (--input-shape) {LayerShapes.Format(shape)} holds {LayerShapes.Size(shape)} values, but each row has {inputs} features after encoding; the shape must account for every feature (C·H·W or C·L).", nameof(options));
        }

        if (options.Head != "linear" || options.Dropout != 0)
        {
            throw new ArgumentException("--head and --dropout shape the MLP of --hidden; with --model, write the layers in the description (for example dropout(0.5)).", nameof(options));
        }

        try
        {
            return ModelDescription.Build(options.Model!, shape, classes);
        }
        catch (FormatException e)
        {
            throw new ArgumentException("--model: " + e.Message, nameof(options), e);
        }
    }

    /// <summary>Refuses a described network whose training state would not fit in this machine's memory.</summary>
    private static void CheckModelSize(LayerSpec spec)
    {
        long total = spec.ParameterShapes().Sum(kv => kv.Value.Aggregate(1L, (a, b) => a * b));
        long bytes = total * sizeof(float) * 5;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available)
        {
            throw new ArgumentException(FormattableString.Invariant($"The network has {total:N0} parameters; training it needs about {bytes / 1e9:F1} GB but this machine has {available / 1e9:F1} GB. Use fewer channels or narrower layers."), "options");
        }
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

    /// <summary>The options as a JSON object of plain values (numbers, strings, lists, objects), for config.json. Every value is written, defaults included.</summary>
    /// <param name="options">The options.</param>
    /// <param name="data">How the data were given (paths, label, column options), added as <c>"data"</c>; or <see langword="null"/>.</param>
    /// <returns>The JSON text.</returns>
    public static string Describe(PipelineOptions options, IReadOnlyDictionary<string, object?>? data = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        TrainerOptions t = options.Trainer;
        var config = new Dictionary<string, object?>
        {
            ["loss"] = options.Loss,
            ["z_loss"] = options.ZLoss,
            ["drw_epoch"] = options.DrwEpoch,
            ["class_weights"] = options.ClassWeights.Scheme == ClassWeightScheme.Custom ? options.ClassWeights.Values : options.ClassWeights.ToString(),
            ["label_smoothing"] = options.LabelSmoothing,
            ["hidden"] = options.Hidden,
            ["model"] = options.Model is { } m ? string.Join(",", m) : null,
            ["input_shape"] = options.InputShape,
            ["dropout"] = options.Dropout,
            ["head"] = options.Head,
            ["optimizer"] = options.Optimizer.ToString().ToLowerInvariant(),
            ["learning_rate"] = options.EffectiveLearningRate,
            ["momentum"] = options.Momentum,
            ["weight_decay"] = options.WeightDecay,
            ["epochs"] = t.Epochs,
            ["batch_size"] = t.BatchSize,
            ["drop_last"] = t.DropLast,
            ["seed"] = t.Seed,
            ["val_fraction"] = options.ValidationFraction,
            ["test_fraction"] = options.TestFraction,
            ["schedule"] = Plain(t.Schedule),
            ["early_stopping"] = t.EarlyStopping is { } es ? new Dictionary<string, object?> { ["metric"] = es.Metric, ["patience"] = es.Patience, ["min_delta"] = es.MinDelta } : null,
            ["standardize"] = options.Standardize,
            ["missing_values"] = options.MissingTokens,
            ["ece_bins"] = options.EceBins,
        };
        if (t.Shards > 0)
        {
            config["shards"] = t.Shards;
        }

        if (data is not null)
        {
            config["data"] = data;
        }

        return JsonSerializer.Serialize(config, PlainJson);
    }

    private static readonly JsonSerializerOptions PlainJson = new() { WriteIndented = true };

    /// <summary>A schedule as {"kind": ..., its parameters in snake_case}.</summary>
    private static Dictionary<string, object?> Plain(LearningRateSchedule schedule)
    {
        string kind = schedule.GetType().Name.Replace("Schedule", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        var plain = new Dictionary<string, object?> { ["kind"] = kind };
        foreach (System.Reflection.PropertyInfo p in schedule.GetType().GetProperties().Where(p => p.Name != "EqualityContract").OrderBy(p => p.MetadataToken))
        {
            plain[string.Concat(p.Name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()))] = p.GetValue(schedule);
        }

        return plain;
    }
}
