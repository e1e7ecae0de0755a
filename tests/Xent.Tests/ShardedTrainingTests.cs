using System.Diagnostics;
using Xent.Data;
using Xent.Distributed;
using Xent.Kernels;
using Xent.Nn;
using Xent.Optim;
using Xent.Training;
using Xunit.Abstractions;

namespace Xent.Tests;

/// <summary>Sharded training (<c>--shards M</c>): fixed partitions, per-shard gradients added by the fixed tree.</summary>
[Collection(nameof(ParallelismCollection))]
public sealed class ShardedTrainingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-shards-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static readonly string[] Digits = ["--data", DataTests.RepoFile("data", "digits.csv"), "--epochs", "2", "--batch-size", "40", "--seed", "5", "--hidden", "32"];

    [Fact]
    public void The_partitions_cover_every_row_once_and_depend_only_on_the_seed_epoch_and_m()
    {
        int[] order = BatchOrder.ForEpoch(103, 4, 9, 2);
        Assert.Equal(Enumerable.Range(0, 103), order.Order());
        for (int p = 0; p < 4; p++)
        {
            int start = BatchOrder.PartitionStart(103, 4, p), size = BatchOrder.PartitionSize(103, 4, p);
            Assert.Equal(p < 3 ? 26 : 25, size);
            Assert.All(order.AsSpan(start, size).ToArray(), row => Assert.Equal(p, row % 4));
        }

        Assert.Equal(order, BatchOrder.ForEpoch(103, 4, 9, 2));
        Assert.NotEqual(order, BatchOrder.ForEpoch(103, 4, 9, 3));

        // One partition is the unsharded order.
        Assert.Equal(BatchOrder.ForEpoch([.. Enumerable.Range(0, 103)], 9, 2), BatchOrder.ForEpoch(103, 1, 9, 2));
        Assert.Equal(7, BatchOrder.PartitionedBatchCount(103, 4, 4, dropLast: false));
        Assert.Equal(6, BatchOrder.PartitionedBatchCount(103, 4, 4, dropLast: true));
    }

    [Fact]
    public void Shards_2_twice_give_the_same_model_and_shards_1_gives_the_unsharded_model_bit_for_bit()
    {
        string a = Train("a", "--shards", "2"), b = Train("b", "--shards", "2");
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "model.safetensors")), File.ReadAllBytes(Path.Combine(b, "model.safetensors")));

        // --shards 1: the same batches and the same bits as training without --shards, class weights included.
        string one = Train("one", "--shards", "1", "--class-weights", "balanced"), plain = Train("plain", "--class-weights", "balanced");
        Assert.Equal(File.ReadAllBytes(Path.Combine(plain, "model.safetensors")), File.ReadAllBytes(Path.Combine(one, "model.safetensors")));
        Assert.Equal(File.ReadAllText(Path.Combine(plain, "history.csv")), File.ReadAllText(Path.Combine(one, "history.csv")));

        // M = 2 trains on other batches, so its model differs.
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a, "model.safetensors")), File.ReadAllBytes(Path.Combine(one, "model.safetensors")));
    }

    [Fact]
    public void Bad_shard_options_and_unsupported_layers_are_refused_with_exit_code_2()
    {
        var (code, _, error) = Cli.Run(["train", .. Digits, "--out", Path.Combine(_dir, "x1"), "--shards", "3"]);
        Assert.Equal(2, code);
        Assert.Contains("--shards must be a power of 2", error);
        (code, _, error) = Cli.Run(["train", "--data", DataTests.RepoFile("data", "iris.csv"), "--batch-size", "30", "--out", Path.Combine(_dir, "x2"), "--shards", "4"]);
        Assert.Equal(2, code);
        Assert.Contains("--batch-size 30 must be a multiple of --shards 4", error);
        Assert.False(Directory.Exists(Path.Combine(_dir, "x2")));
        (code, _, error) = Cli.Run(["train", .. Digits[..^2], "--out", Path.Combine(_dir, "x4"), "--shards", "2", "--model", "linear(16),batchnorm1d,relu,linear"]);
        Assert.Equal(2, code);
        Assert.Contains("batch normalisation", error);
    }

    [Fact]
    public void Four_shards_over_1_2_and_4_simulated_ranks_train_bit_identical_weights_with_dropout()
    {
        Dataset data = SyntheticData.TwoGaussians(70, 33, features: 6, seed: 3);
        float[][] Train(ICommunicator job)
        {
            Sequential model = Mlp.Create(6, [8], 2, new XentRandom(4), dropout: 0.25f);
            var optimizer = new Adam(model.Parameters, new AdamOptions { LearningRate = 0.01 });
            var options = new TrainerOptions { Epochs = 3, BatchSize = 16, Seed = 2, Shards = 4, Communicator = job, Threads = 1 };
            Trainer.Fit(model, optimizer, new TrainingLoss(LossKind.CrossEntropy, [1, 3]), data, null, options);
            return [.. model.Parameters.Select(p => p.Value)];
        }

        int degree = Parallelism.MaxDegree;
        try
        {
            float[][] alone = Train(SingleProcess.Instance);
            foreach (int ranks in new[] { 2, 4 })
            {
                float[][][] results = TreeSumTests.ThreadGroup.Run(ranks, Train);
                foreach (float[][] weights in results)
                {
                    for (int i = 0; i < alone.Length; i++)
                    {
                        Assert.True(alone[i].AsSpan().SequenceEqual(weights[i]), $"parameter {i} differs with {ranks} ranks");
                    }
                }
            }
        }
        finally
        {
            Parallelism.MaxDegree = degree;
        }
    }

    [Fact]
    public void A_rank_keeps_the_features_of_its_own_partitions_only_and_trains_the_model_of_one_process()
    {
        DataTable table = DataTable.FromDataset(SyntheticData.TwoGaussians(150, 61, features: 6, seed: 3));
        var options = new PipelineOptions
        {
            Hidden = [8],
            Dropout = 0.2f,
            Trainer = new TrainerOptions { Epochs = 3, BatchSize = 16, Seed = 2, Shards = 4, Threads = 1 },
        };
        int degree = Parallelism.MaxDegree;
        try
        {
            PipelineResult alone = TrainingPipeline.Run(table, options);
            int n = alone.Split.Train.Length;
            Assert.Equal(n, alone.HeldTrainingRows);
            foreach (int ranks in new[] { 2, 4 })
            {
                PipelineResult[] results = TreeSumTests.ThreadGroup.Run(ranks, job => TrainingPipeline.Run(table, options with { Trainer = options.Trainer with { Communicator = job } }));
                for (int r = 0; r < ranks; r++)
                {
                    (int first, int owned) = TreeSum.LocalShards(4, r, ranks);
                    int expected = Enumerable.Range(first, owned).Sum(p => BatchOrder.PartitionSize(n, 4, p));
                    Assert.Equal(expected, results[r].HeldTrainingRows);
                    Assert.InRange(results[r].HeldTrainingRows, (n / ranks) - 4, (n / ranks) + 4);
                    IReadOnlyList<Parameter> mine = results[r].Model.Parameters, reference = alone.Model.Parameters;
                    for (int i = 0; i < reference.Count; i++)
                    {
                        Assert.True(reference[i].Value.AsSpan().SequenceEqual(mine[i].Value), $"parameter {i} differs on rank {r} of {ranks}");
                    }

                    Assert.Equal(alone.Evaluation.Predicted, results[r].Evaluation.Predicted);
                }
            }
        }
        finally
        {
            Parallelism.MaxDegree = degree;
        }
    }

    [Fact]
    public void Partitioned_rows_hold_the_bits_of_the_whole_encoding_and_its_digest()
    {
        // 2,503 rows (more than one chunk of the encoder, not a multiple of M), a numeric column with missing cells and a categorical one.
        const int n = 2503;
        var random = new XentRandom(7);
        float[] x = [.. Enumerable.Range(0, n).Select(i => i % 37 == 0 ? float.NaN : random.NextSingle() * 10)];
        int[] codes = [.. Enumerable.Range(0, n).Select(i => i % 11 == 0 ? -1 : i % 3)];
        var table = new DataTable([new NumericColumn("x", x), new CategoricalColumn("c", ColumnKind.Categorical, codes, ["a", "b", "c"])], [.. Enumerable.Range(0, n).Select(i => i % 2)], ["no", "yes"]);
        int[] rows = [.. Enumerable.Range(0, n).Where(i => i % 5 != 0)];
        Preprocessor preprocessor = Preprocessor.Fit(table, rows);
        Dataset whole = preprocessor.Transform(table, rows).Data;
        foreach ((int first, int owned) in new[] { (0, 8), (0, 2), (2, 2), (5, 1), (7, 1) })
        {
            var held = PartitionedRows.Encode(preprocessor, table, rows, 8, first, owned);
            Assert.Equal(whole.ContentHash(), held.ContentHash());
            Assert.Equal(whole.Labels, held.Labels);
            int count = 0;
            for (int i = 0; i < rows.Length; i++)
            {
                if (i % 8 >= first && i % 8 < first + owned)
                {
                    Assert.True(whole.Row(i).SequenceEqual(held.Row(i)), $"row {i} differs");
                    count++;
                }
                else
                {
                    Assert.False(held.Holds(i));
                }
            }

            Assert.Equal(count, held.HeldCount);
            Assert.Equal(count, held.Held().Count);
        }

        var some = PartitionedRows.Encode(preprocessor, table, rows, 8, 2, 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => some.Row(1));
        Assert.Contains("belongs to partition 1, whose features this process does not hold (it holds partitions 2 to 3 of 8)", e.Message);
        Sequential model = Mlp.Create(whole.FeatureCount, [4], 2, new XentRandom(1));
        var wrong = Assert.Throws<ArgumentException>(() => Trainer.FitRows(model, new Sgd(model.Parameters), new TrainingLoss(LossKind.CrossEntropy), some, null, new TrainerOptions { Shards = 8, BatchSize = 16 }));
        Assert.Contains("hold partitions 2 to 3 of 8, but rank 0 of 1 trains shards 0 to 7 of 8", wrong.Message);
    }

    [Fact]
    public void Keyed_dropout_masks_depend_on_the_row_and_step_not_on_the_batch_position()
    {
        const int features = 50;
        var layer = new Dropout(features, 0.2f, new XentRandom(1));
        var keys = new DropoutKeys(seed: 3, capacity: 400);
        layer.Keys = keys;
        float[] ones = [.. Enumerable.Repeat(1f, 400 * features)];
        float[] output = new float[ones.Length];
        int[] rows = [.. Enumerable.Range(1000, 400)];
        keys.SetRows(rows);
        layer.Forward(ones, output, 400, training: true);
        double dropped = output.Count(v => v == 0) / (double)output.Length;
        Assert.InRange(dropped, 0.18, 0.22);

        // Row 1005 alone, first in its batch: the mask it had at position 5.
        float[] alone = new float[features];
        keys.SetRows([1005]);
        layer.Forward(ones.AsSpan(0, features), alone, 1, training: true);
        Assert.Equal(output.AsSpan(5 * features, features).ToArray(), alone);

        // Another step draws another mask.
        keys.Step = 1;
        layer.Forward(ones.AsSpan(0, features), alone, 1, training: true);
        Assert.NotEqual(output.AsSpan(5 * features, features).ToArray(), alone);
    }

    [Fact]
    public void Ranks_with_other_instruction_sets_are_named()
    {
        double[] mine = InstructionSets.Fingerprint();
        Assert.Null(InstructionSets.Mismatch([.. mine, .. mine, .. mine]));
        string? message = InstructionSets.Mismatch([.. mine, .. mine, mine[0] - 4, mine[1]]);
        Assert.NotNull(message);
        Assert.StartsWith("--distributed: rank 2 uses [", message);
        Assert.Contains("like machines", message);
    }

    [Fact]
    public void A_warm_sharded_step_allocates_nothing()
    {
        Dataset data = SyntheticData.TwoGaussians(60, 40, features: 10, seed: 5);
        Sequential model = Mlp.Create(10, [16], 2, new XentRandom(1), dropout: 0.1f);
        var optimizer = new Adam(model.Parameters);
        var loss = new TrainingLoss(LossKind.CrossEntropy, [1, 2], 0.1);
        var step = new ShardedStep(model, loss, SingleProcess.Instance, 4, 8, 10);
        int[] order = BatchOrder.ForEpoch(data.Count, 4, 1, 0);
        for (int i = 0; i < 4; i++)
        {
            step.Run(data, order, i, i);
            optimizer.Step();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 12; i++)
        {
            step.Run(data, order, i % 4, 4 + i);
            optimizer.Step();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private string Train(string name, params string[] extra)
    {
        string dir = Path.Combine(_dir, name);
        var (code, _, error) = Cli.Run(["train", .. Digits, "--out", dir, .. extra]);
        Assert.True(code == 0, error);
        return dir;
    }
}

/// <summary>Regression: unweighted cross-entropy on batches of 64+ rows on a CPU with AVX2 but without Vector512.</summary>
public sealed class NarrowVectorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-narrow-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Training_unweighted_with_256_bit_vectors_runs()
    {
        string[] args = ["train", "--data", DataTests.RepoFile("data", "digits.csv"), "--epochs", "1", "--batch-size", "64", "--hidden", "16", "--seed", "2"];
        string cli = Path.Combine(AppContext.BaseDirectory, "Xent.Cli.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", cli, .. args, "--out", Path.Combine(_dir, "narrow")]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DOTNET_PreferredVectorBitWidth"] = "256";
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await stdout + await stderr);
    }
}

/// <summary>Sharded training across processes under mpirun: byte-identical to one process, also after a kill and a resume.</summary>
public sealed class ShardedMpiTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-shards-mpi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [MpiFact]
    public void Two_ranks_write_the_model_and_history_of_one_process_with_the_same_shards()
    {
        string single = Path.Combine(_dir, "single"), mpi = Path.Combine(_dir, "mpi");
        var (code, _, error) = Cli.Run(["train", .. ShardedTrainingTests.Digits, "--shards", "2", "--out", single]);
        Assert.True(code == 0, error);
        var stopwatch = Stopwatch.StartNew();
        var (mpiCode, mpiOut, mpiError) = Mpi.Launch(2, Limit, ["train", .. ShardedTrainingTests.Digits, "--distributed", "--out", mpi]);
        output.WriteLine($"mpirun -np 2 train: {stopwatch.Elapsed.TotalSeconds:F1} s");
        Assert.True(mpiCode == 0, $"exit code {mpiCode}: {mpiOut} {mpiError}");
        foreach (string file in new[] { "model.safetensors", "history.csv", "epochs.csv", "checkpoint.safetensors" })
        {
            Assert.True(File.ReadAllBytes(Path.Combine(single, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(mpi, file))), $"{file} differs between 2 ranks and one process");
        }

        // Rank 1 printed nothing: the summary appears once.
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(mpiOut, "Wrote model.safetensors"));
    }

    [MpiFact]
    public void Two_ranks_killed_after_a_checkpoint_resume_to_the_model_of_one_process_with_dropout()
    {
        string[] options = ["--data", DataTests.RepoFile("data", "digits.csv"), "--epochs", "6", "--batch-size", "32", "--seed", "5", "--hidden", "64", "--dropout", "0.1", "--shards", "2", "--checkpoint-every", "2"];
        string reference = Path.Combine(_dir, "reference"), killed = Path.Combine(_dir, "killed");
        var (code, _, error) = Cli.Run(["train", .. options, "--out", reference]);
        Assert.True(code == 0, error);

        string cli = Path.Combine(AppContext.BaseDirectory, "Xent.Cli.dll");
        var start = new ProcessStartInfo(Mpi.Run!, ["--allow-run-as-root", "--oversubscribe", "-np", "2", "dotnet", "exec", cli, "train", .. options, "--distributed", "--out", killed])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using (Process process = Process.Start(start)!)
        {
            process.StandardInput.Close();
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            string checkpoint = Path.Combine(killed, "checkpoint.safetensors");
            var stopwatch = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && stopwatch.Elapsed < Limit && !process.HasExited)
            {
                Thread.Sleep(5);
            }

            Thread.Sleep(new XentRandom((ulong)Environment.TickCount64).NextInt(100));
            Assert.False(process.HasExited, "training finished before it could be killed; make the run longer");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        Assert.False(File.Exists(Path.Combine(killed, "model.safetensors")));

        // The ranks die with mpirun, but not at once: wait until the lock's owner (rank 0) is gone.
        string owner = File.Exists(Path.Combine(killed, RunDirectory.LockFileName)) ? File.ReadAllText(Path.Combine(killed, RunDirectory.LockFileName)).Split(' ')[0] : string.Empty;
        var wait = Stopwatch.StartNew();
        while (owner.Length > 0 && wait.Elapsed < TimeSpan.FromSeconds(20) && File.Exists($"/proc/{owner}/stat"))
        {
            Thread.Sleep(20);
        }

        output.WriteLine($"the killed ranks were gone {wait.Elapsed.TotalSeconds:F1} s after mpirun");

        var resumeTime = Stopwatch.StartNew();
        var (mpiCode, mpiOut, mpiError) = Mpi.Launch(2, Limit, ["train", .. options, "--distributed", "--out", killed, "--resume"]);
        output.WriteLine($"mpirun -np 2 train --resume: {resumeTime.Elapsed.TotalSeconds:F1} s");
        Assert.True(mpiCode == 0, $"exit code {mpiCode}: {mpiOut} {mpiError}");
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "model.safetensors")), File.ReadAllBytes(Path.Combine(killed, "model.safetensors")));
        Assert.Equal(File.ReadAllText(Path.Combine(reference, "history.csv")), File.ReadAllText(Path.Combine(killed, "history.csv")));
    }

    [MpiFact]
    public void A_job_whose_ranks_use_other_vector_widths_is_refused()
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Xent.Cli.dll");
        string[] train = ["exec", cli, "train", .. ShardedTrainingTests.Digits, "--distributed", "--out", Path.Combine(_dir, "mixed")];
        var start = new ProcessStartInfo(Mpi.Run!, ["--allow-run-as-root", "--oversubscribe", "-np", "1", "dotnet", .. train, ":", "-np", "1", "env", "DOTNET_PreferredVectorBitWidth=128", "dotnet", .. train])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the mixed job did not end");
        }

        process.WaitForExit();
        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("rank 1 uses [", stdout.Result + stderr.Result);
        Assert.False(File.Exists(Path.Combine(_dir, "mixed", "model.safetensors")));
    }

    [MpiFact]
    public void A_rank_that_fails_ends_the_training_job_with_its_message()
    {
        // Rank 0 refuses a folder that is not empty while rank 1 waits for it: the job must end, not hang.
        string used = Path.Combine(_dir, "used");
        Directory.CreateDirectory(used);
        File.WriteAllText(Path.Combine(used, "history.csv"), "x");
        var (code, stdout, error) = Mpi.Launch(2, Limit, ["train", .. ShardedTrainingTests.Digits, "--distributed", "--out", used]);
        Assert.NotEqual(0, code);
        Assert.Contains("xent: rank 0 of 2:", stdout + error);
        Assert.Contains("not empty", stdout + error);
        Assert.Equal(2, code); // bad input keeps its exit code through MPI_Abort
    }

    [MpiFact]
    public void Mistakes_under_mpirun_are_named_and_exit_2()
    {
        // Forgetting --distributed: each process would train alone and all would write --out.
        var (code, stdout, error) = Mpi.Launch(2, Limit, ["train", .. ShardedTrainingTests.Digits, "--out", Path.Combine(_dir, "alone")]);
        Assert.Equal(2, code);
        Assert.Contains("one of 2 that mpirun started, but --distributed is not given", stdout + error);

        // A batch that the default --shards (the number of processes) does not divide.
        (code, stdout, error) = Mpi.Launch(2, Limit, ["train", "--data", DataTests.RepoFile("data", "digits.csv"), "--epochs", "1", "--batch-size", "31", "--distributed", "--out", Path.Combine(_dir, "odd")]);
        Assert.Equal(2, code);
        Assert.Contains("--batch-size 31 must be a multiple of --shards, which is the number of processes (2)", stdout + error);
    }
}
