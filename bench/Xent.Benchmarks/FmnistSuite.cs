using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xent.Data;
using Xent.Kernels;
using Xent.Nn;
using Xent.Optim;
using Xent.Training;

namespace Xent.Benchmarks;

/// <summary>
/// Issue 12: the time of a Fashion-MNIST training epoch of the CNN
/// <c>conv2d(32,3),relu,maxpool(2),conv2d(64,3),relu,maxpool(2),flatten,linear(128),relu,linear</c> and of the
/// 784-256-10 MLP, and of the BatchNorm CNN of the accuracy figure (<see cref="BatchNormCnn"/>) (Adam 1e-3, batch 128, cross-entropy), in Xent and in PyTorch 1.13
/// (<c>tools/bench_fmnist_pytorch.py</c>), same threads, same session. Each round times <see cref="Steps"/> steps of
/// shuffled batches (gathering the batch included) in Xent and then in a PyTorch process, so both see the same load;
/// the epoch (469 steps of 128 over the 60,000 images) is the step time scaled. The figure is the median of the
/// rounds' ratios; the note gives their range, the GFLOP/s and the share of the FMA peak.
/// </summary>
internal static class FmnistSuite
{
    private const string Dir = "/usr/share/datasets/fashion-mnist";
    private const int Batch = 128;
    private const int Steps = 100;
    private const int Rounds = 3;

    public const string Cnn = "conv2d(32,3),relu,maxpool(2),conv2d(64,3),relu,maxpool(2),flatten,linear(128),relu,linear";

    /// <summary>The BatchNorm CNN of docs/images.md's 10-seed accuracy figure (padding, BatchNorm, dropout); issue 12 sets no goal for it.</summary>
    public const string BatchNormCnn = "conv2d(32,3,padding=1),batchnorm,relu,maxpool(2),conv2d(64,3,padding=1),batchnorm,relu,maxpool(2),flatten,dropout(0.25),linear(128),relu,linear";

    public static IEnumerable<Row> Run(int threads, double peak)
    {
        Parallelism.MaxDegree = threads;
        string images = Path.Combine(Dir, "train-images-idx3-ubyte.gz"), labels = Path.Combine(Dir, "train-labels-idx1-ubyte.gz");
        if (!File.Exists(images) || !File.Exists(labels))
        {
            yield return new Row("Fashion-MNIST epoch", "absent", double.NaN, "PyTorch", double.NaN, $"needs {Dir} (sudo apt-get install dataset-fashion-mnist); skipped");
            yield break;
        }

        IdxArray x = IdxReader.Read(images), y = IdxReader.Read(labels);
        int n = x.Dimensions[0], features = x.Values.Length / n;
        float[] pixels = [.. x.Values.Select(b => b / 255f)];
        int[] targets = [.. y.Values.Select(b => (int)b)];
        int stepsPerEpoch = (n + Batch - 1) / Batch;
        string loadBefore = LoadAverage();
        yield return GatherRow(images, labels);
        foreach ((string name, string torchName, string description) in new[] { ("CNN", "cnn", Cnn), ("BatchNorm CNN", "bn-cnn", BatchNormCnn), ("MLP 784-256-10", "mlp", "flatten,linear(256),relu,linear") })
        {
            var bench = new XentRun(description, pixels, targets, features, threads);
            double flops = bench.FlopsPerSample * 3.0 * n; // forward, and twice the forward for the backward
            {
                foreach (string line in bench.Profile())
                {
                    Console.WriteLine(line);
                }
            }

            var xentMs = new List<double>();
            var torchMs = new List<double>();
            string? why = null;
            string version = string.Empty;
            for (int round = 0; round < Rounds; round++)
            {
                xentMs.Add(bench.StepMilliseconds(Steps));
                JsonElement? torch = Torch(torchName, threads, out why);
                if (torch is { } t)
                {
                    torchMs.Add(t.GetProperty("step_ms").GetDouble());
                    version = t.GetProperty("torch_version").GetString() ?? string.Empty;
                }
            }

            double xentEpoch = Median(xentMs) * stepsPerEpoch;
            double gflops = flops / (xentEpoch * 1e6);
            string work = string.Create(CultureInfo.InvariantCulture, $"epoch {flops / 1e9:F0} GFLOP: Xent {gflops:F1} GFLOP/s, {100 * gflops / peak:F0}% of FMA peak");
            string goal = (torchName switch { "cnn" => "goal <= 0.4x", "mlp" => "goal <= 0.2x", _ => "no goal (issue 12 sets one for the plain CNN)" }) + $"; load average {loadBefore} -> {LoadAverage()} on {Environment.ProcessorCount} cores";
            if (torchMs.Count == Rounds)
            {
                double[] ratios = [.. xentMs.Zip(torchMs, (a, b) => a / b).Order()];
                double torchEpoch = Median(torchMs) * stepsPerEpoch;
                yield return new Row($"Fashion-MNIST epoch, {name}", $"60000 x 784, batch {Batch}", xentEpoch, $"PyTorch {version}", torchEpoch,
                    string.Create(CultureInfo.InvariantCulture, $"ratio is the median of {Rounds} rounds' ratios ({ratios[0]:F2}-{ratios[^1]:F2}); {work}; {goal}"))
                { PairedRatio = Median(ratios) };
            }
            else
            {
                yield return new Row($"Fashion-MNIST epoch, {name}", $"60000 x 784, batch {Batch}", xentEpoch, "PyTorch absent", double.NaN, $"{why}; {work}");
            }
        }
    }

    /// <summary>
    /// The batch gather as <c>xent train</c> does it for an image table: 128 shuffled rows encoded from the IDX file's
    /// bytes (<see cref="EncodedRows.CopyRow"/>: widen, ÷ 255, − mean, ÷ scale), against copying the same rows from
    /// the floats that the table would take encoded in advance (4 bytes a pixel, the storage before issue 12's change).
    /// Timed in alternation, 100 batches a sample, on one thread (the gather is serial).
    /// </summary>
    private static Row GatherRow(string images, string labels)
    {
        DataTable table = IdxReader.ReadImages(images, labels, null, out _);
        int[] rows = [.. Enumerable.Range(0, table.Count)];
        Preprocessor preprocessor = Preprocessor.Fit(table, rows);
        EncodedRows bytes = EncodedRows.ForImages(preprocessor, table, rows) ?? throw new InvalidOperationException("the IDX table is not read as pixels");
        Dataset floats = bytes.Materialize();
        int d = floats.FeatureCount;
        var order = new int[100 * Batch];
        var random = new Random(5);
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = random.Next(table.Count);
        }

        var batch = new float[Batch * d];
        void FromBytes()
        {
            for (int i = 0; i < order.Length; i++)
            {
                bytes.CopyRow(order[i], batch.AsSpan((i % Batch) * d, d));
            }
        }

        void FromFloats()
        {
            for (int i = 0; i < order.Length; i++)
            {
                floats.Row(order[i]).CopyTo(batch.AsSpan((i % Batch) * d, d));
            }
        }

        (double ms, double baseMs, double ratio) = Measure.Paired(FromBytes, FromFloats);
        double perBatch = ms / 100, basePerBatch = baseMs / 100;
        return new Row("Fashion-MNIST batch gather, bytes", $"{Batch} x {d}", perBatch, "copy of encoded floats", basePerBatch,
            string.Create(CultureInfo.InvariantCulture, $"per batch of {Batch} shuffled rows, 1 thread; {perBatch * 469:F1} ms an epoch of 469 batches; paired runs")) { PairedRatio = ratio };
    }

    /// <summary>The 1-minute load average (/proc/loadavg), so that a table says how busy the machine was; "?" where unknown.</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
        catch (UnauthorizedAccessException)
        {
            return "?";
        }
    }

    private static double Median(IReadOnlyList<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static JsonElement? Torch(string model, int threads, out string? why)
        => ToolScripts.RunPython("bench_fmnist_pytorch.py", ["--model", model, "--steps", Steps.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture), "--data", Dir], out why);

    /// <summary>Xent's training loop over shuffled batches, as the trainer runs it: gather, forward, loss, backward, Adam.</summary>
    private sealed class XentRun
    {
        private readonly Sequential _model;
        private readonly Adam _optimizer;
        private readonly TrainingLoss _loss = new(LossKind.CrossEntropy);
        private readonly float[] _pixels;
        private readonly int[] _targets;
        private readonly int _features;
        private readonly int[] _order;
        private readonly float[] _x;
        private readonly int[] _y = new int[Batch];
        private readonly float[] _gradient;
        private int _next;

        public XentRun(string description, float[] pixels, int[] targets, int features, int threads)
        {
            _ = threads;
            LayerSpec spec = ModelDescription.Build(ModelDescription.Parse(description), [1, 28, 28], 10);
            _model = (Sequential)spec.Build(new XentRandom(0));
            _optimizer = new Adam(_model.Parameters);
            _pixels = pixels;
            _targets = targets;
            _features = features;
            _order = [.. Enumerable.Range(0, targets.Length)];
            new Random(0).Shuffle(_order);
            _x = new float[Batch * features];
            _gradient = new float[Batch * 10];
            FlopsPerSample = _model.Layers.Sum(l => l switch
            {
                Conv2d c => 2.0 * c.Weight.Value.Length * c.OutputShape.Height * c.OutputShape.Width,
                Linear f => 2.0 * f.Weight.Value.Length,
                _ => 0,
            });
        }

        public double FlopsPerSample { get; }

        public void Step()
        {
            if (_next + Batch > _order.Length)
            {
                _next = 0;
            }

            for (int i = 0; i < Batch; i++)
            {
                int row = _order[_next + i];
                _pixels.AsSpan(row * _features, _features).CopyTo(_x.AsSpan(i * _features));
                _y[i] = _targets[row];
            }

            _next += Batch;
            _model.ZeroGradients();
            ReadOnlySpan<float> output = _model.Forward(_x, Batch, training: true);
            _loss.Compute(output, _y, 10, _gradient);
            _model.Backward(_gradient);
            _optimizer.Step();
        }

        /// <summary>Milliseconds per step over <paramref name="steps"/> steps, after 10 warm-up steps.</summary>
        public double StepMilliseconds(int steps)
        {
            for (int i = 0; i < 10; i++)
            {
                Step();
            }

            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < steps; i++)
            {
                Step();
            }

            return Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps;
        }

        /// <summary>Each stage's forward and backward time per step (stage by stage on the same batch, a convolution with its fused ReLU and pooling as one), and Adam's.</summary>
        public IEnumerable<string> Profile()
        {
            IReadOnlyList<Module> layers = _model.Layers;
            IReadOnlyList<Sequential.Stage> stages = _model.Stages;
            var outputs = stages.Select(s => new float[Batch * layers[s.Last].OutputFeatures]).ToArray();
            var grads = stages.Select(s => new float[Batch * layers[s.First].InputFeatures]).ToArray();
            var fwd = new double[stages.Count];
            var bwd = new double[stages.Count];
            double adam = 0, loss = 0;
            const int reps = 30;
            for (int rep = -5; rep < reps; rep++)
            {
                _model.ZeroGradients();
                ReadOnlySpan<float> x = _x;
                for (int i = 0; i < stages.Count; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    _model.ForwardStage(i, x, outputs[i], Batch, training: true);
                    fwd[i] += rep >= 0 ? Stopwatch.GetElapsedTime(t0).TotalMilliseconds : 0;
                    x = outputs[i];
                }

                long t1 = Stopwatch.GetTimestamp();
                _loss.Compute(outputs[^1], _y, 10, _gradient);
                loss += rep >= 0 ? Stopwatch.GetElapsedTime(t1).TotalMilliseconds : 0;
                ReadOnlySpan<float> g = _gradient;
                for (int i = stages.Count - 1; i >= 0; i--)
                {
                    ReadOnlySpan<float> input = i == 0 ? _x : outputs[i - 1];
                    Span<float> gi = i == 0 ? Span<float>.Empty : grads[i];
                    long t0 = Stopwatch.GetTimestamp();
                    _model.BackwardStage(i, input, outputs[i], g, gi, Batch);
                    bwd[i] += rep >= 0 ? Stopwatch.GetElapsedTime(t0).TotalMilliseconds : 0;
                    g = grads[i];
                }

                long t2 = Stopwatch.GetTimestamp();
                _optimizer.Step();
                adam += rep >= 0 ? Stopwatch.GetElapsedTime(t2).TotalMilliseconds : 0;
            }

            double total = fwd.Sum() + bwd.Sum() + adam + loss;
            yield return string.Create(CultureInfo.InvariantCulture, $"profile, one step of batch {Batch} (ms, mean of {reps}): total {total / reps:F2}");
            for (int i = 0; i < stages.Count; i++)
            {
                string kinds = string.Join('+', Enumerable.Range(stages[i].First, stages[i].Last - stages[i].First + 1).Select(l => layers[l].Spec.Kind));
                yield return string.Create(CultureInfo.InvariantCulture, $"  {stages[i].First,2} {kinds,-24} forward {fwd[i] / reps,7:F3}  backward {bwd[i] / reps,7:F3}");
            }

            yield return string.Create(CultureInfo.InvariantCulture, $"  loss {loss / reps:F3}  adam {adam / reps:F3}");
        }
    }
}
