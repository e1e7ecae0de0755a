using System.Globalization;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xent.Export;
using Xent.Kernels;
using Xent.Nn;
using Xent.Training;

namespace Xent.Tests;

/// <summary>
/// Issue 11 part 2 and issue 12's "Done means": convolutional models (Conv1d/Conv2d, max and average pooling, global
/// average pooling, BatchNorm in eval mode, flatten, the reshape of the flat row) exported to ONNX give, in ONNX Runtime,
/// Xent's probabilities to 1e-5 on every test row.
/// </summary>
[Collection(nameof(ParallelismCollection))]
public sealed class OnnxCnnExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-onnx-cnn-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>8×8 images (64 columns p0…p63) of a noisy diagonal ("diag") or anti-diagonal ("anti").</summary>
    private string WriteCsv(string name, int count, ulong seed)
    {
        var random = new XentRandom(seed);
        var sb = new StringBuilder(string.Join(",", Enumerable.Range(0, 64).Select(i => $"p{i}")) + ",label\n");
        for (int i = 0; i < count; i++)
        {
            int label = i % 2;
            for (int p = 0; p < 64; p++)
            {
                int y = p / 8, x = p % 8;
                bool on = label == 0 ? x == y : x == 7 - y;
                sb.Append(Math.Clamp((on ? 0.8 : 0.1) + (random.NextGaussian() * 0.15), 0, 1).ToString("F3", CultureInfo.InvariantCulture)).Append(',');
            }

            sb.Append(label == 0 ? "diag" : "anti").Append('\n');
        }

        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    public static IEnumerable<object[]> Models() =>
    [
        // conv-bn-relu-pool-flatten-linear.
        ["1x8x8", "conv2d(4,3,padding=1),batchnorm,relu,maxpool(2),flatten,linear"],
        // Stride, no bias, average pooling with padding (counted), dilation, global average pooling, BatchNorm1d on features, dropout.
        ["1x8x8", "conv2d(4,3,stride=2,padding=1,bias=false),relu,avgpool(3,stride=1,padding=1),conv2d(6,2,dilation=2),gap,batchnorm,linear(8),relu,dropout(0.2),linear"],
        // Conv1d over 4 channels × 16 positions: BatchNorm1d over (C, L), max pooling with padding, stride and dilation, average pooling.
        ["4x16", "conv1d(8,3,padding=1),batchnorm,relu,maxpool(2,padding=1),conv1d(4,3,stride=2,dilation=2),relu,avgpool(2),flatten,linear"],
        ["4x16", "conv1d(6,5),batchnorm,relu,gap,linear"],
    ];

    [Theory]
    [MemberData(nameof(Models))]
    public void Onnx_Runtime_gives_the_probabilities_of_a_trained_convolutional_model_on_every_test_row(string shape, string description)
    {
        string train = WriteCsv("train.csv", 96, 1), test = WriteCsv("test.csv", 30, 2);
        string run = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = Cli.Run("train", "--data", train, "--out", run, "--model", description, "--input-shape", shape,
            "--epochs", "3", "--batch-size", "16", "--lr", "0.01", "--early-stopping", "0", "--val-fraction", "0", "--test-fraction", "0", "--force");
        Assert.True(code == 0, stdout + stderr);
        string model = Path.Combine(run, "model.safetensors");
        (Sequential network, _) = ModelFile.Load(model);
        Assert.Contains(network.Buffers, b => b.Name.EndsWith("running_var", StringComparison.Ordinal) && b.Value.Any(v => v != 1)); // trained statistics, not the initial ones

        string[] lines = File.ReadAllLines(test)[1..];
        float[] rows = [.. lines.SelectMany(l => l.Split(',')[..64].Select(v => float.Parse(v, CultureInfo.InvariantCulture)))];
        var classifier = Classifier.Load(model);
        var expected = new float[lines.Length * 2];
        IReadOnlyDictionary<string, object?>[] raw = [.. lines.Select(l => (IReadOnlyDictionary<string, object?>)l.Split(',')[..64].Select((v, i) => (v, i)).ToDictionary(p => $"p{p.i}", p => (object?)p.v))];
        classifier.PredictProbabilities(raw).CopyTo(expected, 0);

        // One float input (N, 64), and one input per column (the default).
        foreach (bool single in new[] { true, false })
        {
            string onnx = Path.Combine(_dir, single ? "single.onnx" : "columns.onnx");
            var (exportCode, _, exportError) = Cli.Run(["export", "--model", model, "--onnx", onnx, "--force", .. single ? new[] { "--single-input" } : []]);
            Assert.True(exportCode == 0, exportError);
            // 64 input names are summed up, not listed one by one.
            Assert.Contains("p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, …, p63 (64 in all)", exportError);
            Assert.DoesNotContain("p10", exportError);
            using var session = new InferenceSession(onnx);
            List<NamedOnnxValue> inputs = single
                ? [NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(rows, [lines.Length, 64]))]
                : [.. Enumerable.Range(0, 64).Select(j => NamedOnnxValue.CreateFromTensor($"p{j}", new DenseTensor<float>(Enumerable.Range(0, lines.Length).Select(r => rows[(r * 64) + j]).ToArray(), [lines.Length, 1])))];
            using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(inputs);
            float[] got = results.Single(r => r.Name == "probabilities").AsTensor<float>().ToArray();
            Assert.Equal(expected.Length, got.Length);
            for (int i = 0; i < got.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-5, $"{description} ({(single ? "single input" : "per column")}): row {i / 2}, class {i % 2}: ONNX Runtime {got[i]}, Xent {expected[i]}");
            }
        }
    }

    [Fact]
    public void A_layer_without_an_onnx_form_is_an_error_naming_it()
    {
        var model = new Sequential(new SegmentHead(4, new Sequential(new Linear(3, 2, new XentRandom(1)))));
        var info = new ModelInfo { ClassNames = ["a", "b"], FeatureNames = [.. Enumerable.Range(0, 12).Select(i => $"f{i}")] };
        var e = Assert.Throws<NotSupportedException>(() => OnnxExport.Build(model, info));
        Assert.Contains("segment_head", e.Message, StringComparison.Ordinal);
    }
}
