using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Xent.Cli.LossCases;
using Xent.Cli.Training;
using Xent.Data;
using Xent.Diagnostics;
using Xent.Distributed;
using Xent.Metrics;
using Xent.Training;

namespace Xent.Cli.Commands;

/// <summary><c>xent train</c>: trains an MLP on a CSV and writes the model, history, metrics and config.</summary>
internal static class TrainCommand
{
    public static Command Create(CliContext context)
    {
        var data = new Option<FileInfo>("--data") { Description = "Training CSV: a header row (or --no-header), feature columns of numbers, text or booleans (missing cells allowed) and a label column. Or images: fashion-mnist (Debian's dataset-fashion-mnist), or an IDX file NAME-images-idx3-ubyte[.gz] with NAME-labels-idx1-ubyte[.gz] beside it.", Required = true };
        var testData = new Option<FileInfo?>("--test-data") { Description = "A separate test CSV (same columns), or images as for --data (fashion-mnist: its 10,000 test images): scored instead of a test split of --data." };
        var valData = new Option<FileInfo?>("--val-data") { Description = "A separate validation CSV (same columns): used instead of a validation split of --data." };
        var saveSplits = new Option<bool>("--save-splits") { Description = "Write the rows of the test and validation splits of --data to out/test.csv and out/validation.csv, to evaluate on later." };
        var output = new Option<string>("--out") { Description = "Folder for model.safetensors, history, metrics.json and config.json (locked while the run lasts).", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace the files of a previous run in --out (other files stay)." };
        var checkpointEvery = new Option<string>("--checkpoint-every") { Description = "When to write out/checkpoint.safetensors: epoch (each epoch), N (every N steps, and at the end) or never.", DefaultValueFactory = _ => "epoch" };
        var resume = new Option<bool>("--resume") { Description = "Continue from out/checkpoint.safetensors (same options and data)." };
        var shards = new Option<int>("--shards") { Description = "Sharded training: M fixed data partitions (a power of 2 that divides --batch-size), each step's gradient computed per partition and added by a fixed tree, so that one process and any number of MPI processes dividing M train bit-identical models. Default: off (or, with --distributed, the number of processes)." };
        var distributed = new Option<bool>("--distributed") { Description = "Train across the processes of an Open MPI job (start under mpirun or srun): each process computes its share of the --shards; rank 0 alone writes --out." };
        var reading = new DataOptionSet();
        var options = new TrainOptionSet();
        var maxRows = new Option<int?>("--max-rows") { Description = "Use only the first N rows of --data (a quick run on a subset; Fashion-MNIST's rows are in random order)." };
        var command = new Command("train", "Train a classifier on a CSV file or on images.") { data, testData, valData, maxRows, saveSplits, output, force, checkpointEvery, resume, shards, distributed };
        reading.AddTo(command);
        options.AddTo(command);
        command.SetAction(parse =>
        {
            if (parse.GetValue(maxRows) is int rowLimit && rowLimit < 1)
            {
                throw new InputException($"--max-rows must be at least 1, got {rowLimit}.");
            }

            int m = parse.GetValue(shards);
            bool shardsGiven = parse.GetResult(shards) is { Implicit: false };
            if (m < 0 || (m == 0 && shardsGiven) || (m > 0 && !System.Numerics.BitOperations.IsPow2(m)))
            {
                throw new InputException($"--shards must be a power of 2 (1, 2, 4, …); it is {m}.{(m == 0 ? " Leave it out to train without shards." : string.Empty)}");
            }

            int? mpiRanks = MpiLaunch.Processes();
            if (!parse.GetValue(distributed))
            {
                if (mpiRanks is > 1)
                {
                    // Without --distributed every process would train alone and all would write --out.
                    throw new InputException($"This process is one of {mpiRanks} that mpirun started, but --distributed is not given: add --distributed to train one model across them, or run xent without mpirun.");
                }

                // A run refused or failed before it wrote anything leaves no empty --out folder behind (one it created).
                string outPath = Path.GetFullPath(parse.GetRequiredValue(output));
                bool existed = Directory.Exists(outPath) || File.Exists(outPath);
                try
                {
                    return Train(parse, SingleProcess.Instance, m);
                }
                catch
                {
                    // Checked here, after the run's folder lock is released (not in a filter, which runs before).
                    if (!existed && Directory.Exists(outPath) && !Directory.EnumerateFileSystemEntries(outPath).Any())
                    {
                        Directory.Delete(outPath);
                    }

                    throw;
                }
            }

            if (mpiRanks is null)
            {
                context.Error.WriteLine("note: --distributed without mpirun: this is a job of one process (start it with mpirun -np K to use K processes).");
            }

            using ICommunicator job = MpiCommunicator.Initialize();
            m = m == 0 ? job.Size : m;
            if (m % job.Size != 0 || !System.Numerics.BitOperations.IsPow2(job.Size))
            {
                // Every rank sees the same sizes, so every rank stops here; rank 0 alone says why.
                return job.Rank == 0
                    ? throw new InputException($"--distributed: {job.Size} processes cannot share --shards {m}: the number of processes must be a power of 2 that divides --shards.")
                    : ExitCodes.BadInput;
            }

            int batch = parse.GetValue(options.BatchSize);
            if (!shardsGiven && batch % m != 0)
            {
                return job.Rank == 0
                    ? throw new InputException($"--batch-size {batch} must be a multiple of --shards, which is the number of processes ({m}) when --shards is not given: every shard takes --batch-size / --shards rows per step.")
                    : ExitCodes.BadInput;
            }

            try
            {
                return Train(parse, job, m);
            }
            catch (Exception e) when (job.Size > 1)
            {
                // A rank that cannot go on ends the job rather than leave the others waiting in a collective call;
                // bad input keeps its exit code (2).
                job.Abort(XentApp.OneLine(e.Message), XentApp.IsBadInput(e) ? ExitCodes.BadInput : ExitCodes.Failed);
                return ExitCodes.Failed; // not reached: Abort ends the job
            }
        });
        return command;

        int Train(ParseResult parse, ICommunicator job, int shardCount)
        {
            // One process: the first Ctrl-C or SIGTERM while the data are read ends the run with a word, and once training
            // runs it stops between two steps, after a checkpoint of the last one. (Under mpirun every rank must stop
            // together, so a distributed run keeps the default: the signal ends it.)
            using Interrupt? interrupt = job.Size > 1 ? null : new Interrupt
            {
                BeforeArmed = signal => $"xent: interrupted by {signal} while reading the data, before training started; nothing was trained. Run the same command again (with --force if it says the folder is not empty).",
            };
            PipelineOptions pipeline = options.Read(parse);
            TableReadOptions read = reading.Read(parse);
            (bool checkpoints, int every) = ParseCheckpointEvery(parse.GetRequiredValue(checkpointEvery));
            bool resuming = parse.GetValue(resume);
            if (resuming && !checkpoints)
            {
                throw new InputException("--resume needs checkpoints, but --checkpoint-every never turns them off.");
            }

            if (string.IsNullOrWhiteSpace(parse.GetRequiredValue(output)))
            {
                throw new InputException("--out: expected a folder name.");
            }

            if (shardCount > 0 && pipeline.Trainer.BatchSize % shardCount != 0)
            {
                // Before the folder is created: a run that cannot start leaves nothing behind.
                throw new InputException($"--batch-size {pipeline.Trainer.BatchSize} must be a multiple of --shards {shardCount}: every shard takes --batch-size / --shards rows per step.");
            }

            RunDirectoryMode mode = resuming ? RunDirectoryMode.Resume : parse.GetValue(force) ? RunDirectoryMode.Overwrite : RunDirectoryMode.New;

            // Rank 0 alone holds (and locks) the folder and writes in it; the others only read its checkpoint on
            // --resume, after rank 0 has opened the folder and recovered what a killed run left.
            bool writer = job.Rank == 0;
            using RunDirectory? dir = writer ? RunDirectory.Open(parse.GetRequiredValue(output), mode) : null;
            if (job.Size > 1)
            {
                job.Barrier();
            }

            string checkpointPath = dir?.CheckpointPath ?? Path.Combine(Path.GetFullPath(parse.GetRequiredValue(output)), RunDirectory.CheckpointFileName);
            string dataPath = parse.GetRequiredValue(data).FullName;
            bool images = ImageData.Names(dataPath);
            int[]? imageShape = null;
            DataTable table = images ? ImageData.Read(dataPath, "--data", test: false, out imageShape, out dataPath) : DataOptionSet.ReadTable(dataPath, read);
            RealValuedLabel.ThrowIfRealValued(table, dataPath);
            if (parse.GetValue(maxRows) is int limit)
            {
                table = table.Head(limit);
            }

            TableReadOptions same = read with { Schema = table.Schema, ClassNames = table.ClassNames, Drop = [], Categorical = [], Numeric = [] };
            DataTable? ReadOther(FileInfo? file, string option, bool isTest)
            {
                if (file is null)
                {
                    return null;
                }

                if (!ImageData.Names(file.FullName))
                {
                    return DataOptionSet.ReadTable(file.FullName, same);
                }

                DataTable other = ImageData.Read(file.FullName, option, isTest, out int[] shape, out _);
                if (imageShape is null || !shape.SequenceEqual(imageShape))
                {
                    throw new InputException($"{option}: images of shape {string.Join("x", shape)} do not match --data ({(imageShape is null ? "a CSV file" : "images of shape " + string.Join("x", imageShape))}).");
                }

                return other;
            }

            DataTable? validation = ReadOther(parse.GetValue(valData), "--val-data", isTest: false);
            DataTable? test = ReadOther(parse.GetValue(testData), "--test-data", isTest: true);
            if (imageShape is not null)
            {
                if (parse.GetValue(saveSplits))
                {
                    throw new InputException("--save-splits copies rows of a CSV --data; it does not apply to image files.");
                }

                if (pipeline.InputShape is { } given && !given.SequenceEqual(imageShape))
                {
                    throw new InputException($"--input-shape {string.Join("x", given)} does not match the images of --data, which are {string.Join("x", imageShape)}.");
                }

                // Pixels are already scaled to [0, 1]; standardising each pixel by the training split would divide the
                // border pixels, nearly always 0, by a deviation near 0 and blow up the rare image that has ink there.
                pipeline = pipeline with { Standardize = false, InputShape = pipeline.Model is null ? null : imageShape };
            }

            pipeline = pipeline with
            {
                MissingTokens = read.MissingTokens,
                Trainer = pipeline.Trainer with
                {
                    CheckpointPath = checkpoints ? checkpointPath : null, CheckpointEverySteps = every, HistoryDirectory = dir?.Path,
                    Shards = shardCount, Communicator = job.Size > 1 ? job : null,
                },
            };
            if (mode == RunDirectoryMode.Overwrite)
            {
                // Every check that needs no training, before anything of the previous run is replaced.
                try
                {
                    TrainingPipeline.Check(table, pipeline, validation, test);
                }
                catch (ArgumentException e)
                {
                    throw new InputException(e.Message, e);
                }

                dir?.ClearPreviousRun();
            }

            var inputs = new TrainingInputs(table, validation, test, dataPath, read.HasHeader, parse.GetValue(saveSplits))
            {
                Data = new Dictionary<string, object?>
                {
                    ["data"] = dataPath,
                    ["max_rows"] = parse.GetValue(maxRows),
                    ["input_shape"] = pipeline.InputShape,
                    ["test_data"] = parse.GetValue(testData)?.FullName,
                    ["val_data"] = parse.GetValue(valData)?.FullName,
                    ["label"] = table.LabelName,
                    ["header"] = read.HasHeader,
                    ["drop"] = read.Drop,
                    ["categorical"] = read.Categorical,
                    ["numeric"] = read.Numeric,
                    ["columns"] = table.Columns.ToDictionary(c => c.Name, c => c.Kind.Name()),
                },
            };
            if (dir is null)
            {
                // Another rank trains its shards in step with rank 0 and writes nothing.
                try
                {
                    TrainingPipeline.Run(table, pipeline, null, null, resuming, default, validation, test);
                }
                catch (Exception e) when (e is ArgumentException or InvalidDataException)
                {
                    throw new InputException(e.Message, e);
                }

                return ExitCodes.Success;
            }

            return Run(context, inputs, pipeline, dir, resuming, parse.GetRequiredValue(data).Name, interrupt);
        }
    }

    /// <summary>What an interrupted run says: where it stopped, and whether and how it can go on.</summary>
    internal static string Interrupted(string signal, TrainingProgress? last, bool checkpoints, string folder)
    {
        if (last is not { } p)
        {
            return $"xent: interrupted by {signal} before the first step; nothing was trained. Run the same command with --force to start again (the folder holds only the empty history files).";
        }

        string where = $"xent: interrupted by {signal} {TrainingProgressView.Position(p)}";
        return checkpoints
            ? $"{where}; the checkpoint in {folder} holds the run as it was then. Run the same command with --resume to go on from there."
            : $"{where}; with --checkpoint-every never there is no checkpoint, so the run cannot be resumed.";
    }

    /// <summary>The data of a training run: the table and, when given, separate validation and test tables.</summary>
    internal sealed record TrainingInputs(DataTable Table, DataTable? Validation, DataTable? Test, string Path, bool HasHeader, bool SaveSplits)
    {
        /// <summary>How the data were given, for config.json.</summary>
        public IReadOnlyDictionary<string, object?>? Data { get; init; }
    }

    /// <summary>Reads --checkpoint-every: <c>epoch</c> (or 0), a step count, or <c>never</c>.</summary>
    internal static (bool Enabled, int EverySteps) ParseCheckpointEvery(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t is "epoch" or "0")
        {
            return (true, 0);
        }

        if (t is "never" or "none" or "off")
        {
            return (false, 0);
        }

        return int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? (true, n)
            : throw new InputException($"--checkpoint-every: '{text}' is not epoch, never, or a number of steps (1 or more; 0 means epoch).");
    }

    internal static Dataset ReadData(string path, CsvReadOptions options)
    {
        try
        {
            return CsvDatasetReader.Read(path, options);
        }
        catch (Exception e) when (e is DataFormatException or FileNotFoundException or IOException)
        {
            throw new InputException(e.Message, e);
        }
    }

    internal static int Run(CliContext context, TrainingInputs inputs, PipelineOptions pipeline, RunDirectory dir, bool resume, string dataName, Interrupt? interrupt = null)
    {
        IAnsiConsole console = context.Console;
        DataTable table = inputs.Table;
        int[] counts = table.ClassCounts();
        int numeric = table.Columns.Count(c => c.Kind == ColumnKind.Numeric);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{table.Count} rows, {table.Columns.Count} feature columns ({numeric} numeric, {table.Columns.Count - numeric} categorical or boolean), {table.ClassCount} {(table.ClassCount == 1 ? "class" : "classes")} ({string.Join(", ", table.ClassNames.Select((c, i) => $"{c}: {counts[i]}"))})"));
        string[] missing = [.. table.Columns.Select(c => (c.Name, Missing: c.MissingCount())).Where(c => c.Missing > 0).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Name} {c.Missing}"))];
        if (missing.Length > 0)
        {
            console.WriteLine($"Missing values (imputed; an indicator column is added where training rows miss them): {string.Join(", ", missing)}");
        }

        if (pipeline.Head == "cosine" && !pipeline.Loss.StartsWith("ldam", StringComparison.Ordinal))
        {
            console.MarkupLine("[yellow]" + Markup.Escape($"warning: --head cosine outputs cosines in [−1, 1], and --loss {pipeline.Loss} does not scale them, so its probabilities stay close to uniform; the cosine head is meant for --loss ldam (which scales by s).") + "[/]");
        }

        if (pipeline.Trainer.Schedule is Xent.Optim.CosineSchedule cosine && pipeline.Trainer.EarlyStopping is not null && cosine.TMax == pipeline.Trainer.Epochs)
        {
            console.WriteLine($"note: --schedule cosine decays over all {pipeline.Trainer.Epochs} epochs (--epochs), but early stopping usually ends sooner; set its length with cosine:T_MAX.");
        }

        foreach (string warning in table.Warnings)
        {
            console.MarkupLine("[yellow]" + Markup.Escape("warning: " + warning) + "[/]");
        }

        foreach (CategoricalColumn c in table.Columns.OfType<CategoricalColumn>().Where(c => c.Kind == ColumnKind.Categorical && c.Values.Count > Math.Max(20, table.Count / 2)))
        {
            console.MarkupLine(Markup.Escape($"warning: column '{c.Name}' has {c.Values.Count} distinct values in {table.Count} rows; if it is an id, a date or free text, leave it out with --drop, since one-hot encoding it lets the model memorise rows.").Insert(0, "[yellow]") + "[/]");
        }

        var sink = new DiagnosticCollector();
        int trainRows = table.Count - (int)Math.Round(table.Count * ((inputs.Validation is null ? pipeline.ValidationFraction : 0) + (inputs.Test is null ? pipeline.TestFraction : 0)));
        int shards = pipeline.Trainer.Shards;
        int steps = pipeline.Trainer.Epochs * Math.Max(1, shards > 0
            ? BatchOrder.PartitionedBatchCount(Math.Max(1, trainRows), shards, Math.Max(1, pipeline.Trainer.BatchSize / shards), pipeline.Trainer.DropLast)
            : BatchOrder.BatchCount(Math.Max(1, trainRows), pipeline.Trainer.BatchSize));
        PipelineResult result;
        if (interrupt is not null)
        {
            interrupt.Armed = true;
        }

        TrainingProgress? last = null;
        try
        {
            result = TrainingProgressView.Run(context, "train", steps, progress => TrainingPipeline.Run(
                table, pipeline, TrainingProgressView.Tap(progress, p => last = p), sink, resume, interrupt?.Token ?? default, inputs.Validation, inputs.Test));
        }
        catch (OperationCanceledException) when (interrupt?.Signal is { } signal)
        {
            context.Error.WriteLine(Interrupted(signal, last, pipeline.Trainer.CheckpointPath is not null, dir.Path));
            return ExitCodes.Failed;
        }
        catch (ArgumentException e)
        {
            throw new InputException(e.Message, e);
        }
        catch (InvalidDataException e)
        {
            throw new InputException(e.Message, e);
        }

        foreach (Diagnostic d in sink.Items)
        {
            console.MarkupLine($"[yellow]{Markup.Escape(d.ToString())}[/]");
        }

        TrainingResult training = result.Training;
        if (training.ResumedFinished)
        {
            console.WriteLine($"--resume: the run in this folder had already finished (epoch {training.History.Epochs.Count} of {pipeline.Trainer.Epochs}); nothing was left to train, so the scores below are the saved model's.");
        }
        else if (training.Resumed && console.Profile.Capabilities.Interactive)
        {
            // Redirected output printed this line when training went on; the progress bar has gone by now.
            console.WriteLine(TrainingProgressView.ResumedLine(training.ResumedAt.Epoch, training.ResumedAt.Step));
        }

        if (training.StoppedEarly)
        {
            console.WriteLine($"Early stopping after epoch {training.History.Epochs.Count}; keeping the weights of epoch {training.BestEpoch + 1} (the best validation loss).");
        }

        if (result.ClassWeights is { } w)
        {
            console.WriteLine("Class weights: " + string.Join(", ", table.ClassNames.Select((c, i) => string.Create(CultureInfo.InvariantCulture, $"{c} {w[i]:G4}"))));
        }

        if (result.EvaluatedOn == "train")
        {
            console.MarkupLine("[yellow]" + Markup.Escape($"warning: there are no validation or test rows ({table.Count} rows in all), so early stopping is off and the scores below are on the training rows, which overstates them. Give more rows, or --test-data and --val-data.") + "[/]");
        }
        else if (result.Evaluation.Predicted.Length < 2 * table.ClassCount)
        {
            console.MarkupLine("[yellow]" + Markup.Escape($"warning: {result.Evaluation.Predicted.Length} {result.EvaluatedOn} rows for {table.ClassCount} classes: the scores say little. Is --label the right column?") + "[/]");
        }

        if (inputs.SaveSplits && inputs.Test is not null && inputs.Validation is not null)
        {
            console.WriteLine("--save-splits: nothing to save, since --test-data and --val-data replace both splits.");
        }

        if (result.UnseenCells > 0)
        {
            console.WriteLine(EvaluateCommand.UnseenNote(result.UnseenCells, result.FirstUnseen is { } u ? (u, u.Row + 1L) : null, $"The {result.EvaluatedOn} rows"));
        }

        string staging = dir.StagingPath;
        ModelFile.Save(Path.Combine(staging, "model.safetensors"), result.Model, result.Info);
        Xent.Data.AtomicFile.WriteAllText(Path.Combine(staging, "metrics.json"), MetricsView.ToJson(result.Evaluation, table.ClassNames, result.EvaluatedOn));
        string config = TrainingPipeline.Describe(pipeline, inputs.Data);
        Xent.Data.AtomicFile.WriteAllText(Path.Combine(staging, "config.json"), config);
        Xent.Reports.TrainingReport.Build(result, config, dataName).Write(staging);
        Xent.Data.AtomicFile.WriteAllText(Path.Combine(staging, "report.txt"), ClassificationReport.Format(result.Evaluation.Metrics, table.ClassNames));
        var written = new List<string> { "model.safetensors", "history.csv", "epochs.csv", "metrics.json", "config.json", "report.txt", "report.html" };
        if (inputs.SaveSplits)
        {
            foreach ((string file, int[] rows) in new[] { ("test.csv", result.Split.Test), ("validation.csv", result.Split.Validation) })
            {
                if (rows.Length > 0)
                {
                    CsvTableReader.CopyRows(inputs.Path, Path.Combine(staging, file), rows, inputs.HasHeader);
                    written.Add(file);
                }
            }
        }

        dir.Publish();
        string html = Path.Combine(dir.Path, "report.html");
        MetricsView.Render(console, result.Evaluation, table.ClassNames, $"{result.EvaluatedOn} {(result.EvaluatedOn == "test" && inputs.Test is not null ? "file" : "split")} ({result.Evaluation.Predicted.Length} rows)");
        console.WriteLine($"Wrote {string.Join(", ", written)} and the charts to {dir.Path}");
        console.WriteLine($"Report: {html}");
        return ExitCodes.Success;
    }
}
