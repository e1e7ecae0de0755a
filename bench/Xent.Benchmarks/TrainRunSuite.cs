using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xent.Data;
using Xent.Kernels;
using Xent.Training;

namespace Xent.Benchmarks;

/// <summary>
/// Whole training runs (issue 8): that an epoch costs the same at epoch 200 as at epoch 10 (in-process, one run, with
/// checkpoints and the history log as <c>xent train</c> writes them), that <c>xent train</c>'s peak memory does not grow
/// from 20 to 200 epochs (child processes, peak RSS from /proc), and, with <c>--big</c>, the time and peak memory of
/// 1M rows × 50 features with default options.
/// </summary>
internal static class TrainRunSuite
{
    public static IEnumerable<Row> Run(int threads, bool big)
    {
        string dir = Directory.CreateTempSubdirectory("xent-bench-run-").FullName;
        try
        {
            string csv = Path.Combine(dir, "16k.csv");
            SyntheticCsv.Write(csv, 16_000, 20, 3, seed: 1);
            foreach (Row row in EpochTimes(csv, dir, threads))
            {
                yield return row;
            }

            (double ms20, long rss20) = Cli(["train", "--data", csv, "--out", Path.Combine(dir, "e20"), "--hidden", "none", "--epochs", "20", "--threads", Num(threads)]);
            (double ms200, long rss200) = Cli(["train", "--data", csv, "--out", Path.Combine(dir, "e200"), "--hidden", "none", "--epochs", "200", "--threads", Num(threads)]);
            yield return new Row("xent train peak RSS, 200 epochs", "16k x 20, linear", rss200 / 1e6, "peak RSS, 20 epochs", rss20 / 1e6,
                string.Create(CultureInfo.InvariantCulture, $"MB, not ms: {rss200 / 1e6:F0} MB vs {rss20 / 1e6:F0} MB; goal <= 1.2x; wall {ms200 / 1000:F1} s vs {ms20 / 1000:F1} s"));
            if (big)
            {
                string large = Path.Combine(dir, "1m.csv");
                var write = Stopwatch.StartNew();
                SyntheticCsv.Write(large, 1_000_000, 50, 5, seed: 2);
                long bytes = new FileInfo(large).Length;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {bytes / 1e6:F0} MB of CSV in {write.Elapsed.TotalSeconds:F1} s"));
                (double ms, long rss) = Cli(["train", "--data", large, "--out", Path.Combine(dir, "big"), "--threads", Num(threads)]);
                bool model = File.Exists(Path.Combine(dir, "big", "model.safetensors"));
                yield return new Row("xent train peak RSS, defaults", "1M x 50, 5 classes", rss / 1e6, "CSV size", bytes / 1e6,
                    string.Create(CultureInfo.InvariantCulture, $"MB, not ms; wall {ms / 1000:F0} s; model written: {model}"));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Per-epoch wall time of one 200-epoch run: the median of epochs 6–15 against that of epochs 191–200.</summary>
    private static IEnumerable<Row> EpochTimes(string csv, string dir, int threads)
    {
        Dataset data = CsvDatasetReader.Read(csv);
        string outDir = Path.Combine(dir, "inproc");
        using RunDirectory run = RunDirectory.Open(outDir, RunDirectoryMode.New);
        var options = new PipelineOptions
        {
            Hidden = [],
            Trainer = new TrainerOptions { Epochs = 200, EarlyStopping = null, Threads = threads, CheckpointPath = run.CheckpointPath, HistoryDirectory = run.Path },
        };
        var marks = new List<long>();
        var progress = new EpochClock(marks);
        long start = Stopwatch.GetTimestamp();
        marks.Add(start);
        TrainingPipeline.Run(data, options, progress);
        double[] epochMs = [.. marks.Zip(marks.Skip(1), (a, b) => Stopwatch.GetElapsedTime(a, b).TotalMilliseconds)];
        double early = Median(epochMs[5..15]), late = Median(epochMs[^10..]);
        yield return new Row("epoch time at epoch ~200", "16k x 20, linear, 350 steps/epoch", late, "epoch time at epoch ~10", early,
            "same run; checkpoint and history log each epoch; goal <= 1.2x");
    }

    private static (double Milliseconds, long PeakRss) Cli(string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Xent.Cli.dll");
        var info = new ProcessStartInfo("dotnet", ["exec", cli, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        var stopwatch = Stopwatch.StartNew();
        using Process process = Process.Start(info)!;
        var err = new StringBuilder();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => err.AppendLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        long peak = 0;
        string status = $"/proc/{process.Id}/status";
        while (!process.HasExited)
        {
            try
            {
                foreach (string line in File.ReadLines(status))
                {
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    {
                        peak = Math.Max(peak, long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024);
                    }
                }
            }
            catch (IOException)
            {
                // The process ended between the check and the read.
            }

            Thread.Sleep(20);
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"xent {string.Join(' ', args)} exited {process.ExitCode}: {err}");
        }

        return (stopwatch.Elapsed.TotalMilliseconds, peak);
    }

    private static double Median(double[] values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Records the time at the end of each epoch.</summary>
    internal sealed class EpochClock(List<long> marks) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.EpochEnded)
            {
                marks.Add(Stopwatch.GetTimestamp());
            }
        }
    }
}

/// <summary>Writes a synthetic classification CSV: Gaussian features, labels from a random linear map plus noise.</summary>
internal static class SyntheticCsv
{
    public static void Write(string path, int rows, int features, int classes, ulong seed)
    {
        var random = new XentRandom(seed);
        var w = new double[features * classes];
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = random.NextGaussian();
        }

        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20) { NewLine = "\n" };
        writer.WriteLine(string.Join(",", Enumerable.Range(0, features).Select(f => $"f{f}")) + ",label");
        var x = new double[features];
        var line = new StringBuilder();
        for (int r = 0; r < rows; r++)
        {
            line.Clear();
            for (int f = 0; f < features; f++)
            {
                x[f] = random.NextGaussian();
                line.Append(x[f].ToString("G5", CultureInfo.InvariantCulture)).Append(',');
            }

            int best = 0;
            double bestScore = double.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                double score = random.NextGaussian();
                for (int f = 0; f < features; f++)
                {
                    score += x[f] * w[(f * classes) + c];
                }

                if (score > bestScore)
                {
                    (best, bestScore) = (c, score);
                }
            }

            line.Append("c").Append(best.ToString(CultureInfo.InvariantCulture));
            writer.WriteLine(line);
        }
    }
}
