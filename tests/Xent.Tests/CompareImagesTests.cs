using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xent.Cli.Training;
using Xent.Data;
using Xent.Export;
using Xent.Kernels;
using Xent.Nn;
using Xent.Training;

namespace Xent.Tests;

/// <summary>
/// Issue 12 §4 "Soft vs hard": <c>xent compare</c> on images (IDX files, fashion-mnist) with a CNN, hard labels against
/// label smoothing, per-mini-batch training and validation curves; <c>--max-rows</c> for a quick subset. And a CNN
/// trained on Fashion-MNIST exported to ONNX gives Xent's probabilities in ONNX Runtime.
/// </summary>
[Collection(nameof(ParallelismCollection))]
public sealed class CompareImagesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-compare-images-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Writes 8×8 IDX images of a noisy diagonal (class 0) or anti-diagonal (class 1) and their labels; returns the images file.</summary>
    private string WriteIdx(string stem, int count, ulong seed)
    {
        var random = new XentRandom(seed);
        var pixels = new byte[count * 64];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = (byte)(i % 2);
            for (int p = 0; p < 64; p++)
            {
                bool on = labels[i] == 0 ? p / 8 == p % 8 : p / 8 == 7 - (p % 8);
                pixels[(i * 64) + p] = (byte)Math.Clamp((on ? 200 : 30) + (random.NextGaussian() * 40), 0, 255);
            }
        }

        string images = Path.Combine(_dir, stem + "-images-idx3-ubyte.gz");
        IdxReaderTests.Write(images, IdxReaderTests.Idx(8, [count, 8, 8], pixels), gzip: true);
        IdxReaderTests.Write(Path.Combine(_dir, stem + "-labels-idx1-ubyte.gz"), IdxReaderTests.Idx(8, [count], labels), gzip: true);
        return images;
    }

    private const string Common = "--model conv2d(4,3,padding=1),batchnorm,relu,maxpool(2),flatten,linear --epochs 2 --batch-size 16 --validate-every 2 --early-stopping 0";

    [Fact]
    public void Compare_takes_idx_images_and_a_cnn_and_charts_training_and_validation_per_mini_batch()
    {
        string train = WriteIdx("train", 200, 1), test = WriteIdx("t10k", 60, 2);
        string output = Path.Combine(_dir, "out");
        var (code, stdout, stderr) = Cli.Run("compare", "--data", train, "--test-data", test, "--max-rows", "120", "--max-test-rows", "40",
            "--common", Common, "--run", "hard=", "--run", "smooth=--label-smoothing 0.1", "--repeats", "1", "--out", output, "-q");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("1. hard", stdout, StringComparison.Ordinal);
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal(["hard", "smooth"], summary.RootElement.EnumerateArray().Select(r => r.GetProperty("run").GetString()).Order());
        string html = File.ReadAllText(Path.Combine(output, "report.html"));
        Assert.Contains("120 rows", html, StringComparison.Ordinal); // the first 120 of the 200 images
        Assert.Contains("Loss per mini-batch", html, StringComparison.Ordinal);
        Assert.Contains("Accuracy per mini-batch", html, StringComparison.Ordinal);
        Assert.Contains("smooth validation", html, StringComparison.Ordinal); // validation every 2 steps, dashed
    }

    [Theory]
    [InlineData("", "--max-test-rows 10", "--max-test-rows cuts --test-data; give --test-data too.")]
    [InlineData("", "--max-rows 0", "--max-rows must be at least 1, got 0.")]
    [InlineData("--input-shape 2x4x8", "", "Run 'hard': --input-shape 2x4x8 does not match the images of --data, which are 1x8x8.")]
    public void Bad_image_compare_options_exit_2_naming_the_problem(string runOptions, string extra, string message)
    {
        string train = WriteIdx("bad", 40, 3);
        string[] rest = extra.Length == 0 ? [] : extra.Split(' ');
        var (code, stdout, stderr) = Cli.Run(["compare", "--data", train, "--common", Common, "--run", "hard=" + runOptions, "--repeats", "1", "--out", Path.Combine(_dir, "bad-out"), .. rest]);
        Assert.Equal(2, code);
        Assert.Contains(message, stdout + stderr, StringComparison.Ordinal);
    }

    [FashionMnistFact]
    public void A_cnn_trained_on_fashion_mnist_runs_in_onnx_runtime_with_xents_probabilities()
    {
        DataTable train = ImageData.Read("fashion-mnist", "--data", test: false, out int[] shape, out _).Head(600);
        DataTable test = ImageData.Read("fashion-mnist", "--test-data", test: true, out _, out _).Head(200);
        var options = ImageData.Configure(new PipelineOptions
        {
            Model = ModelDescription.Parse("conv2d(8,3),batchnorm,relu,maxpool(2),conv2d(16,3),relu,avgpool(2),flatten,linear(32),relu,linear"),
            LearningRate = 0.005,
            Trainer = new TrainerOptions { Epochs = 2, BatchSize = 50, Seed = 1 },
        }, shape, string.Empty);
        PipelineResult result = TrainingPipeline.Run(train, options, test: test);
        string model = Path.Combine(_dir, "fashion.safetensors");
        ModelFile.Save(model, result.Model, result.Info);
        var classifier = Classifier.Load(model);
        float[] pixels = [.. Enumerable.Range(0, test.Count).SelectMany(r => test.Columns.Select(c => ((INumericColumn)c).ValueAt(r)))];
        var expected = new float[test.Count * 10];
        classifier.PredictProbabilities(pixels, test.Count, expected);

        string onnx = Path.Combine(_dir, "fashion.onnx");
        OnnxExport.Write(onnx, result.Model, result.Info, new OnnxExportOptions { SingleInput = true });
        using var session = new InferenceSession(onnx);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(pixels, [test.Count, 784]))]);
        float[] got = results.Single().AsTensor<float>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-5, $"image {i / 10}, class {i % 10}: ONNX Runtime {got[i]}, Xent {expected[i]}");
        }

        Assert.True(result.Evaluation.Metrics.Accuracy > 0.4, $"test accuracy {result.Evaluation.Metrics.Accuracy} after two epochs on 600 images (chance is 0.1)");
    }
}
