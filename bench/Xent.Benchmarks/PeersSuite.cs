using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xent.Data;
using Xent.Training;

namespace Xent.Benchmarks;

/// <summary>
/// Issue 13, whole runs: the time of one training epoch of a linear model and of the 64-hidden MLP on a 16k × 20 CSV,
/// in Xent (in process, as <c>xent train</c> runs it: validation, checkpoint and history log every epoch) against
/// scikit-learn's MLPClassifier and PyTorch 1.13 (<c>tools/bench_train_peers.py</c>: Adam 1e-3, batch 32, the same 90%
/// of the rows, same threads), in the same session. Each figure is the median epoch after the first five.
/// </summary>
internal static class PeersSuite
{
    private const int Epochs = 30;

    public static IEnumerable<Row> Run(int threads)
    {
        string dir = Directory.CreateTempSubdirectory("xent-bench-peers-").FullName;
        try
        {
            string csv = Path.Combine(dir, "16k.csv");
            SyntheticCsv.Write(csv, 16_000, 20, 3, seed: 1);
            foreach (int hidden in new[] { 0, 64 })
            {
                double xent = XentEpoch(csv, dir, hidden, threads);
                JsonElement? peers = Peers(csv, hidden, threads, out string? why);
                string model = hidden == 0 ? "linear" : "20-64-3 MLP";
                foreach ((string key, string name) in new[] { ("sklearn_ms", "scikit-learn MLPClassifier"), ("torch_ms", "PyTorch") })
                {
                    if (peers is { } p && p.TryGetProperty(key, out JsonElement ms))
                    {
                        string version = p.TryGetProperty(key.Replace("_ms", "_version", StringComparison.Ordinal), out JsonElement v) ? " " + v.GetString() : string.Empty;
                        yield return new Row($"train epoch, {model}", "16k x 20, batch 32", xent, name + version, ms.GetDouble(), "Adam, same rows and threads; goal <= 0.5x the faster peer");
                    }
                    else
                    {
                        string error = peers is { } q && q.TryGetProperty(key.Replace("_ms", "_error", StringComparison.Ordinal), out JsonElement e) ? e.GetString() ?? "absent" : why ?? "absent";
                        yield return new Row($"train epoch, {model}", "16k x 20, batch 32", xent, name + " absent", double.NaN, error);
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static double XentEpoch(string csv, string dir, int hidden, int threads)
    {
        Dataset data = CsvDatasetReader.Read(csv);
        using RunDirectory run = RunDirectory.Open(Path.Combine(dir, $"xent-{hidden}"), RunDirectoryMode.New);
        var options = new PipelineOptions
        {
            Hidden = hidden == 0 ? [] : [hidden],
            Trainer = new TrainerOptions { Epochs = Epochs, EarlyStopping = null, Threads = threads, CheckpointPath = run.CheckpointPath, HistoryDirectory = run.Path },
        };
        Measure.SettleJit(() => TrainingPipeline.Run(data, options with { Trainer = options.Trainer with { Epochs = 10, CheckpointPath = null, HistoryDirectory = null } }));
        var marks = new List<long> { Stopwatch.GetTimestamp() };
        TrainingPipeline.Run(data, options, new TrainRunSuite.EpochClock(marks));
        double[] epochMs = [.. marks.Zip(marks.Skip(1), (a, b) => Stopwatch.GetElapsedTime(a, b).TotalMilliseconds).Skip(5).Order()];
        return epochMs[epochMs.Length / 2];
    }

    private static JsonElement? Peers(string csv, int hidden, int threads, out string? why)
        => ToolScripts.RunPython("bench_train_peers.py", ["--csv", csv, "--hidden", hidden.ToString(CultureInfo.InvariantCulture), "--epochs", Epochs.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture)], out why);
}
