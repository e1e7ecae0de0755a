using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Xent.Data;
using Xent.Kernels;
using Xent.Losses;
using Xent.Nn;
using Xent.Optim;
using Xent.Training;

namespace Xent.Benchmarks;

/// <summary>
/// Issue 13, item 5: how the cross-entropy kernel, SGEMM and a training epoch scale, at 1 and at 2 threads and as the
/// work grows. Cross-entropy: N × C from 1M to 256M elements at C = 1000 and C = 10, each size against a memcpy of
/// the same buffers (the memory floor) and as time per element. SGEMM: squares 256 to 2048 as GFLOP/s. A training
/// epoch of the 20-64-3 MLP (batch 32, Adam, as <c>xent train</c> runs it) on 10k to 1M rows of a synthetic 20-feature
/// CSV, as microseconds per row, and at 16k rows against the sum of its kernels (the steps' forward, loss, backward
/// and Adam timed alone on one batch, and the validation pass).
/// </summary>
internal static class ScalingSuite
{
    public static IEnumerable<Row> Run(int maxThreads, string part)
    {
        int[] threadCounts = maxThreads > 1 ? [1, maxThreads] : [1];
        if (part == "overhead")
        {
            string dir = Directory.CreateTempSubdirectory("xent-bench-scaling-").FullName;
            try
            {
                foreach (int threads in threadCounts)
                {
                    foreach (Row row in EpochAgainstKernels(dir, threads))
                    {
                        yield return row;
                    }
                }
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }

            yield break;
        }

        foreach (int c in new[] { 1000, 10 })
        {
            foreach (long elements in new[] { 1L << 20, 4L << 20, 16L << 20, 64L << 20, 256L << 20 })
            {
                foreach (Row row in CrossEntropyAt(c, elements, threadCounts))
                {
                    yield return row;
                }
            }
        }

        foreach (int n in new[] { 256, 512, 1024, 2048 })
        {
            foreach (Row row in GemmAt(n, threadCounts))
            {
                yield return row;
            }
        }

        foreach (Row row in Epochs(threadCounts))
        {
            yield return row;
        }
    }

    private static IEnumerable<Row> CrossEntropyAt(int c, long elements, int[] threadCounts)
    {
        int n = (int)(elements / c);
        long count = (long)n * c;
        var random = new Random(5);
        var x = new float[count];
        var g = new float[count];
        var y = new int[n];
        for (long i = 0; i < count; i++)
        {
            x[i] = (float)((random.NextDouble() * 8) - 4);
        }

        for (int i = 0; i < n; i++)
        {
            y[i] = random.Next(c);
        }

        string shape = string.Create(CultureInfo.InvariantCulture, $"{n} x {c} ({count / (1 << 20)}M, {count * 4 >> 20} MiB)");
        double first = double.NaN;
        foreach (int threads in threadCounts)
        {
            Parallelism.MaxDegree = threads;
            Baselines.Memcpy(x, g, threads); // touch every page
            (double ms, double copy, double ratio) = Measure.Paired(
                () => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), gradient: g),
                () => Baselines.Memcpy(x, g, threads),
                pairs: count >= 64L << 20 ? 9 : 21);
            double nsPerElement = ms * 1e6 / count;
            string note = string.Create(CultureInfo.InvariantCulture, $"{nsPerElement:F3} ns/element; {threads} thread(s)");
            if (double.IsNaN(first))
            {
                first = ms;
            }
            else
            {
                note += string.Create(CultureInfo.InvariantCulture, $"; speed-up over 1 thread {first / ms:F2}x");
            }

            yield return new Row($"scaling CE fwd+bwd C={c}, {threads}T", shape, ms, "memcpy", copy, note) { PairedRatio = ratio };
        }
    }

    private static IEnumerable<Row> GemmAt(int n, int[] threadCounts)
    {
        var random = new Random(1);
        float[] a = [.. Enumerable.Range(0, n * n).Select(_ => (float)random.NextDouble())];
        float[] b = [.. Enumerable.Range(0, n * n).Select(_ => (float)random.NextDouble())];
        var c = new float[n * n];
        double first = double.NaN;
        foreach (int threads in threadCounts)
        {
            Parallelism.MaxDegree = threads;
            double ms = Measure.MedianMilliseconds(() => Sgemm.Multiply(Transpose.No, Transpose.No, n, n, n, 1, a, n, b, n, 0, c, n));
            double gflops = 2.0 * n * n * n / (ms * 1e6);
            if (double.IsNaN(first))
            {
                first = ms;
                yield return new Row($"scaling SGEMM square, 1T", $"{n}^3", ms, "1 thread", ms, string.Create(CultureInfo.InvariantCulture, $"{gflops:F1} GFLOP/s"));
            }
            else
            {
                yield return new Row($"scaling SGEMM square, {threads}T", $"{n}^3", ms, "1 thread", first, string.Create(CultureInfo.InvariantCulture, $"{gflops:F1} GFLOP/s; speed-up {first / ms:F2}x"));
            }
        }
    }

    private static IEnumerable<Row> Epochs(int[] threadCounts)
    {
        string dir = Directory.CreateTempSubdirectory("xent-bench-scaling-").FullName;
        try
        {
            foreach (int rows in new[] { 10_000, 30_000, 100_000, 300_000, 1_000_000 })
            {
                string csv = Path.Combine(dir, $"{rows}.csv");
                SyntheticCsv.Write(csv, rows, 20, 3, seed: 1);
                Dataset data = CsvDatasetReader.Read(csv);
                File.Delete(csv);
                if (rows == 10_000)
                {
                    // The smallest runs last a fraction of a second: let the tiered JIT optimise the trainer first.
                    Measure.SettleJit(() => TrainingPipeline.Run(data, new PipelineOptions { Hidden = [64], Trainer = new TrainerOptions { Epochs = 6, EarlyStopping = null, Threads = threadCounts[^1] } }));
                }

                double first = double.NaN;
                foreach (int threads in threadCounts)
                {
                    double ms = EpochMilliseconds(data, Path.Combine(dir, $"run-{rows}-{threads}"), threads, rows >= 300_000 ? 4 : 10);
                    double usPerRow = ms * 1e3 / (rows * 0.72); // 80% not test, 90% of that training
                    string note = string.Create(CultureInfo.InvariantCulture, $"{usPerRow:F3} µs per training row; {threads} thread(s); median epoch after the first two");
                    if (double.IsNaN(first))
                    {
                        first = ms;
                        yield return new Row("scaling train epoch 20-64-3, 1T", $"{rows} rows x 20", ms, "1 thread", ms, note);
                    }
                    else
                    {
                        yield return new Row($"scaling train epoch 20-64-3, {threads}T", $"{rows} rows x 20", ms, "1 thread", first, note + string.Create(CultureInfo.InvariantCulture, $"; speed-up {first / ms:F2}x"));
                    }
                }
            }

            foreach (int threads in threadCounts)
            {
                foreach (Row row in EpochAgainstKernels(dir, threads))
                {
                    yield return row;
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static double EpochMilliseconds(Dataset data, string outDir, int threads, int epochs)
    {
        using RunDirectory run = RunDirectory.Open(outDir, RunDirectoryMode.New);
        var options = new PipelineOptions
        {
            Hidden = [64],
            Trainer = new TrainerOptions { Epochs = epochs, EarlyStopping = null, Threads = threads, CheckpointPath = run.CheckpointPath, HistoryDirectory = run.Path },
        };
        var marks = new List<long> { Stopwatch.GetTimestamp() };
        TrainingPipeline.Run(data, options, new TrainRunSuite.EpochClock(marks));
        double[] epochMs = [.. marks.Zip(marks.Skip(1), (a, b) => Stopwatch.GetElapsedTime(a, b).TotalMilliseconds).Skip(2).Order()];
        return epochMs[epochMs.Length / 2];
    }

    /// <summary>
    /// The 16k-row epoch (xent train's default split: 20% test, 10% of the rest validation, so 11,520 training rows in 360
    /// steps of 32 and 1,280 validation rows) against the sum of its kernels: 360 steps (forward, loss, backward, Adam)
    /// of a model of the same shape on one batch, plus one forward pass over 1,280 rows, timed right after each epoch
    /// ends, so that each epoch and its kernels see the same machine load; the ratio is the median of the per-epoch ratios.
    /// </summary>
    private static IEnumerable<Row> EpochAgainstKernels(string dir, int threads)
    {
        string csv = Path.Combine(dir, "16k.csv");
        SyntheticCsv.Write(csv, 16_000, 20, 3, seed: 1);
        Dataset data = CsvDatasetReader.Read(csv);
        // The epoch's code and the kernels' loop, both optimised by the tiered JIT before either is timed.
        Measure.SettleJit(() => TrainingPipeline.Run(data, new PipelineOptions { Hidden = [64], Trainer = new TrainerOptions { Epochs = 6, EarlyStopping = null, Threads = threads } }, new KernelClock(threads)));
        foreach (bool files in new[] { true, false })
        {
            var kernels = new KernelClock(threads);
            using RunDirectory run = RunDirectory.Open(Path.Combine(dir, $"16k-{threads}-{files}"), RunDirectoryMode.New);
            var options = new PipelineOptions
            {
                Hidden = [64],
                Trainer = new TrainerOptions { Epochs = 25, EarlyStopping = null, Threads = threads, CheckpointPath = files ? run.CheckpointPath : null, HistoryDirectory = files ? run.Path : null },
            };
            TrainingPipeline.Run(data, options, kernels);
            (double epoch, double alone, double ratio) = kernels.Medians(skip: 5);
            yield return new Row(files ? $"train epoch vs its kernels, {threads}T" : $"train epoch, no checkpoint/history, {threads}T", "16k x 20, 20-64-3, batch 32", epoch, "360 steps + validation alone", alone,
                string.Create(CultureInfo.InvariantCulture, $"{(files ? "as xent train runs it: checkpoint and history log every epoch" : "the same epoch without writing the checkpoint and history log")}; kernels timed right after each epoch, median of per-epoch ratios after 5; goal <= 1.2x"))
            { PairedRatio = ratio };
        }
    }

    /// <summary>At the end of each epoch, times the epoch and then the same epoch's kernels alone.</summary>
    private sealed class KernelClock : IProgress<TrainingProgress>
    {
        private const int Batch = 32, Steps = 360, ValidationRows = 1280;
        private readonly List<(double Epoch, double Kernels)> _pairs = [];
        private readonly Sequential _model;
        private readonly Adam _optimizer;
        private readonly TrainingLoss _loss = new(LossKind.CrossEntropy);
        private readonly float[] _x, _validation, _gradient = new float[Batch * 3];
        private readonly int[] _y;
        private long _mark = Stopwatch.GetTimestamp();

        public KernelClock(int threads)
        {
            var random = new XentRandom(1);
            _model = Mlp.Create(20, [64], 3, random);
            _optimizer = new Adam(_model.Parameters);
            _x = [.. Enumerable.Range(0, Batch * 20).Select(_ => random.NextSingle(-1, 1))];
            _validation = [.. Enumerable.Range(0, ValidationRows * 20).Select(_ => random.NextSingle(-1, 1))];
            _y = [.. Enumerable.Range(0, Batch).Select(_ => random.NextInt(3))];
            Parallelism.MaxDegree = threads;
        }

        public void Report(TrainingProgress value)
        {
            if (!value.EpochEnded)
            {
                return;
            }

            long end = Stopwatch.GetTimestamp();
            double epoch = Stopwatch.GetElapsedTime(_mark, end).TotalMilliseconds;
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < Steps; i++)
            {
                _model.ZeroGradients();
                ReadOnlySpan<float> output = _model.Forward(_x, Batch, training: true);
                _loss.Compute(output, _y, 3, _gradient);
                _model.Backward(_gradient);
                _optimizer.Step();
            }

            _model.Forward(_validation, ValidationRows, training: false);
            _pairs.Add((epoch, Stopwatch.GetElapsedTime(start).TotalMilliseconds));
            _mark = Stopwatch.GetTimestamp();
        }

        public (double Epoch, double Kernels, double Ratio) Medians(int skip)
        {
            (double Epoch, double Kernels)[] kept = [.. _pairs.Skip(skip)];
            static double Median(IEnumerable<double> v)
            {
                double[] sorted = [.. v.Order()];
                return sorted[sorted.Length / 2];
            }

            return (Median(kept.Select(p => p.Epoch)), Median(kept.Select(p => p.Kernels)), Median(kept.Select(p => p.Epoch / p.Kernels)));
        }
    }
}
