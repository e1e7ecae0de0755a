using System.Diagnostics;
using System.Globalization;
using Xent.Kernels;
using Xent.Nn;

namespace Xent.Benchmarks;

/// <summary>
/// Data-parallel training throughput (issue 14): rows per second of <c>xent train --shards 2</c> on the digits MLP
/// (64 → 64 → 10, global batch 256) as 1 process × 2 threads, 1 process × 1 thread and, under <c>mpirun -np 2</c>,
/// 2 processes × 1 thread. All three train the same bits (the same shards, added by the same tree). Each figure is
/// the steady-state rate over epochs 2 to 201, timed by the epoch lines on standard output. Also
/// the per-step communication volume, and an estimate of the efficiency at 8 and 64 machines on 10 Gb/s from the
/// measured compute time (see docs/distributed.md for the model and its assumptions).
/// </summary>
internal static class DistributedSuite
{
    private const int Batch = 256;
    private const int Epochs = 201;

    public static IEnumerable<Row> Run()
    {
        string data = FindDigits();
        string? mpirun = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);
        string dir = Directory.CreateTempSubdirectory("xent-bench-dist-").FullName;
        Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
        try
        {
            int trainRows = CountRows(data) - (int)Math.Round(CountRows(data) * 0.2); // --val-fraction 0, --test-fraction 0.2
            double twoThreads = RowsPerSecond(dir, data, trainRows, null, 2);
            double oneThread = RowsPerSecond(dir, data, trainRows, null, 1);
            Sequential model = Mlp.Create(64, [64], 10, new XentRandom(1));
            long parameters = model.Parameters.Sum(p => (long)p.Value.Length);
            double stepMs = Batch / oneThread * 1000;
            yield return new Row("1 process x 1 thread", "digits MLP, batch 256", Batch / oneThread * 1000, "1 process x 2 threads", Batch / twoThreads * 1000,
                Fmt($"ms per step; {oneThread:F0} vs {twoThreads:F0} rows/s; 2-thread speed-up {twoThreads / oneThread:F2}x"));
            if (mpirun is null)
            {
                Console.WriteLine("mpirun is not on PATH (sudo apt-get install openmpi-bin libopenmpi-dev): 2 processes x 1 thread is not measured.");
            }
            else
            {
                double twoProcesses = RowsPerSecond(dir, data, trainRows, mpirun, 1);
                yield return new Row("2 processes x 1 thread (mpirun)", "digits MLP, batch 256", Batch / twoProcesses * 1000, "1 process x 2 threads", Batch / twoThreads * 1000,
                    Fmt($"ms per step; {twoProcesses:F0} vs {twoThreads:F0} rows/s; scaling efficiency over 1 x 1: {twoProcesses / (2 * oneThread):P0}; over 1 x 2 threads: {twoProcesses / twoThreads:P0}"));
            }

            // Per step each rank sends its subtree sum (P floats) and its shards' loss parts (2 doubles a shard), and
            // receives the other K - 1 ranks' (all-gather).
            Console.WriteLine(Fmt($"per-step communication, K ranks: each rank receives (K - 1) x {parameters} floats = (K - 1) x {parameters * 4 / 1024.0:F1} KiB (+ 16 bytes a shard); K = 2: {parameters * 4 / 1024.0:F1} KiB"));
            foreach (int k in new[] { 8, 64 })
            {
                // Weak scaling: each machine keeps a local batch of 256 rows on one core (the measured step time).
                // The all-gather moves (K - 1) blocks of 4P bytes into each rank at 10 Gb/s (1.25 GB/s), plus a
                // latency of 50 µs per message: K - 1 messages in a ring, log2 K rounds in recursive doubling.
                double bandwidthMs = (k - 1) * 4.0 * parameters / 1.25e9 * 1000;
                double ringMs = bandwidthMs + ((k - 1) * 0.05), logMs = bandwidthMs + (Math.Log2(k) * 0.05);
                yield return new Row(Fmt($"estimate: {k} machines, 10 Gb/s"), "digits MLP, 256 rows/machine", stepMs + ringMs, "compute alone", stepMs,
                    Fmt($"all-gather {ringMs:F2} ms (ring) or {logMs:F2} ms (recursive doubling) per step; efficiency {stepMs / (stepMs + ringMs):P0} to {stepMs / (stepMs + logMs):P0} (no overlap; 50 us per message assumed)"));
            }
        }

        finally
        {
            Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Steady-state rows per second, the median of 3 runs: the time from the first epoch's line to the last one's, as
    /// they reach standard output (so start-up, reading and the final evaluation are left out), for Epochs − 1 epochs.
    /// </summary>
    private static double RowsPerSecond(string dir, string data, int trainRows, string? mpirun, int threads)
    {
        var rates = new double[3];
        for (int i = 0; i < rates.Length; i++)
        {
            rates[i] = (Epochs - 1.0) * trainRows / (Train(dir, data, mpirun, threads) / 1000);
        }

        Array.Sort(rates);
        return rates[1];
    }

    /// <summary>Runs one training and returns the milliseconds between the first and the last epoch line.</summary>
    private static double Train(string dir, string data, string? mpirun, int threads)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Xent.Cli.dll");
        string output = Path.Combine(dir, Guid.NewGuid().ToString("N"));
        string[] train = ["exec", cli, "train", "--data", data, "--out", output, "--hidden", "64", "--batch-size", Num(Batch), "--shards", "2", "--epochs", Num(Epochs),
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
        if (process.ExitCode != 0 || marks.Count != Epochs)
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
