using System.CommandLine;
using System.Globalization;
using Xent.Cli.LossCases;
using Xent.Data;
using Xent.Losses;
using Xent.Optim;
using Xent.Training;

namespace Xent.Cli.Training;

/// <summary>The options of <c>xent train</c> (also accepted per run by <c>xent compare</c>), parsed into <see cref="PipelineOptions"/>.</summary>
internal sealed class TrainOptionSet
{
    public Option<string> Loss { get; } = new("--loss") { Description = "NAME[:key=value,…]: " + string.Join("; ", LossCatalog.Entries.Select(e => e.Name + (e.Keys.Count > 0 ? " (" + string.Join(", ", e.Keys.Select(k => k.Key)) + ")" : string.Empty))) + ". Example: focal:gamma=2.", DefaultValueFactory = _ => "cross-entropy" };

    public Option<double> ZLoss { get; } = new("--z-loss") { Description = "Add COEF·(log Σ exp z)² to the loss (z-loss). Default: 0." };

    public Option<int?> DrwEpoch { get; } = new("--drw-epoch") { Description = "Deferred re-weighting: from this epoch (0-based) on, class-balanced weights (β = 0.9999) replace --class-weights." };

    public Option<string> ClassWeights { get; } = new("--class-weights") { Description = "none, inverse, balanced, effective:BETA, or w1,w2,...", DefaultValueFactory = _ => "none" };

    public Option<double> LabelSmoothing { get; } = new("--label-smoothing") { Description = "Label smoothing in [0, 1] (cross-entropy). Default: 0." };

    public Option<string> Hidden { get; } = new("--hidden") { Description = "Hidden layer widths, e.g. 64,64; 'none' for a linear model.", DefaultValueFactory = _ => "64" };

    public Option<string?> Model { get; } = new("--model") { Description = "A network instead of the MLP of --hidden: layers such as conv2d(32,3),relu,maxpool(2),flatten,linear(128),relu,linear (the last linear's size defaults to the class count), or a JSON/YAML file listing them. See docs/images.md." };

    public Option<string?> InputShape { get; } = new("--input-shape") { Description = "How --model sees a row: CxHxW (an image, e.g. 1x28x28) or CxL (a sequence, e.g. 2x1000), values in NCHW order. IDX images get it from the file." };

    public Option<string> Head { get; } = new("--head") { Description = "The last layer: linear, or cosine (cos(x, w_j), no bias; use with --loss ldam).", DefaultValueFactory = _ => "linear" };

    public Option<float> Dropout { get; } = new("--dropout") { Description = "Dropout after each hidden layer, in [0, 1). Default: 0." };

    public Option<string> Optimizer { get; } = new("--optimizer") { Description = "sgd, adam or adamw.", DefaultValueFactory = _ => "adam" };

    public Option<double?> LearningRate { get; } = new("--lr", "--learning-rate") { Description = "Learning rate (also --learning-rate). Default: 0.1 for sgd, 0.001 for adam/adamw." };

    public Option<double> Momentum { get; } = new("--momentum") { Description = "SGD momentum.", DefaultValueFactory = _ => 0.9 };

    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "Weight decay. Default: 0." };

    public Option<int> Epochs { get; } = new("--epochs") { Description = "The most epochs to train (early stopping usually ends sooner).", DefaultValueFactory = _ => 200 };

    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Mini-batch size.", DefaultValueFactory = _ => 32 };

    public Option<bool> DropLast { get; } = new("--drop-last") { Description = "Drop each epoch's last batch when it is partial." };

    public Option<double> ValidationFraction { get; } = new("--val-fraction") { Description = "Validation share of the rows.", DefaultValueFactory = _ => 0.1 };

    public Option<double> TestFraction { get; } = new("--test-fraction") { Description = "Test share of the rows.", DefaultValueFactory = _ => 0.2 };

    public Option<ulong> Seed { get; } = new("--seed") { Description = "Seed of the split, initialisation and batch order. Default: 0." };

    public Option<int?> Threads { get; } = new("--threads") { Description = "Kernel threads (results do not depend on it). Default: all cores." };

    public Option<string> Schedule { get; } = new("--schedule") { Description = "constant, step:EPOCHS[:GAMMA] or cosine[:T_MAX].", DefaultValueFactory = _ => "constant" };

    public Option<int> EarlyStopping { get; } = new("--early-stopping") { Description = "Stop after this many epochs without a better validation loss, keeping the best weights; 0 turns it off.", DefaultValueFactory = _ => 10 };

    public Option<int> ValidateEvery { get; } = new("--validate-every") { Description = "Also record validation loss and accuracy every N steps (0: per epoch only)." };

    public Option<int> EceBins { get; } = new("--ece-bins") { Description = "Bins of the expected calibration error and the reliability diagram.", DefaultValueFactory = _ => Xent.Metrics.Calibration.DefaultBins };

    public IEnumerable<Option> All => [Loss, ZLoss, DrwEpoch, ClassWeights, LabelSmoothing, Hidden, Model, InputShape, Head, Dropout, Optimizer, LearningRate, Momentum, WeightDecay, Epochs, BatchSize, DropLast, ValidationFraction, TestFraction, Seed, Threads, Schedule, EarlyStopping, ValidateEvery, EceBins];

    public void AddTo(Command command)
    {
        foreach (Option o in All)
        {
            command.Options.Add(o);
        }
    }

    /// <summary>Reads and checks the options; a bad value is an <see cref="InputException"/> naming the option.</summary>
    public PipelineOptions Read(ParseResult parse)
    {
        int epochs = Positive(parse.GetValue(Epochs), "--epochs");
        var trainer = new TrainerOptions
        {
            Epochs = epochs,
            BatchSize = Positive(parse.GetValue(BatchSize), "--batch-size"),
            Seed = parse.GetValue(Seed),
            Threads = parse.GetValue(Threads) is int t ? Positive(t, "--threads") : null,
            Schedule = ParseSchedule(parse.GetRequiredValue(Schedule), epochs),
            EarlyStopping = NonNegative(parse.GetValue(EarlyStopping), "--early-stopping") is int p and > 0 ? new Xent.Training.EarlyStopping("val_loss", p) : null,
            DropLast = parse.GetValue(DropLast),
            ValidateEverySteps = NonNegative(parse.GetValue(ValidateEvery), "--validate-every"),
        };
        double smoothing = parse.GetValue(LabelSmoothing);
        if (!(smoothing >= 0 && smoothing <= 1))
        {
            throw new InputException($"--label-smoothing must be in [0, 1], got {smoothing.ToString(CultureInfo.InvariantCulture)}.");
        }

        float dropout = parse.GetValue(Dropout);
        if (!(dropout >= 0 && dropout < 1))
        {
            throw new InputException($"--dropout must be in [0, 1), got {dropout.ToString(CultureInfo.InvariantCulture)}.");
        }

        double? lr = parse.GetValue(LearningRate);
        if (lr is double rate && !(rate > 0 && double.IsFinite(rate)))
        {
            throw new InputException($"--lr must be a positive number, got {rate.ToString(CultureInfo.InvariantCulture)}.");
        }

        double val = parse.GetValue(ValidationFraction), test = parse.GetValue(TestFraction);
        if (!(val >= 0 && val < 1) || !(test >= 0 && test < 1) || val + test >= 1)
        {
            throw new InputException("--val-fraction and --test-fraction must each be in [0, 1) and together below 1.");
        }

        string loss = parse.GetRequiredValue(Loss);
        ClassWeights weights;
        try
        {
            LossEntry entry = LossCatalog.Check(loss);
            // Build it once on stand-in class counts, so that a parameter out of range is refused before any data is read.
            _ = LossCatalog.Create(loss, [1, 1]);
            weights = Xent.Data.ClassWeights.Parse(parse.GetRequiredValue(ClassWeights));
            if (smoothing != 0 && entry.Name != "cross-entropy")
            {
                throw new InputException($"--label-smoothing applies to --loss cross-entropy only, not {loss}.");
            }
        }
        catch (FormatException e)
        {
            throw new InputException(e.Message, e);
        }

        double zLoss = parse.GetValue(ZLoss);
        if (!(zLoss >= 0) || !double.IsFinite(zLoss))
        {
            throw new InputException($"--z-loss must be a number ≥ 0, got {zLoss.ToString(CultureInfo.InvariantCulture)}.");
        }

        int? drw = parse.GetValue(DrwEpoch) is int d ? NonNegative(d, "--drw-epoch") : null;
        if (drw >= epochs)
        {
            throw new InputException($"--drw-epoch {drw} is not before the last epoch (--epochs {epochs}, counted from 0): the re-weighting would never start.");
        }

        IReadOnlyList<Xent.Nn.LayerEntry>? model = parse.GetValue(Model) is { } m ? ModelOption.Read(m) : null;
        if (model is not null && parse.GetResult(Hidden) is { Implicit: false })
        {
            throw new InputException("--model and --hidden both describe the network; give one of them (--hidden is the MLP shorthand).");
        }

        int[]? inputShape = null;
        if (parse.GetValue(InputShape) is { } shapeText)
        {
            try
            {
                inputShape = Xent.Nn.ModelDescription.ParseShape(shapeText);
            }
            catch (FormatException e)
            {
                throw new InputException("--input-shape: " + e.Message, e);
            }

            if (model is null)
            {
                throw new InputException("--input-shape tells --model how a row is an image or a sequence; give --model too.");
            }
        }

        return new PipelineOptions
        {
            Model = model,
            InputShape = inputShape,
            Loss = loss,
            ZLoss = zLoss,
            DrwEpoch = drw,
            ClassWeights = weights,
            LabelSmoothing = smoothing,
            Hidden = ParseHidden(parse.GetRequiredValue(Hidden)),
            Head = parse.GetRequiredValue(Head).Trim().ToLowerInvariant() switch
            {
                "linear" => "linear",
                "cosine" => "cosine",
                _ => throw new InputException($"--head: '{parse.GetRequiredValue(Head)}' is not linear or cosine."),
            },
            Dropout = dropout,
            Optimizer = parse.GetRequiredValue(Optimizer).ToLowerInvariant() switch
            {
                "sgd" => OptimizerKind.Sgd,
                "adam" => OptimizerKind.Adam,
                "adamw" => OptimizerKind.AdamW,
                var o => throw new InputException($"--optimizer: unknown optimizer '{o}'; expected sgd, adam or adamw."),
            },
            LearningRate = lr,
            Momentum = NonNegative(parse.GetValue(Momentum), "--momentum"),
            WeightDecay = NonNegative(parse.GetValue(WeightDecay), "--weight-decay"),
            ValidationFraction = val,
            TestFraction = test,
            EceBins = Positive(parse.GetValue(EceBins), "--ece-bins"),
            Trainer = trainer,
        };
    }

    private static int[] ParseHidden(string text)
    {
        if (text.Trim().Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }

        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out widths[i]) || widths[i] < 1 || widths[i] > 1 << 16)
            {
                throw new InputException($"--hidden: '{text}' is not a list of layer widths such as 64,64 (item {i + 1}, '{parts[i]}', is not a width from 1 to 65536).");
            }
        }

        return widths;
    }

    private static LearningRateSchedule ParseSchedule(string text, int epochs)
    {
        string[] parts = text.Trim().ToLowerInvariant().Split(':');
        try
        {
            LearningRateSchedule schedule = parts[0] switch
            {
                "constant" when parts.Length == 1 => new ConstantSchedule(),
                "step" when parts.Length is 2 or 3 => new StepSchedule(
                    int.Parse(parts[1], CultureInfo.InvariantCulture) is var s and > 0 ? s : throw new FormatException(),
                    parts.Length == 3 ? double.Parse(parts[2], CultureInfo.InvariantCulture) : 0.1),
                "cosine" when parts.Length is 1 or 2 => new CosineSchedule(parts.Length == 2 ? (int.Parse(parts[1], CultureInfo.InvariantCulture) is var m and > 0 ? m : throw new FormatException()) : epochs),
                _ => throw new FormatException(),
            };
            schedule.Validate();
            return schedule;
        }
        catch (ArgumentException e)
        {
            throw new InputException($"--schedule: '{text}': {e.Message.Split(" (Parameter")[0]}", e);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new InputException($"--schedule: '{text}' is not constant, step:EPOCHS[:GAMMA] or cosine[:T_MAX].", e);
        }
    }

    private static int Positive(int value, string option) => value >= 1 ? value : throw new InputException($"{option} must be at least 1, got {value}.");

    private static int NonNegative(int value, string option) => value >= 0 ? value : throw new InputException($"{option} must be 0 or more, got {value}.");

    private static double NonNegative(double value, string option) => value >= 0 && double.IsFinite(value) ? value : throw new InputException($"{option} must be a number ≥ 0, got {value.ToString(CultureInfo.InvariantCulture)}.");
}
