using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Xent.Data;
using Xent.Kernels;
using Xent.Nn;
using Xent.Optim;
using Xent.Training;

namespace Xent.Tests;

/// <summary>Issue 8: runs that finish, save, resume, and refuse wrong states loudly.</summary>
[Collection(nameof(ParallelismCollection))]
public sealed class ReliabilityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-reliability-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Iris => DataTests.RepoFile("data", "iris.csv");

    private sealed class OnStep(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }

    [Fact]
    public void The_checkpoint_has_the_same_size_after_10_and_after_5000_steps_and_the_history_grows_linearly()
    {
        var random = new XentRandom(3);
        int n = 120, d = 4;
        var features = new float[n * d];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % 3;
            for (int j = 0; j < d; j++)
            {
                features[(i * d) + j] = (float)random.NextGaussian() + (j == labels[i] ? 1 : 0);
            }
        }

        var data = new Dataset(features, labels, ["a", "b", "c", "d"], ["x", "y", "z"]);
        string checkpoint = Path.Combine(_dir, "checkpoint.safetensors");
        Sequential model = Mlp.Create(d, [8], 3, new XentRandom(1), dropout: 0.1f);
        var options = new TrainerOptions { Epochs = 500, BatchSize = 10, Seed = 2, CheckpointPath = checkpoint, CheckpointEverySteps = 10, EarlyStopping = new EarlyStopping("val_loss", 1000) };
        long sizeAt10 = 0, historyAt1000 = 0;
        var progress = new OnStep(p =>
        {
            long global = ((long)p.Epoch * p.StepsPerEpoch) + p.Step;
            if (global == 21)
            {
                // The checkpoint of step 10 (or 20: the same size). Checkpoints are written in the background, and the
                // save at step 20 waited for the write of step 10, so a whole checkpoint is on disk here.
                sizeAt10 = new FileInfo(checkpoint).Length;
            }
            else if (global == 1001)
            {
                historyAt1000 = new FileInfo(Path.Combine(_dir, "history.csv")).Length;
            }
        });
        Parallelism.MaxDegree = 1;
        TrainingResult result = Trainer.Fit(model, new Adam(model.Parameters), new TrainingLoss(LossKind.CrossEntropy), data.Subset([.. Enumerable.Range(0, 100)]), data.Subset([.. Enumerable.Range(100, 20)]), options, progress);

        Assert.Equal(5000, result.History.BatchCount);
        Assert.True(sizeAt10 > 0);
        Assert.Equal(sizeAt10, new FileInfo(checkpoint).Length);
        string[] lines = File.ReadAllLines(Path.Combine(_dir, "history.csv"));
        Assert.Equal(5001, lines.Length);
        double perStepEarly = historyAt1000 / 1000.0, perStepAll = new FileInfo(Path.Combine(_dir, "history.csv")).Length / 5000.0;
        Assert.InRange(perStepAll / perStepEarly, 0.9, 1.1);
        Assert.Equal(501, File.ReadAllLines(Path.Combine(_dir, "epochs.csv")).Length);
    }

    [Fact]
    public void A_history_line_is_written_without_allocating_with_the_text_of_round_trip_formatting()
    {
        static string Reference(BatchRecord b)
        {
            static string N(double v) => double.IsNaN(v) ? string.Empty : v.ToString("R", CultureInfo.InvariantCulture);
            return string.Create(CultureInfo.InvariantCulture, $"{b.Epoch},{b.Step},{b.GlobalStep},{N(b.Loss)},{N(b.Accuracy)},{N(b.LearningRate)},{N(b.ValidationLoss)},{N(b.ValidationAccuracy)}");
        }

        var random = new XentRandom(8);
        double[] special = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0, -0.0, 1e-310, -1.2345678901234567e-308, 1.0 / 3, 1e300, double.MaxValue, double.Epsilon];
        for (int i = 0; i < 2000; i++)
        {
            double Pick() => i % 3 == 0 ? special[random.NextInt(special.Length)] : (random.NextDouble() - 0.5) * Math.Pow(10, random.NextInt(40) - 20);
            var record = new BatchRecord(random.NextInt(int.MaxValue), random.NextInt(1 << 20), (long)random.NextUInt64() >> 1, Pick(), Pick(), Pick(), Pick(), Pick());
            string line = TrainingHistory.FormatBatch(record);
            Assert.Equal(Reference(record), line);
            BatchRecord parsed = TrainingHistory.ParseBatch(line);
            Assert.Equal(Reference(record), TrainingHistory.FormatBatch(parsed));
        }
    }

    [Fact]
    public void The_training_state_round_trips_every_property_with_a_fixed_width()
    {
        var state = new TrainingState();
        var other = new TrainingState();
        int k = 1;
        foreach (PropertyInfo p in typeof(TrainingState).GetProperties())
        {
            object value = p.PropertyType switch
            {
                Type t when t == typeof(int) => 7 * k,
                Type t when t == typeof(long) => 1L << (20 + k),
                Type t when t == typeof(double) => Math.PI * k,
                Type t when t == typeof(bool) => true,
                Type t when t == typeof(ulong[]) => new ulong[] { 1, ulong.MaxValue, 3, (ulong)k },
                _ => throw new InvalidOperationException($"TrainingState.{p.Name} has type {p.PropertyType.Name}, which the fixed-width checkpoint format does not cover; add a converter."),
            };
            p.SetValue(state, value);
            p.SetValue(other, p.PropertyType == typeof(ulong[]) ? new ulong[] { 9, 9, 9, 9 } : p.PropertyType == typeof(bool) ? false : Convert.ChangeType(0, p.PropertyType, CultureInfo.InvariantCulture));
            k++;
        }

        TrainingState back = TrainingState.Deserialize(state.Serialize());
        foreach (PropertyInfo p in typeof(TrainingState).GetProperties())
        {
            object? expected = p.GetValue(state), actual = p.GetValue(back);
            Assert.True(expected is ulong[] a ? a.SequenceEqual((ulong[])actual!) : Equals(expected, actual), $"{p.Name} did not round-trip");
        }

        Assert.Equal(state.Serialize().Length, other.Serialize().Length);
        other.BestValue = double.NaN;
        Assert.True(double.IsNaN(TrainingState.Deserialize(other.Serialize()).BestValue));
    }

    [Fact]
    public void The_in_memory_history_is_bounded_and_keeps_every_series_extremes()
    {
        var history = new TrainingHistory();
        var random = new XentRandom(5);
        double min = double.MaxValue, max = double.MinValue;
        for (int i = 1; i <= 1_000_000; i++)
        {
            double loss = random.NextDouble() * 10;
            (min, max) = (Math.Min(min, loss), Math.Max(max, loss));
            history.Add(new BatchRecord(0, i, i, loss, random.NextDouble(), 0.1));
        }

        Assert.Equal(1_000_000, history.BatchCount);
        Assert.True(history.IsDownsampled);
        Assert.InRange(history.Batches.Count, 100, 8 * TrainingHistory.BatchCapacity);
        Assert.Contains(history.Batches, b => b.Loss == min);
        Assert.Contains(history.Batches, b => b.Loss == max);
        Assert.True(history.Batches.Zip(history.Batches.Skip(1)).All(p => p.First.GlobalStep < p.Second.GlobalStep), "records stay in step order");

        var small = new TrainingHistory();
        for (int i = 1; i <= TrainingHistory.BatchCapacity; i++)
        {
            small.Add(new BatchRecord(0, i, i, i, 0, 0.1));
        }

        Assert.False(small.IsDownsampled);
        Assert.Equal(TrainingHistory.BatchCapacity, small.Batches.Count);
    }

    [Fact]
    public void A_diverging_run_exits_1_names_the_epoch_and_step_and_writes_no_model()
    {
        string dir = Path.Combine(_dir, "diverge");
        var (code, _, error) = Cli.Run("train", "--data", Iris, "--out", dir, "--optimizer", "sgd", "--lr", "1e6", "--epochs", "5");
        Assert.Equal(1, code);
        Assert.Contains("Training diverged at epoch ", error);
        Assert.Contains(", step ", error);
        Assert.Contains("--lr", error);
        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")));
        Assert.DoesNotContain("Exception", error);
    }

    [Fact]
    public void A_run_stopped_mid_epoch_still_writes_every_step_it_took_to_the_history_log_and_resumes_from_its_checkpoint()
    {
        // The log's lines are formatted and written by the checkpoint writer's thread at each checkpoint; the steps after
        // the last one are written when the run ends, however it ends.
        var random = new XentRandom(4);
        int n = 100, d = 3;
        float[] features = [.. Enumerable.Range(0, n * d).Select(_ => (float)random.NextGaussian())];
        int[] labels = [.. Enumerable.Range(0, n).Select(i => i % 2)];
        var data = new Dataset(features, labels, ["a", "b", "c"], ["x", "y"]);
        string dir = Path.Combine(_dir, "stopped");
        Directory.CreateDirectory(dir);
        var options = new TrainerOptions { Epochs = 4, BatchSize = 10, Seed = 2, CheckpointPath = Path.Combine(dir, "checkpoint.safetensors"), HistoryDirectory = dir, EarlyStopping = null };
        using var stop = new CancellationTokenSource();
        var progress = new OnStep(p =>
        {
            if ((p.Epoch * p.StepsPerEpoch) + p.Step == 26)
            {
                stop.Cancel(); // 6 steps into the third epoch (10 steps each), after the checkpoint of step 20
            }
        });
        Sequential Model() => Mlp.Create(d, [4], 2, new XentRandom(1));
        Sequential model = Model();
        Assert.ThrowsAny<OperationCanceledException>(() => Trainer.Fit(model, new Adam(model.Parameters), new TrainingLoss(LossKind.CrossEntropy), data, null, options, progress, cancellationToken: stop.Token));
        Assert.Equal(1 + 26, File.ReadAllLines(Path.Combine(dir, "history.csv")).Length);
        Assert.Equal(1 + 2, File.ReadAllLines(Path.Combine(dir, "epochs.csv")).Length);

        Sequential again = Model();
        TrainingResult resumed = Trainer.Fit(again, new Adam(again.Parameters), new TrainingLoss(LossKind.CrossEntropy), data, null, options, resume: true);
        Assert.Equal(40, resumed.History.BatchCount);
        string[] lines = File.ReadAllLines(Path.Combine(dir, "history.csv"));
        Assert.Equal(1 + 40, lines.Length);
        Assert.Equal([.. Enumerable.Range(1, 40).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))], lines.Skip(1).Select(l => l.Split(',')[2]));
        Assert.Equal(1 + 4, File.ReadAllLines(Path.Combine(dir, "epochs.csv")).Length);
    }

    [Fact]
    public void The_history_logs_queue_is_written_out_every_4096_steps_between_distant_checkpoints()
    {
        var random = new XentRandom(6);
        int n = 5000;
        float[] features = [.. Enumerable.Range(0, n).Select(_ => (float)random.NextGaussian())];
        int[] labels = [.. Enumerable.Range(0, n).Select(i => i % 2)];
        var data = new Dataset(features, labels, ["a"], ["x", "y"]);
        string dir = Path.Combine(_dir, "queue");
        Directory.CreateDirectory(dir);
        var options = new TrainerOptions { Epochs = 1, BatchSize = 1, Seed = 2, CheckpointPath = Path.Combine(dir, "checkpoint.safetensors"), CheckpointEverySteps = 1_000_000, HistoryDirectory = dir, EarlyStopping = null };
        long lengthAt4500 = -1;
        var progress = new OnStep(p =>
        {
            if (p.Step == 4500)
            {
                using var read = new FileStream(Path.Combine(dir, "history.csv"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                lengthAt4500 = read.Length;
            }
        });
        Sequential model = Mlp.Create(1, [], 2, new XentRandom(1));
        Trainer.Fit(model, new Sgd(model.Parameters), new TrainingLoss(LossKind.CrossEntropy), data, null, options, progress);
        Assert.True(lengthAt4500 > 4096 * 20, $"history.csv held {lengthAt4500} bytes at step 4500");
        Assert.Equal(1 + n, File.ReadAllLines(Path.Combine(dir, "history.csv")).Length);
    }

    [Fact]
    public void A_model_with_a_non_finite_weight_is_never_written()
    {
        Sequential model = Mlp.Create(2, [], 2, new XentRandom(1));
        model.Parameters[0].Value[1] = float.NaN;
        string path = Path.Combine(_dir, "nan.safetensors");
        Assert.ThrowsAny<Exception>(() => ModelFile.Save(path, model, new ModelInfo { ClassNames = ["a", "b"], FeatureNames = ["x", "y"] }));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Confident_rows_get_finite_probabilities()
    {
        Sequential model = Mlp.Create(1, [], 3, new XentRandom(1));
        model.Parameters[0].Value.AsSpan().Clear();
        model.Parameters[1].Value.AsSpan().Clear();
        model.Parameters[0].Value[0] = 500; // logits 500·x, 0, 0
        var data = new Dataset([1f, -1f], [0, 1], ["x"], ["a", "b", "c"]);
        float[] p = Evaluation.PredictProbabilities(model, data, outputsAreLogProbabilities: false);
        Assert.Equal([1f, 0f, 0f, 0f, 0.5f, 0.5f], p);
        EvaluationResult r = Evaluation.Evaluate(model, data, false);
        Assert.True(double.IsFinite(r.LogLoss) && double.IsFinite(r.ExpectedCalibrationError));
        var softmax = new Softmax(3);
        var output = new float[3];
        softmax.Forward([1000f, 0f, -1000f], output, 1, training: false);
        Assert.Equal([1f, 0f, 0f], output);
    }

    [Theory]
    [InlineData("--class-weights", "0,0,0")]
    [InlineData("--schedule", "step:2:nan")]
    [InlineData("--schedule", "step:2:-1")]
    [InlineData("--schedule", "step:2:inf")]
    public void Options_that_can_only_give_NaN_are_refused_before_training(string option, string value)
    {
        string dir = Path.Combine(_dir, "nan-options");
        var (code, _, error) = Cli.Run("train", "--data", Iris, "--out", dir, option, value);
        Assert.Equal(2, code);
        Assert.False(File.Exists(Path.Combine(dir, "history.csv")), "refused before training");
        Assert.DoesNotContain("Exception", error);
        Assert.DoesNotContain("(Parameter", error);
    }

    [Fact]
    public void A_resume_with_other_settings_or_data_exits_2_and_names_the_first_difference()
    {
        string dir = Path.Combine(_dir, "strict");
        string[] Options(string momentum = "0.9", string decay = "0", string schedule = "constant", string data = "") =>
            ["train", "--data", data.Length > 0 ? data : Iris, "--out", dir, "--optimizer", "sgd", "--momentum", momentum, "--weight-decay", decay, "--schedule", schedule, "--epochs", "3", "--seed", "4"];
        Assert.Equal(0, Cli.Run(Options()).Code);

        var (code, _, error) = Cli.Run([.. Options(momentum: "0.5"), "--resume"]);
        Assert.Equal(2, code);
        Assert.Contains("optimizer.momentum: the checkpoint has 0.9, this run 0.5", error);

        (code, _, error) = Cli.Run([.. Options(decay: "0.01"), "--resume"]);
        Assert.Equal(2, code);
        Assert.Contains("optimizer.weight_decay", error);

        (code, _, error) = Cli.Run([.. Options(schedule: "cosine"), "--resume"]);
        Assert.Equal(2, code);
        Assert.Contains("schedule", error);

        // The same rows with their labels shuffled: same size, other content.
        string[] lines = File.ReadAllLines(Iris);
        string[] labels = [.. lines.Skip(1).Select(l => l[(l.LastIndexOf(',') + 1)..])];
        new XentRandom(9).Shuffle<string>(labels);
        string shuffled = Path.Combine(_dir, "iris-shuffled.csv");
        File.WriteAllLines(shuffled, [lines[0], .. lines.Skip(1).Select((l, i) => l[..(l.LastIndexOf(',') + 1)] + labels[i])]);
        (code, _, error) = Cli.Run([.. Options(data: shuffled), "--resume"]);
        Assert.Equal(2, code);
        Assert.Contains("data.train", error);

        var (finishedCode, finishedOut, _) = Cli.Run([.. Options(), "--resume"]);
        Assert.Equal(0, finishedCode);
        Assert.Contains("--resume: the run in this folder had already finished (epoch 3 of 3)", finishedOut);
    }

    [Fact]
    public void A_second_run_on_a_held_folder_fails_at_once_and_a_dead_runs_lock_is_taken_over()
    {
        string dir = Path.Combine(_dir, "locked");
        using (RunDirectory.Open(dir, RunDirectoryMode.New))
        {
            var stopwatch = Stopwatch.StartNew();
            var (code, _, error) = Cli.Run("train", "--data", Iris, "--out", dir, "--epochs", "2");
            Assert.Equal(2, code);
            Assert.Contains("in use by another xent run", error);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5));
        }

        Assert.False(File.Exists(Path.Combine(dir, RunDirectory.LockFileName)), "the lock is released");

        // A lock left by a process that no longer exists, and the debris of a killed run.
        File.WriteAllText(Path.Combine(dir, RunDirectory.LockFileName), "2147483000 638000000000000000");
        File.WriteAllText(Path.Combine(dir, ".model.safetensors.tmp-12345"), "partial");
        Directory.CreateDirectory(Path.Combine(dir, ".xent-staging"));
        File.WriteAllText(Path.Combine(dir, ".xent-staging", "model.safetensors"), "half-published, never marked complete");
        var (ok, _, err) = Cli.Run("train", "--data", Iris, "--out", dir, "--epochs", "2", "--force");
        Assert.True(ok == 0, err);
        Assert.False(File.Exists(Path.Combine(dir, ".model.safetensors.tmp-12345")));
        Assert.False(Directory.Exists(Path.Combine(dir, ".xent-staging")));
        Assert.False(File.Exists(Path.Combine(dir, RunDirectory.LockFileName)));
    }

    [Fact]
    public void A_lock_whose_owner_is_a_zombie_not_yet_reaped_is_taken_over()
    {
        // A run killed with SIGKILL stays a zombie until its parent reaps it (after `timeout -s KILL` in a container,
        // init may take a while); its /proc entry, with the same start time, is still there. The lock is stale all the same.
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // sh starts a child that exits 0.3 s later, prints its pid and becomes `sleep`, which never reaps it. (A child
        // that exited at once could be reaped by sh itself before its exec: the test failed so once in a full run.)
        using Process parent = Process.Start(new ProcessStartInfo("sh", ["-c", "sleep 0.3 & echo $!; exec sleep 20"]) { RedirectStandardOutput = true })!;
        try
        {
            int zombie = int.Parse(parent.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
            string stat = "";
            var stopwatch = Stopwatch.StartNew();
            while (stopwatch.Elapsed < TimeSpan.FromSeconds(10))
            {
                stat = File.ReadAllText($"/proc/{zombie}/stat");
                if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z'))
                {
                    break;
                }

                Thread.Sleep(10);
            }

            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            Assert.Equal("Z", fields[0]);
            string dir = Path.Combine(_dir, "zombie-owner");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, RunDirectory.LockFileName), $"{zombie} {fields[22 - 3]}");
            var (code, _, error) = Cli.Run("train", "--data", Iris, "--out", dir, "--epochs", "1", "--force");
            Assert.True(code == 0, error);
        }
        finally
        {
            parent.Kill();
            parent.WaitForExit();
        }
    }

    [Fact]
    public void A_refused_run_leaves_no_empty_folder_it_created_and_keeps_one_it_found()
    {
        string csv = Path.Combine(_dir, "one-class.csv");
        File.WriteAllText(csv, "a,label\n1,x\n2,x\n3,x\n");
        string created = Path.Combine(_dir, "never-written");
        var (code, _, error) = Cli.Run("train", "--data", csv, "--out", created, "--epochs", "1");
        Assert.Equal(2, code);
        Assert.Contains("at least 2 classes", error);
        Assert.False(Directory.Exists(created), "the folder the refused run created is removed");

        string found = Path.Combine(_dir, "made-by-the-user");
        Directory.CreateDirectory(found);
        (code, _, _) = Cli.Run("train", "--data", csv, "--out", found, "--epochs", "1");
        Assert.Equal(2, code);
        Assert.True(Directory.Exists(found), "a folder that was there before stays");

        // A near miss of the built-in dataset's name is answered with its spelling.
        (code, _, error) = Cli.Run("train", "--data", Path.Combine(_dir, "fashion_mnist"), "--out", Path.Combine(_dir, "fm"));
        Assert.Equal(2, code);
        Assert.Contains("write fashion-mnist", error);
    }

    [Fact]
    public void A_run_in_another_process_holds_its_folder_against_force_and_resume()
    {
        string dir = Path.Combine(_dir, "held-by-child");
        string cli = Path.Combine(AppContext.BaseDirectory, "Xent.Cli.dll");
        string digits = DataTests.RepoFile("data", "digits.csv");
        using Process child = Process.Start(new ProcessStartInfo("dotnet", ["exec", cli, "train", "--data", digits, "--out", dir, "--epochs", "1000", "--early-stopping", "0"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(dir, "checkpoint.safetensors")) && !child.HasExited && stopwatch.Elapsed < TimeSpan.FromSeconds(60))
            {
                Thread.Sleep(10);
            }

            Assert.False(child.HasExited, "the child run ended before the test could use its folder");
            foreach (string[] extra in new[] { new[] { "--force" }, ["--resume"], [] })
            {
                var (code, _, error) = Cli.Run(["train", "--data", digits, "--out", dir, "--epochs", "1000", "--early-stopping", "0", .. extra]);
                Assert.Equal(2, code);
                Assert.Contains($"in use by another xent run (process {child.Id})", error);
            }

            Assert.True(File.Exists(Path.Combine(dir, RunDirectory.LockFileName)), "a refused run leaves the live run's lock alone");
        }
        finally
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }

        // Once the owner is dead, its lock is taken over.
        Assert.Equal(0, Cli.Run("train", "--data", digits, "--out", dir, "--epochs", "1", "--force").Code);
    }

    [Fact]
    public void Ctrl_C_or_SIGTERM_stops_a_run_with_a_checkpoint_and_says_how_to_go_on_and_the_resume_says_where_at_once()
    {
        string dir = Path.Combine(_dir, "interrupted");
        string cli = Path.Combine(AppContext.BaseDirectory, "Xent.Cli.dll");
        string[] options = ["exec", cli, "train", "--data", DataTests.RepoFile("data", "digits.csv"), "--out", dir, "--epochs", "5000", "--early-stopping", "0"];

        // The first run is interrupted once its first checkpoint is on disk.
        (int code, List<string> lines, string error) = RunAndSignal(options, "INT", _ => File.Exists(Path.Combine(dir, "checkpoint.safetensors")));
        Assert.Equal(1, code);
        Assert.Matches(@"^xent: interrupted by Ctrl-C (at the end of|after step \d+ of) epoch \d+ of 5000; the checkpoint in .* Run the same command with --resume", error);
        Assert.DoesNotContain("Exception", error);

        // The resume says so before its first epoch line (it used to say so only when training was over).
        (code, lines, error) = RunAndSignal([.. options, "--resume"], "TERM", l => l.Count > 0 && l[^1].StartsWith("train epoch", StringComparison.Ordinal));
        Assert.Equal(1, code);
        int resumed = lines.FindIndex(l => l.StartsWith("Resumed from the checkpoint", StringComparison.Ordinal));
        int firstEpoch = lines.FindIndex(l => l.StartsWith("train epoch", StringComparison.Ordinal));
        Assert.True(resumed >= 0 && resumed < firstEpoch, string.Join("\n", lines));
        Assert.StartsWith("xent: interrupted by SIGTERM", error);
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/>, sends it SIGINT or SIGTERM once <paramref name="ready"/> holds for its lines so far, and waits for it.</summary>
    private static (int Code, List<string> Lines, string Error) RunAndSignal(string[] args, string signal, Func<List<string>, bool> ready)
    {
        using Process child = Process.Start(new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var lines = new List<string>();
        var error = new StringBuilder();
        child.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (lines) { lines.Add(e.Data); } } };
        child.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (error) { error.AppendLine(e.Data); } } };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        var stopwatch = Stopwatch.StartNew();
        try
        {
            while (!child.HasExited && stopwatch.Elapsed < TimeSpan.FromSeconds(60))
            {
                bool go;
                lock (lines)
                {
                    go = ready(lines);
                }

                if (go)
                {
                    using Process kill = Process.Start("kill", [$"-{signal}", child.Id.ToString(CultureInfo.InvariantCulture)])!;
                    kill.WaitForExit();
                    break;
                }

                Thread.Sleep(10);
            }

            Assert.False(child.HasExited && stopwatch.Elapsed < TimeSpan.FromSeconds(60) && child.ExitCode == 0, "the run ended before it could be interrupted");
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(30)), "the interrupted run did not stop");
            child.WaitForExit();
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
        }

        lock (lines)
        {
            return (child.ExitCode, [.. lines], error.ToString());
        }
    }

    [Fact]
    public void A_publication_cut_short_is_completed_by_the_next_open()
    {
        string dir = Path.Combine(_dir, "rollforward");
        Directory.CreateDirectory(Path.Combine(dir, ".xent-staging"));
        File.WriteAllText(Path.Combine(dir, ".xent-staging", "metrics.json"), "{}");
        File.WriteAllText(Path.Combine(dir, ".xent-staging", ".complete"), "complete\n");
        File.WriteAllText(Path.Combine(dir, "model.safetensors"), "moved before the kill");
        using (RunDirectory.Open(dir, RunDirectoryMode.Overwrite))
        {
        }

        Assert.Equal("{}", File.ReadAllText(Path.Combine(dir, "metrics.json")));
        Assert.False(Directory.Exists(Path.Combine(dir, ".xent-staging")));
    }

    [Fact]
    public void Force_replaces_the_previous_runs_files_and_keeps_the_users_own()
    {
        string dir = Path.Combine(_dir, "force");
        Assert.Equal(0, Cli.Run("train", "--data", Iris, "--out", dir, "--epochs", "2").Code);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
        Assert.Equal(2, Cli.Run("train", "--data", Iris, "--out", dir, "--epochs", "2").Code);

        // A --force run that is refused (here: a network too large) costs the previous run nothing.
        Assert.Equal(2, Cli.Run("train", "--data", Iris, "--out", dir, "--epochs", "2", "--force", "--hidden", "65536,65536").Code);
        Assert.Equal(2, Cli.Run("train", "--data", Iris, "--out", dir, "--epochs", "2", "--force", "--class-weights", "1,2").Code);
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(dir, "epochs.csv")).Length);

        Assert.Equal(0, Cli.Run("train", "--data", Iris, "--out", dir, "--epochs", "3", "--force").Code);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "notes.txt")));
        Assert.Equal(4, File.ReadAllLines(Path.Combine(dir, "epochs.csv")).Length);
    }

    [Fact]
    public void Force_on_a_folder_without_a_previous_run_keeps_files_that_share_xents_names()
    {
        string dir = Path.Combine(_dir, "users-own");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"mine\": true}");
        File.WriteAllText(Path.Combine(dir, "notes.tmp-123"), "mine too");
        Assert.Equal(2, Cli.Run("train", "--data", Iris, "--out", dir, "--epochs", "2").Code);
        Assert.True(File.Exists(Path.Combine(dir, "notes.tmp-123")), "a refused run touches nothing");

        // A refused --force run (a column with no values) costs nothing either.
        string empty = Path.Combine(_dir, "empty-col.csv");
        File.WriteAllText(empty, "a,b,label\n1,,x\n2,,y\n3,,x\n4,,y\n5,,x\n6,,y\n7,,x\n8,,y\n9,,x\n10,,y\n");
        string run = Path.Combine(_dir, "kept");
        Assert.Equal(0, Cli.Run("train", "--data", Iris, "--out", run, "--epochs", "2").Code);
        var (code, _, error) = Cli.Run("train", "--data", empty, "--out", run, "--epochs", "2", "--force");
        Assert.Equal(2, code);
        Assert.Contains("no values in the training rows", error);
        Assert.True(File.Exists(Path.Combine(run, "model.safetensors")));

        Assert.Equal(2, Cli.Run("train", "--data", Iris, "--out", Path.Combine(_dir, "drw"), "--epochs", "5", "--drw-epoch", "5").Code);
    }

    [Fact]
    public void Checkpoint_every_never_writes_no_checkpoint_and_refuses_resume()
    {
        string dir = Path.Combine(_dir, "never");
        Assert.Equal(0, Cli.Run("train", "--data", Iris, "--out", dir, "--epochs", "2", "--checkpoint-every", "never").Code);
        Assert.False(File.Exists(Path.Combine(dir, "checkpoint.safetensors")));
        Assert.True(File.Exists(Path.Combine(dir, "history.csv")));
        Assert.Equal(2, Cli.Run("train", "--data", Iris, "--out", dir, "--epochs", "2", "--checkpoint-every", "never", "--resume").Code);
        Assert.Equal(2, Cli.Run("train", "--data", Iris, "--out", dir, "--epochs", "2", "--resume").Code); // no checkpoint
        Assert.Equal(2, Cli.Run("train", "--data", Iris, "--out", Path.Combine(_dir, "x"), "--checkpoint-every", "sometimes").Code);
    }

    [Fact]
    public void An_unwritable_out_folder_exits_1_and_names_the_path_before_training()
    {
        string bad = "/proc/xent-cannot-write-here";
        var (code, output, error) = Cli.Run("train", "--data", Iris, "--out", bad);
        Assert.Equal(1, code);
        Assert.Contains(bad, error);
        Assert.DoesNotContain("epoch", output, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("--hidden", "65536,65536")]
    [InlineData("--hidden", "65536,65535,3")]
    [InlineData("--batch-size", "2147483647")]
    public void Sizes_that_overflow_are_refused_before_anything_is_allocated(string option, string value)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var (code, _, error) = Cli.Run("train", "--data", Iris, "--out", Path.Combine(_dir, "big"), option, value, "--epochs", "1");
        Assert.True(code is 0 or 2, error);
        if (option == "--hidden")
        {
            Assert.Equal(2, code);
            Assert.Contains("--hidden", error);
        }

        Assert.DoesNotContain("Exception", error);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 500_000_000, "nothing huge was allocated");
    }

    [Fact]
    public void Kill_9_during_the_final_writes_of_a_force_run_leaves_one_runs_files_and_resumes_bit_identically()
    {
        string data = DataTests.RepoFile("data", "digits.csv");
        string[] options = ["--data", data, "--epochs", "3", "--batch-size", "64", "--seed", "1", "--hidden", "32"];
        string reference = Path.Combine(_dir, "reference"), target = Path.Combine(_dir, "target");
        Assert.Equal(0, Cli.Run(["train", .. options, "--out", reference]).Code);
        // The previous run in the folder: another seed, so its files differ from the new run's.
        Assert.Equal(0, Cli.Run(["train", "--data", data, "--epochs", "1", "--seed", "2", "--hidden", "32", "--out", target]).Code);
        string oldConfig = File.ReadAllText(Path.Combine(target, "config.json"));

        string cli = Path.Combine(AppContext.BaseDirectory, "Xent.Cli.dll");
        using Process process = Process.Start(new ProcessStartInfo("dotnet", ["exec", cli, "train", .. options, "--out", target, "--force"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string staging = Path.Combine(target, ".xent-staging");
        var stopwatch = Stopwatch.StartNew();
        while (!Directory.Exists(staging) && !process.HasExited && stopwatch.Elapsed < TimeSpan.FromSeconds(120))
        {
            Thread.SpinWait(1000);
        }

        Thread.Sleep(new XentRandom((ulong)Environment.TickCount64).NextInt(40));
        process.Kill(entireProcessTree: true);
        process.WaitForExit();

        // Whatever the moment, nothing of the previous run is left beside the new run's files.
        string configPath = Path.Combine(target, "config.json");
        Assert.False(File.Exists(configPath) && File.ReadAllText(configPath) == oldConfig, "the previous run's config.json survived beside the new run");
        Assert.Equal(4, File.ReadAllLines(Path.Combine(target, "epochs.csv")).Length);

        var (code, _, error) = Cli.Run(["train", .. options, "--out", target, "--resume"]);
        Assert.True(code == 0, error);
        foreach (string f in new[] { "model.safetensors", "history.csv", "epochs.csv", "config.json", "report.txt" })
        {
            Assert.True(File.ReadAllBytes(Path.Combine(reference, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(target, f))), $"{f} differs from the uninterrupted run's");
        }

        Assert.False(Directory.Exists(staging));
    }

    [Fact]
    public void Predict_refuses_to_write_over_its_own_input_and_models_refuse_duplicate_names()
    {
        string data = Path.Combine(_dir, "in.csv");
        File.Copy(Iris, data);
        string dir = Path.Combine(_dir, "dup");
        Assert.Equal(0, Cli.Run("train", "--data", data, "--out", dir, "--epochs", "2").Code);
        string model = Path.Combine(dir, "model.safetensors");
        var (code, _, error) = Cli.Run("predict", "--model", model, "--data", data, "--out", data, "--force");
        Assert.Equal(2, code);
        Assert.Contains("that is the --data file", error);
        Assert.Equal(File.ReadAllText(Iris), File.ReadAllText(data));

        SafetensorsFile file = Safetensors.Read(model);
        var metadata = file.Metadata.ToDictionary();
        metadata["xent.classes"] = "[\"setosa\",\"setosa\",\"virginica\"]";
        string bad = Path.Combine(_dir, "dup.safetensors");
        Safetensors.Write(bad, file.Tensors, metadata);
        Assert.Contains("listed twice", Assert.Throws<InvalidDataException>(() => ModelFile.Load(bad)).Message);
    }

    [Fact]
    public void Failures_of_input_never_show_a_dotnet_exception_name()
    {
        string dir = Path.Combine(_dir, "msgs");
        string empty = Path.Combine(_dir, "empty.csv");
        File.WriteAllText(empty, "");
        string[][] cases =
        [
            ["train", "--data", Iris, "--out", dir, "--epochs", "-3"],
            ["train", "--data", Iris, "--out", dir, "--lr", "nan"],
            ["train", "--data", Iris, "--out", dir, "--class-weights", "1,2"],
            ["train", "--data", empty, "--out", dir],
            ["train", "--data", Path.Combine(_dir, "missing.csv"), "--out", dir],
            ["train", "--data", Iris, "--out", Iris],
            ["evaluate", "--model", Iris, "--data", Iris],
            ["predict", "--model", Path.Combine(_dir, "nope.safetensors"), "--data", Iris],
        ];
        foreach (string[] args in cases)
        {
            var (code, _, error) = Cli.Run(args);
            Assert.True(code == 2, $"{string.Join(' ', args)}: exit {code}, {error}");
            Assert.DoesNotContain("Exception", error);
            Assert.DoesNotContain("(Parameter", error);
            Assert.Single(error.Trim().Split('\n'));
        }
    }
}
