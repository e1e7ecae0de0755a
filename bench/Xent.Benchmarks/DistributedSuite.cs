using System.Diagnostics;
using System.Globalization;
using Xent.Data;
using Xent.Kernels;
using Xent.Nn;

namespace Xent.Benchmarks;

/// <summary>
/// Data-parallel training throughput (issue 14): rows per second of <c>xent train --shards 2</c> as 1 process × 2
/// threads, 1 process × 1 thread and, under <c>mpirun -np 2</c>, 2 processes × 1 thread, on two models: the digits MLP
/// (64 → 64 → 10, global batch 256) and the Fashion-MNIST CNN of <see cref="FmnistSuite.Cnn"/> (global batch 128, on
/// the first <see cref="FmnistImages"/> training images, written to a temporary IDX file; skipped with a message
/// when the dataset is not installed). All three configurations train the same bits (the same shards, added by the
/// same tree). Each figure is the steady-state rate over all epochs but the first, timed by the epoch lines on standard
/// output. Also the per-step communication volume, and an estimate of the efficiency at 8 and 64 machines on 10 Gb/s
/// from the measured compute time (see docs/distributed.md for the model and its assumptions).
/// </summary>
internal static class DistributedSuite
{
    private const string FashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>Fashion-MNIST training images the CNN case trains on (80 % of them, 6,400, after the test split: 50 steps of 128 an epoch).</summary>
    private const int FmnistImages = 8000;

    public static IEnumerable<Row> Run()
    {
        string? mpirun = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);
        string dir = Directory.CreateTempSubdirectory("xent-bench-dist-").FullName;
        Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
        try
        {
            string digits = FindDigits();
            var cases = new List<Case>
            {
                // --test-fraction 0.2 (the default): the training split is the rest.
                new("digits MLP", "digits MLP, batch 256", digits, ["--hidden", "64"], 256, 201, CountRows(digits) - (int)Math.Round(CountRows(digits) * 0.2),
                    Parameters(Mlp.Create(64, [64], 10, new XentRandom(1)))),
            };
            string? images = FmnistSubset(dir, FmnistImages);
            if (images is null)
            {
                Console.WriteLine($"{FashionMnist} is absent (sudo apt-get install dataset-fashion-mnist): the Fashion-MNIST CNN is not measured.");
                yield return new Row("Fashion-MNIST CNN", "absent", double.NaN, "1 process x 2 threads", double.NaN, $"needs {FashionMnist}; skipped");
            }
            else
            {
                LayerSpec cnn = ModelDescription.Build(ModelDescription.Parse(FmnistSuite.Cnn), [1, 28, 28], 10);
                cases.Add(new("Fashion-MNIST CNN", Fmt($"Fashion-MNIST CNN, {FmnistImages - (int)Math.Round(FmnistImages * 0.2)} images, batch 128"), images, ["--model", FmnistSuite.Cnn], 128, 6,
                    FmnistImages - (int)Math.Round(FmnistImages * 0.2), Parameters((Sequential)cnn.Build(new XentRandom(1)))));
            }

            foreach (Case c in cases)
            {
                foreach (Row row in Measure(dir, c, mpirun))
                {
                    yield return row;
                }
            }
        }
        finally
        {
            Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>One model to measure: its data, its <c>xent train</c> options, the global batch, the epochs (the first is not timed), the training rows and the parameter count P.</summary>
    private sealed record Case(string Name, string Shape, string Data, string[] Model, int Batch, int Epochs, int TrainRows, long Parameters);

    private static IEnumerable<Row> Measure(string dir, Case c, string? mpirun)
    {
        Console.WriteLine($"{c.Name}: {c.TrainRows} training rows, batch {c.Batch}, {c.Epochs} epochs, P = {c.Parameters} parameters");
        double twoThreads = RowsPerSecond(dir, c, null, 2);
        double oneThread = RowsPerSecond(dir, c, null, 1);
        double stepMs = c.Batch / oneThread * 1000;
        yield return new Row("1 process x 1 thread", c.Shape, stepMs, "1 process x 2 threads", c.Batch / twoThreads * 1000,
            Fmt($"ms per step; {oneThread:F0} vs {twoThreads:F0} rows/s; 2-thread speed-up {twoThreads / oneThread:F2}x"));
        if (mpirun is null)
        {
            Console.WriteLine("mpirun is not on PATH (sudo apt-get install openmpi-bin libopenmpi-dev): 2 processes x 1 thread is not measured.");
        }
        else
        {
            double twoProcesses = RowsPerSecond(dir, c, mpirun, 1);
            yield return new Row("2 processes x 1 thread (mpirun)", c.Shape, c.Batch / twoProcesses * 1000, "1 process x 2 threads", c.Batch / twoThreads * 1000,
                Fmt($"ms per step; {twoProcesses:F0} vs {twoThreads:F0} rows/s; scaling efficiency over 1 x 1: {twoProcesses / (2 * oneThread):P0}; over 1 x 2 threads: {twoProcesses / twoThreads:P0}"));
        }

        // Per step each rank sends its subtree sum (P floats) and its shards' loss parts (2 doubles a shard), and
        // receives the other K - 1 ranks' (all-gather).
        long p = c.Parameters;
        Console.WriteLine(Fmt($"{c.Name}: per-step communication, K ranks: each rank receives (K - 1) x {p} floats = (K - 1) x {p * 4 / 1024.0:F1} KiB (+ 16 bytes a shard); K = 2: {p * 4 / 1024.0:F1} KiB"));
        foreach (int k in new[] { 8, 64 })
        {
            // Weak scaling: each machine keeps a local batch of c.Batch rows on one core (the measured step time).
            // The all-gather moves (K - 1) blocks of 4P bytes into each rank at 10 Gb/s (1.25 GB/s), plus a
            // latency of 50 µs per message: K - 1 messages in a ring, log2 K rounds in recursive doubling.
            double bandwidthMs = (k - 1) * 4.0 * p / 1.25e9 * 1000;
            double ringMs = bandwidthMs + ((k - 1) * 0.05), logMs = bandwidthMs + (Math.Log2(k) * 0.05);
            yield return new Row(Fmt($"estimate: {k} machines, 10 Gb/s"), Fmt($"{c.Name}, {c.Batch} rows/machine"), stepMs + ringMs, "compute alone", stepMs,
                Fmt($"all-gather {ringMs:F2} ms (ring) or {logMs:F2} ms (recursive doubling) per step; efficiency {stepMs / (stepMs + ringMs):P0} to {stepMs / (stepMs + logMs):P0} (no overlap; 50 us per message assumed)"));
        }
    }

    private static long Parameters(Sequential model) => model.Parameters.Sum(p => (long)p.Value.Length);

    /// <summary>
    /// Writes the first <paramref name="count"/> Fashion-MNIST training images and labels as IDX files in
    /// <paramref name="dir"/> (the file's rows are in random order, so they are a fair subset) and returns the images'
    /// path, which <c>xent train --data</c> reads with the labels beside it; null when the dataset is not installed.
    /// </summary>
    private static string? FmnistSubset(string dir, int count)
    {
        string images = Path.Combine(FashionMnist, "train-images-idx3-ubyte.gz"), labels = Path.Combine(FashionMnist, "train-labels-idx1-ubyte.gz");
        if (!File.Exists(images) || !File.Exists(labels))
        {
            return null;
        }

        IdxArray x = IdxReader.Read(images), y = IdxReader.Read(labels);
        int size = x.Values.Length / x.Dimensions[0];
        string imagesOut = Path.Combine(dir, "subset-images-idx3-ubyte"), labelsOut = Path.Combine(dir, "subset-labels-idx1-ubyte");
        Write(imagesOut, 3, [count, .. x.Dimensions[1..]], x.Values.AsSpan(0, count * size));
        Write(labelsOut, 1, [count], y.Values.AsSpan(0, count));
        return imagesOut;

        static void Write(string path, byte rank, int[] dimensions, ReadOnlySpan<byte> values)
        {
            using var file = File.Create(path);
            file.Write([0, 0, 0x08, rank]);
            Span<byte> word = stackalloc byte[4];
            foreach (int d in dimensions)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(word, d);
                file.Write(word);
            }

            file.Write(values);
        }
    }

    /// <summary>
    /// Steady-state rows per second, the median of 3 runs: the time from the first epoch's line to the last one's, as
    /// they reach standard output (so start-up, reading and the final evaluation are left out), for Epochs − 1 epochs.
    /// </summary>
    private static double RowsPerSecond(string dir, Case c, string? mpirun, int threads)
    {
        var rates = new double[3];
        for (int i = 0; i < rates.Length; i++)
        {
            rates[i] = (c.Epochs - 1.0) * c.TrainRows / (Train(dir, c, mpirun, threads) / 1000);
        }

        Array.Sort(rates);
        return rates[1];
    }

    /// <summary>Runs one training and returns the milliseconds between the first and the last epoch line.</summary>
    private static double Train(string dir, Case c, string? mpirun, int threads)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Xent.Cli.dll");
        string output = Path.Combine(dir, Guid.NewGuid().ToString("N"));
        string[] train = ["exec", cli, "train", "--data", c.Data, "--out", output, .. c.Model, "--batch-size", Num(c.Batch), "--shards", "2", "--epochs", Num(c.Epochs),
            "--val-fraction", "0", "--early-stopping", "0", "--checkpoint-every", "never", "--threads", Num(threads), "--seed", "1"];
        ProcessStartInfo info = mpirun is null
            ? new ProcessStartInfo("dotnet", train)
            : new ProcessStartInfo(mpirun, ["--oversubscribe", "-np", "2", "dotnet", .. train, "--distributed"]);
        info.RedirectStandardOutput = info.RedirectStandardError = true;
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = info.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        using Process process = Process.Start(info)!;
        var marks = new List<long>();
        var lines = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (marks)
                {
                    if (line.StartsWith("train epoch ", StringComparison.Ordinal))
                    {
                        marks.Add(Stopwatch.GetTimestamp());
                    }

                    lines.AppendLine(line);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (marks)
            {
                lines.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        if (process.ExitCode != 0 || marks.Count != c.Epochs)
        {
            throw new InvalidOperationException($"xent train exited {process.ExitCode} after {marks.Count} epoch lines: {lines}");
        }

        Directory.Delete(output, recursive: true);
        return Stopwatch.GetElapsedTime(marks[0], marks[^1]).TotalMilliseconds;
    }

    private static string FindDigits()
    {
        for (string? d = AppContext.BaseDirectory; d is not null; d = Path.GetDirectoryName(d))
        {
            string candidate = Path.Combine(d, "data", "digits.csv");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("data/digits.csv was not found above the benchmark's folder.");
    }

    private static int CountRows(string csv) => File.ReadLines(csv).Count() - 1;

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Fmt(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
