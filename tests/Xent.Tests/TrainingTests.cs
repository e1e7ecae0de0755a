using System.Text.Json;
using Xent.Data;
using Xent.Kernels;
using Xent.Nn;
using Xent.Optim;
using Xent.Training;

namespace Xent.Tests;

[Collection(nameof(ParallelismCollection))]
public sealed class TrainingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void Training_a_64_128_10_MLP_on_digits_matches_PyTorch_step_by_step(string optimizerName)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "mlp-parity.json")));
        JsonElement root = doc.RootElement;
        Dataset digits = CsvDatasetReader.Read(DataTests.RepoFile("data", "digits.csv"));
        float[] x = [.. digits.Features.Select(v => v / 16f)];
        Sequential model = Mlp.Create(64, [128], 10, new XentRandom(0));
        foreach (Parameter p in model.Parameters)
        {
            float[] init = [.. root.GetProperty("initial").GetProperty(p.Name).EnumerateArray().Select(e => e.GetSingle())];
            init.CopyTo(p.Value, 0);
        }

        Optimizer optimizer = optimizerName == "sgd"
            ? new Sgd(model.Parameters, new SgdOptions { LearningRate = 0.1, Momentum = 0.9 })
            : new Adam(model.Parameters, new AdamOptions { LearningRate = 1e-3 });
        var loss = new TrainingLoss(LossKind.CrossEntropy);
        double[] expected = [.. root.GetProperty("losses").GetProperty(optimizerName).EnumerateArray().Select(e => e.GetDouble())];
        var batchX = new float[64 * 64];
        var batchY = new int[64];
        var gradient = new float[64 * 10];
        int step = 0;
        foreach (JsonElement batch in root.GetProperty("batches").EnumerateArray())
        {
            int i = 0;
            foreach (JsonElement row in batch.EnumerateArray())
            {
                int r = row.GetInt32();
                x.AsSpan(r * 64, 64).CopyTo(batchX.AsSpan(i * 64, 64));
                batchY[i++] = digits.Labels[r];
            }

            model.ZeroGradients();
            ReadOnlySpan<float> output = model.Forward(batchX, 64, training: true);
            double value = loss.Compute(output, batchY, 10, gradient).Value;
            model.Backward(gradient);
            optimizer.Step();
            Assert.True(Math.Abs(value - expected[step]) <= 1e-4, $"step {step}: Xent {value:R}, PyTorch {expected[step]:R}");
            step++;
        }

        Assert.Equal(50, step);
    }

    private static (Sequential Model, TrainingResult Result) TrainIris(int threads, TrainerOptions? options = null, bool resume = false, float dropout = 0.1f,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        Parallelism.MaxDegree = threads;
        Dataset iris = CsvDatasetReader.Read(DataTests.RepoFile("data", "iris.csv"));
        SplitIndices split = StratifiedSplit.Split(iris.Labels, 3, 0.2, 0, seed: 1);
        Standardizer s = Standardizer.Fit(iris, split.Train);
        Dataset train = s.Transform(iris.Subset(split.Train)), validation = s.Transform(iris.Subset(split.Validation));
        Sequential model = Mlp.Create(4, [16], 3, new XentRandom(7), dropout: dropout);
        var optimizer = new Adam(model.Parameters, new AdamOptions { LearningRate = 0.01 });
        TrainingResult result = Trainer.Fit(model, optimizer, new TrainingLoss(LossKind.CrossEntropy, [1, 2, 1], 0.05), train, validation,
            options ?? new TrainerOptions { Epochs = 8, BatchSize = 16, Seed = 3 }, progress, resume, cancellation);
        return (model, result);
    }

    [Fact]
    public void The_same_seed_gives_bit_identical_weights_across_runs_and_thread_counts()
    {
        int saved = Parallelism.MaxDegree;
        try
        {
            float[][] Weights(int threads) => [.. TrainIris(threads).Model.Parameters.Select(p => p.Value)];
            float[][] one = Weights(1);
            foreach (float[][] other in new[] { Weights(1), Weights(2), Weights(Environment.ProcessorCount) })
            {
                for (int i = 0; i < one.Length; i++)
                {
                    Assert.True(one[i].AsSpan().SequenceEqual(other[i]), $"parameter {i} differs");
                }
            }
        }
        finally
        {
            Parallelism.MaxDegree = saved;
        }
    }

    [Fact]
    public void A_checkpoint_that_cannot_be_written_fails_the_run_though_it_is_written_in_the_background()
    {
        // The checkpoint's folder disappears during the second epoch: the writes after it fail on another thread, and
        // the failure reaches the caller (at the next save, or when the run ends), as it did when writes were inline.
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "gone")).FullName;
        var options = new TrainerOptions
        {
            Epochs = 4, BatchSize = 16, Seed = 3, CheckpointPath = Path.Combine(folder, "checkpoint.safetensors"),
            HistoryDirectory = Directory.CreateDirectory(Path.Combine(_dir, "history")).FullName,
        };
        int steps = 0;
        var removeFolder = new Progress(() =>
        {
            if (++steps == 12 && Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        });
        Parallelism.MaxDegree = 1;
        Dataset iris = CsvDatasetReader.Read(DataTests.RepoFile("data", "iris.csv"));
        Sequential model = Mlp.Create(4, [8], 3, new XentRandom(7));
        Assert.Throws<DirectoryNotFoundException>(() => Trainer.Fit(model, new Adam(model.Parameters), new TrainingLoss(LossKind.CrossEntropy), iris, null, options, removeFolder));
    }

    [Fact]
    public void Resuming_from_a_mid_epoch_checkpoint_gives_the_same_weights_and_history()
    {
        string checkpoint = Path.Combine(_dir, "checkpoint.safetensors");
        var options = new TrainerOptions { Epochs = 8, BatchSize = 16, Seed = 3, CheckpointPath = checkpoint, CheckpointEverySteps = 5, EarlyStopping = new EarlyStopping("val_loss", 3) };
        (Sequential reference, TrainingResult full) = TrainIris(1, options with { CheckpointPath = null });

        // A crash (here an exception from the progress callback, as a kill would be): no checkpoint is written at the
        // crash, so the run goes on from its last periodic one.
        int steps = 0;
        var stopAt = new Progress(() => { if (++steps == 17) { throw new TimeoutException("crash"); } });
        Parallelism.MaxDegree = 1;
        Dataset iris = CsvDatasetReader.Read(DataTests.RepoFile("data", "iris.csv"));
        SplitIndices split = StratifiedSplit.Split(iris.Labels, 3, 0.2, 0, seed: 1);
        Standardizer s = Standardizer.Fit(iris, split.Train);
        Dataset train = s.Transform(iris.Subset(split.Train)), validation = s.Transform(iris.Subset(split.Validation));
        Sequential model = Mlp.Create(4, [16], 3, new XentRandom(7), dropout: 0.1f);
        Assert.Throws<TimeoutException>(() => Trainer.Fit(model, new Adam(model.Parameters, new AdamOptions { LearningRate = 0.01 }),
            new TrainingLoss(LossKind.CrossEntropy, [1, 2, 1], 0.05), train, validation, options, stopAt));
        Assert.True(File.Exists(checkpoint));

        (Sequential resumed, TrainingResult result) = TrainIris(2, options, resume: true);
        Assert.True(result.Resumed);
        // 120 training rows in batches of 16 make 8 steps an epoch; the 17th report is step 16's (report 9 closes epoch 1),
        // and the last checkpoint before it is step 15's.
        Assert.Equal((1, 7), result.ResumedAt);
        Assert.False(result.ResumedFinished);
        for (int i = 0; i < reference.Parameters.Count; i++)
        {
            Assert.True(reference.Parameters[i].Value.AsSpan().SequenceEqual(resumed.Parameters[i].Value), $"parameter {i} differs after resume");
        }

        Assert.Equal(full.History.BatchesCsv(), result.History.BatchesCsv());
        Assert.Equal(full.History.EpochsCsv(), result.History.EpochsCsv());
    }

    [Fact]
    public void A_cancelled_run_writes_a_checkpoint_of_its_last_step_and_its_resume_reports_where_it_goes_on()
    {
        string checkpoint = Path.Combine(_dir, "cancelled.safetensors");
        var options = new TrainerOptions { Epochs = 4, BatchSize = 16, Seed = 3, CheckpointPath = checkpoint };
        (Sequential reference, TrainingResult full) = TrainIris(1, options with { CheckpointPath = null });

        // Cancelled after step 11 (the 12th report; report 9 closes epoch 1): no periodic checkpoint was due then.
        using var cts = new CancellationTokenSource();
        int reports = 0;
        Assert.Throws<OperationCanceledException>(() => TrainIris(1, options, progress: new Progress(() => { if (++reports == 12) { cts.Cancel(); } }), cancellation: cts.Token));

        var seen = new List<TrainingProgress>();
        (Sequential resumed, TrainingResult result) = TrainIris(1, options, resume: true, progress: new Recorder(seen));
        Assert.Equal((1, 3), result.ResumedAt);
        Assert.True(seen[0].Resumed, "the first report says the run resumed");
        Assert.Equal((1, 3, 8), (seen[0].Epoch, seen[0].Step, seen[0].StepsPerEpoch));
        Assert.Single(seen, p => p.Resumed);
        Assert.Equal((1, 4), (seen[1].Epoch, seen[1].Step));
        for (int i = 0; i < reference.Parameters.Count; i++)
        {
            Assert.True(reference.Parameters[i].Value.AsSpan().SequenceEqual(resumed.Parameters[i].Value), $"parameter {i} differs after resume");
        }

        Assert.Equal(full.History.BatchesCsv(), result.History.BatchesCsv());

        // A finished run resumed sends no such report: nothing goes on.
        seen.Clear();
        Assert.True(TrainIris(1, options, resume: true, progress: new Recorder(seen)).Result.ResumedFinished);
        Assert.Empty(seen);
    }

    private sealed class Recorder(List<TrainingProgress> seen) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => seen.Add(value);
    }

    [Fact]
    public void A_checkpoint_from_other_settings_is_refused()
    {
        string checkpoint = Path.Combine(_dir, "c.safetensors");
        TrainIris(1, new TrainerOptions { Epochs = 2, BatchSize = 16, Seed = 3, CheckpointPath = checkpoint });
        var e = Assert.Throws<InvalidDataException>(() => TrainIris(1, new TrainerOptions { Epochs = 2, BatchSize = 8, Seed = 3, CheckpointPath = checkpoint }, resume: true));
        Assert.Contains("other settings", e.Message);
    }

    [Fact]
    public void History_has_a_record_per_batch_and_per_epoch()
    {
        (_, TrainingResult r) = TrainIris(1, new TrainerOptions { Epochs = 10, BatchSize = 16, Seed = 3, ValidateEverySteps = 4 });
        Assert.Equal(10, r.History.Epochs.Count);
        Assert.Equal(10 * 8, r.History.Batches.Count); // 120 rows / 16
        Assert.Equal(20, r.History.Batches.Count(b => !double.IsNaN(b.ValidationLoss)));
        Assert.StartsWith("epoch,step,global_step,loss,accuracy,learning_rate,val_loss,val_accuracy\n0,1,1,", r.History.BatchesCsv());
        using JsonDocument doc = JsonDocument.Parse(r.History.ToJson());
        Assert.Equal(10, doc.RootElement.GetProperty("epochs").GetArrayLength());
        Assert.True(r.History.Epochs[^1].ValidationAccuracy > 0.8, $"iris is easy; validation accuracy {r.History.Epochs[^1].ValidationAccuracy}, history:\n{r.History.EpochsCsv()}");
    }

    private sealed class Progress(Action onReport) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => onReport();
    }
}
