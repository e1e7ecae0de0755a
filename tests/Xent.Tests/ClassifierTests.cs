using Xent.Data;
using Xent.Training;

namespace Xent.Tests;

/// <summary>Issue 11, part 1: a Predict API that carries the model's column pipeline.</summary>
[Collection(nameof(ParallelismCollection))]
public sealed class ClassifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-classifier-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Csv = "size,island,flag,label\n1.5,Biscoe,yes,small\n2.5,Dream,no,big\nNA,Dream,yes,big\n0.5,,no,small\n3.5,Biscoe,yes,big\n0.2,Torgersen,no,small\n2.9,Dream,yes,big\n1.1,Torgersen,,small\n3.3,Biscoe,no,big\n0.7,Dream,yes,small\n";

    private string TrainModel()
    {
        string data = Path.Combine(_dir, "train.csv");
        File.WriteAllText(data, Csv);
        string run = Path.Combine(_dir, "run");
        var (code, _, error) = Cli.Run("train", "--data", data, "--out", run, "--epochs", "30", "--early-stopping", "0", "--val-fraction", "0", "--test-fraction", "0");
        Assert.True(code == 0, error);
        return Path.Combine(run, "model.safetensors");
    }

    [Fact]
    public void Predictions_from_raw_rows_equal_the_pipelines_on_the_same_file()
    {
        string model = TrainModel();
        var classifier = Classifier.Load(model);
        Assert.Equal(["size", "island", "flag"], classifier.FeatureNames);
        (Xent.Nn.Sequential net, ModelInfo info) = ModelFile.Load(model);
        DataTable table = CsvTableReader.Read(Path.Combine(_dir, "train.csv"), new TableReadOptions { Schema = info.Preprocessor!.Schema, ClassNames = info.ClassNames });
        float[] expected = Evaluation.PredictProbabilities(net, info.Preprocessor.Transform(table).Data, false);

        string[] lines = Csv.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..];
        IReadOnlyDictionary<string, object?>[] rows = [.. lines.Select(l => l.Split(',')).Select(f => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>
        {
            ["size"] = f[0] == "NA" ? null : double.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture),
            ["island"] = f[1],
            ["flag"] = f[2].Length == 0 ? null : f[2] == "yes",
            ["ignored"] = 42,
        })];
        float[] got = classifier.PredictProbabilities(rows);
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - got[i]) < 1e-6, $"probability {i}: {got[i]} vs {expected[i]}");
        }

        Prediction one = classifier.Predict(rows[1]);
        Assert.Equal(classifier.ClassNames[one.ClassIndex], one.Class);
        Assert.Equal(got[2..4], one.Probabilities);

        // An unseen category encodes as zeros and still predicts.
        Assert.Equal(2, classifier.Predict(new Dictionary<string, object?> { ["size"] = "2.0", ["island"] = "Atlantis", ["flag"] = "NA" }).Probabilities.Count);
    }

    [Fact]
    public void Bad_rows_are_ArgumentExceptions_naming_the_feature()
    {
        string model = TrainModel();
        var classifier = Classifier.Load(model);
        var e = Assert.Throws<ArgumentException>(() => classifier.Predict(new Dictionary<string, object?> { ["size"] = 1.0, ["flag"] = true }));
        Assert.Contains("'island'", e.Message);
        e = Assert.Throws<ArgumentException>(() => classifier.Predict(new Dictionary<string, object?> { ["size"] = "big", ["island"] = "Dream", ["flag"] = true }));
        Assert.Contains("'size' is numeric", e.Message);
        Assert.Throws<ArgumentException>(() => classifier.PredictProbabilities(new float[3], 2, new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Classifier.Load(model, logitAdjustment: double.NaN));
    }

    [Fact]
    public void The_span_path_allocates_nothing_and_concurrent_callers_agree()
    {
        var classifier = Classifier.Load(TrainModel(), logitAdjustment: 1);
        float[] encoded = classifier.Encode([new Dictionary<string, object?> { ["size"] = 1.0, ["island"] = "Dream", ["flag"] = false }, new Dictionary<string, object?> { ["size"] = 3.0, ["island"] = "Biscoe", ["flag"] = true }]);
        var destination = new float[4];
        classifier.PredictProbabilities(encoded, 2, destination);
        long before = GC.GetAllocatedBytesForCurrentThread();
        classifier.PredictProbabilities(encoded, 2, destination);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        float[] reference = [.. destination];
        var results = new float[8][];
        Parallel.For(0, 8, t =>
        {
            var d = new float[4];
            for (int i = 0; i < 200; i++)
            {
                classifier.PredictProbabilities(encoded, 2, d);
            }

            results[t] = d;
        });
        Assert.All(results, r => Assert.Equal(reference, r));
    }

    [Fact]
    public void The_span_path_equals_the_models_forward_then_softmax_at_batches_1_64_and_1000()
    {
        var random = new Xent.Kernels.XentRandom(4);
        Xent.Nn.Sequential net = Xent.Nn.Mlp.Create(20, [48], 3, random);
        var info = new ModelInfo { ClassNames = ["a", "b", "c"], FeatureNames = [.. Enumerable.Range(0, 20).Select(i => $"f{i}")] };
        string path = Path.Combine(_dir, "mlp.safetensors");
        ModelFile.Save(path, net, info);
        var classifier = Classifier.Load(path);
        int saved = Xent.Kernels.Parallelism.MaxDegree;
        try
        {
            Xent.Kernels.Parallelism.MaxDegree = 2;
            foreach (int batch in new[] { 1, 64, 1000 })
            {
                float[] x = [.. Enumerable.Range(0, batch * 20).Select(_ => random.NextSingle(-2, 2))];
                var expected = new float[batch * 3];
                ReadOnlySpan<float> logits = net.Forward(x, batch, training: false);
                for (int i = 0; i < batch; i++)
                {
                    Evaluation.ToProbabilities(logits.Slice(i * 3, 3), expected.AsSpan(i * 3, 3), false, null, 1);
                }

                var got = new float[batch * 3];
                classifier.PredictProbabilities(x, batch, got);
                for (int i = 0; i < got.Length; i++)
                {
                    // Batches above four rows run the same GEMM order as the model (bit-identical); smaller ones differ
                    // from the model's dot products by rounding only.
                    Assert.True(batch > Xent.Nn.Linear.SmallBatch ? expected[i] == got[i] : Math.Abs(expected[i] - got[i]) < 1e-6, $"batch {batch}, value {i}: {got[i]} vs {expected[i]}");
                }

                classifier.PredictProbabilities(x, batch, got);
                long before = GC.GetAllocatedBytesForCurrentThread();
                classifier.PredictProbabilities(x, batch, got);
                Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            }
        }
        finally
        {
            Xent.Kernels.Parallelism.MaxDegree = saved;
        }
    }

    [Fact]
    public void The_readme_example_runs()
    {
        string modelPath = TrainModel();

        // --- README: "Use a trained model from C#" ---
        var classifier = Xent.Training.Classifier.Load(modelPath);
        Xent.Training.Prediction p = classifier.Predict(new Dictionary<string, object?>
        {
            ["size"] = 2.7,
            ["island"] = "Dream",
            ["flag"] = null, // missing: imputed as in training
        });
        string line = $"{p.Class} ({p.Probabilities[p.ClassIndex]:P1})";
        // --- end of the README example ---

        Assert.Equal("big", p.Class); // every training row with size above 2 is big
        Assert.StartsWith("big (", line);
    }

    [Fact]
    public void Predict_streams_a_file_in_chunks_with_rows_numbered_throughout()
    {
        string model = TrainModel();
        var sb = new System.Text.StringBuilder("id,size,island,flag\n");
        string[] islands = ["Biscoe", "Dream", "Torgersen", ""];
        int n = Xent.Cli.Commands.PredictCommand.ChunkRows * 2 + 17;
        for (int i = 0; i < n; i++)
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"r{i},{(i % 13 == 0 ? "NA" : (i % 40 / 10.0).ToString(System.Globalization.CultureInfo.InvariantCulture))},{islands[i % 4]},{(i % 2 == 0 ? "yes" : "no")}\n");
        }

        string data = Path.Combine(_dir, "many.csv");
        File.WriteAllText(data, sb.ToString());
        string output = Path.Combine(_dir, "predictions.csv");
        var (code, _, error) = Cli.Run("predict", "--model", model, "--data", data, "--id", "id", "--out", output);
        Assert.True(code == 0, error);
        string[] lines = File.ReadAllLines(output);
        Assert.Equal(n + 1, lines.Length);
        Assert.StartsWith($"r{n - 1},{n},", lines[^1]);

        var classifier = Classifier.Load(model);
        DataTable table = CsvTableReader.Read(data, new TableReadOptions { Label = null, Schema = classifier.Info.Preprocessor!.Schema, ClassNames = classifier.ClassNames });
        float[] expected = Evaluation.PredictProbabilities(ModelFile.Load(model).Model, classifier.Info.Preprocessor.Transform(table).Data, false);
        int row = Xent.Cli.Commands.PredictCommand.ChunkRows + 5;
        string[] fields = lines[row + 1].Split(',');
        Assert.Equal(expected[row * 2].ToString("G6", System.Globalization.CultureInfo.InvariantCulture), fields[3]);
    }
}
