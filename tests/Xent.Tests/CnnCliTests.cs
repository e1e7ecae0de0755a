using System.Globalization;
using System.Text;
using System.Text.Json;
using Xent.Kernels;
using Xent.Training;

namespace Xent.Tests;

/// <summary>xent train --model on a tiny synthetic image set (CSV with --input-shape, and IDX files), then evaluate and predict with the model; usage errors exit 2.</summary>
[Collection(nameof(ParallelismCollection))]
public sealed class CnnCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-cli-cnn-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>8×8 images of a noisy diagonal ("diag") or anti-diagonal ("anti").</summary>
    private static (byte[] Pixels, int[] Labels) Images(int count, ulong seed)
    {
        var random = new XentRandom(seed);
        var pixels = new byte[count * 64];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = i % 2;
            for (int y = 0; y < 8; y++)
            {
                for (int x = 0; x < 8; x++)
                {
                    bool on = labels[i] == 0 ? x == y : x == 7 - y;
                    pixels[(i * 64) + (y * 8) + x] = (byte)Math.Clamp((on ? 200 : 30) + (random.NextGaussian() * 40), 0, 255);
                }
            }
        }

        return (pixels, labels);
    }

    private string WriteCsv(string name, int count, ulong seed)
    {
        (byte[] pixels, int[] labels) = Images(count, seed);
        var sb = new StringBuilder(string.Join(",", Enumerable.Range(0, 64).Select(i => $"p{i}")) + ",label\n");
        for (int i = 0; i < count; i++)
        {
            sb.Append(string.Join(",", pixels.Skip(i * 64).Take(64).Select(p => (p / 255.0).ToString("F3", CultureInfo.InvariantCulture)))).Append(',').Append(labels[i] == 0 ? "diag" : "anti").Append('\n');
        }

        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private const string Cnn = "conv2d(4,3,padding=1),batchnorm,relu,maxpool(2),conv2d(8,3),relu,flatten,linear(16),relu,linear";

    [Fact]
    public void A_tiny_cnn_trains_on_csv_images_then_evaluates_and_predicts()
    {
        string train = WriteCsv("train.csv", 160, 1);
        string test = WriteCsv("test.csv", 40, 2);
        string output = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = Cli.Run("train", "--data", train, "--test-data", test, "--out", output, "--model", Cnn, "--input-shape", "1x8x8", "--epochs", "2", "--batch-size", "16", "--lr", "0.01");
        Assert.True(code == 0, stdout + stderr);
        using (JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "config.json"))))
        {
            Assert.Equal(Cnn, config.RootElement.GetProperty("model").GetString());
            Assert.Equal([1, 8, 8], config.RootElement.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt32()));
        }

        (Xent.Nn.Sequential model, _) = ModelFile.Load(Path.Combine(output, "model.safetensors"));
        Assert.Equal(["conv2d", "batchnorm2d", "relu", "maxpool2d", "conv2d", "relu", "flatten", "linear", "relu", "linear"], model.Layers.Select(l => l.Spec.Kind));
        Assert.True(model.Buffers.Single(b => b.Name == "1.num_batches_tracked").Value[0] > 0);
        using (JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json"))))
        {
            Assert.True(metrics.RootElement.GetProperty("accuracy").GetDouble() >= 0.9, "the diagonals are easy to tell apart");
        }

        var (evalCode, evalOut, evalErr) = Cli.Run("evaluate", "--model", Path.Combine(output, "model.safetensors"), "--data", test);
        Assert.True(evalCode == 0, evalOut + evalErr);
        Assert.Contains("accuracy", evalOut, StringComparison.Ordinal);
        var (predictCode, predictOut, predictErr) = Cli.Run("predict", "--model", Path.Combine(output, "model.safetensors"), "--data", test);
        Assert.True(predictCode == 0, predictOut + predictErr);
        string[] lines = predictOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("row,predicted,p_anti,p_diag", lines[0]);
        Assert.Equal(41, lines.Length);
    }

    [Fact]
    public void A_tiny_cnn_trains_on_idx_files()
    {
        (byte[] pixels, int[] labels) = Images(120, 3);
        string images = Path.Combine(_dir, "tiny-images-idx3-ubyte.gz");
        IdxReaderTests.Write(images, IdxReaderTests.Idx(8, [120, 8, 8], pixels), gzip: true);
        IdxReaderTests.Write(Path.Combine(_dir, "tiny-labels-idx1-ubyte.gz"), IdxReaderTests.Idx(8, [120], [.. labels.Select(l => (byte)l)]), gzip: true);
        string output = Path.Combine(_dir, "idx");
        var (code, stdout, stderr) = Cli.Run("train", "--data", images, "--out", output, "--model", "conv2d(4,3),relu,gap,linear", "--epochs", "1", "--batch-size", "16");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("120 rows, 64 feature columns", stdout, StringComparison.Ordinal);
        var (bad, badOut, badErr) = Cli.Run("train", "--data", images, "--out", output + "2", "--model", "conv2d(4,3),relu,gap,linear", "--input-shape", "2x4x8", "--epochs", "1");
        Assert.Equal(2, bad);
        Assert.Contains("--input-shape 2x4x8 does not match the images of --data, which are 1x8x8", badOut + badErr, StringComparison.Ordinal);

        // evaluate and predict read the same IDX files.
        string model = Path.Combine(output, "model.safetensors");
        var (evalCode, evalOut, evalErr) = Cli.Run("evaluate", "--model", model, "--data", images);
        Assert.True(evalCode == 0, evalOut + evalErr);
        Assert.Contains("120 rows", evalOut, StringComparison.Ordinal);
        Assert.Contains("same inputs as rows the model was trained on", evalOut, StringComparison.Ordinal);
        var (predictCode, predictOut, predictErr) = Cli.Run("predict", "--model", model, "--data", images);
        Assert.True(predictCode == 0, predictOut + predictErr);
        string[] lines = predictOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(121, lines.Length);
        Assert.StartsWith("row,predicted,", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("120,", lines[^1], StringComparison.Ordinal);
        var (idCode, idOut, idErr) = Cli.Run("predict", "--model", model, "--data", images, "--id", "name");
        Assert.Equal(2, idCode);
        Assert.Contains("--id name: image data has no columns", idOut + idErr, StringComparison.Ordinal);

        // --max-rows keeps the first rows of --data.
        var (headCode, headOut, headErr) = Cli.Run("train", "--data", images, "--out", Path.Combine(_dir, "head"), "--max-rows", "60", "--hidden", "none", "--epochs", "1");
        Assert.True(headCode == 0, headOut + headErr);
        Assert.Contains("60 rows, 64 feature columns", headOut, StringComparison.Ordinal);
        Assert.Contains("\"max_rows\": 60", File.ReadAllText(Path.Combine(_dir, "head", "config.json")), StringComparison.Ordinal);

        // IDX is recognised by its magic number whatever the file's name; predict needs no labels file.
        string unlabelled = Path.Combine(_dir, "to-predict.bin");
        File.Copy(images, unlabelled);
        var (plainCode, plainOut, plainErr) = Cli.Run("predict", "--model", model, "--data", unlabelled);
        Assert.True(plainCode == 0, plainOut + plainErr);
        Assert.Equal(121, plainOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var (noLabels, noLabelsOut, noLabelsErr) = Cli.Run("evaluate", "--model", model, "--data", unlabelled);
        Assert.Equal(2, noLabels);
        Assert.Contains("its labels file", noLabelsOut + noLabelsErr, StringComparison.Ordinal);
        var (labelsAsData, labelsOut, labelsErr) = Cli.Run("evaluate", "--model", model, "--data", Path.Combine(_dir, "tiny-labels-idx1-ubyte.gz"));
        Assert.Equal(2, labelsAsData);
        Assert.Contains("an IDX labels file", labelsOut + labelsErr, StringComparison.Ordinal);

        // A CSV of the same images works with pixels scaled to [0, 1]; raw 0-255 pixels are refused, by column and row.
        string Csv(string name, Func<byte, string> pixel)
        {
            string path = Path.Combine(_dir, name);
            var text = new System.Text.StringBuilder(string.Join(",", Enumerable.Range(0, 64).Select(j => "pixel" + j)) + ",label\n");
            for (int i = 0; i < 10; i++)
            {
                text.Append(string.Join(",", pixels.Skip(i * 64).Take(64).Select(pixel))).Append(',').Append(labels[i]).Append('\n');
            }

            File.WriteAllText(path, text.ToString());
            return path;
        }

        string scaled = Csv("scaled.csv", b => (b / 255f).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        var (scaledCode, scaledOut, scaledErr) = Cli.Run("evaluate", "--model", model, "--data", scaled);
        Assert.True(scaledCode == 0, scaledOut + scaledErr);
        Assert.Contains("10 rows", scaledOut, StringComparison.Ordinal);
        string raw = Csv("raw.csv", b => b.ToString(System.Globalization.CultureInfo.InvariantCulture));
        int firstBig = Array.FindIndex(pixels, b => b > 1);
        string expected = $"--data raw.csv: column 'pixel{firstBig % 64}' holds {pixels[firstBig]} at data row {(firstBig / 64) + 1}, outside [0, 1]";
        foreach (string verb in new[] { "evaluate", "predict" })
        {
            var (rawCode, rawOut, rawErr) = Cli.Run(verb, "--model", model, "--data", raw);
            Assert.True(rawCode == 2, verb + ": " + rawOut + rawErr);
            Assert.Contains(expected, rawErr, StringComparison.Ordinal);
            Assert.Contains("divide raw 0–255 pixels by 255", rawErr, StringComparison.Ordinal);
            Assert.Equal(string.Empty, rawOut); // predict writes no header for input it refuses in its first chunk
        }

        // A model of another width is refused by name.
        string csv = Path.Combine(_dir, "narrow.csv");
        File.WriteAllText(csv, "a,b,label\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i % 5},{i % 3},{i % 2}\n")));
        var (narrowCode, narrowOut, narrowErr) = Cli.Run("train", "--data", csv, "--out", Path.Combine(_dir, "narrow"), "--epochs", "1");
        Assert.True(narrowCode == 0, narrowOut + narrowErr);
        var (wideCode, wideOut, wideErr) = Cli.Run("evaluate", "--model", Path.Combine(_dir, "narrow", "model.safetensors"), "--data", images);
        Assert.Equal(2, wideCode);
        Assert.Contains("the images have 1x8x8 = 64 pixels, but the model reads rows of 2 features", wideOut + wideErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Predictions_run_BatchNorm_in_evaluation_mode_even_for_one_row()
    {
        string train = WriteCsv("bn.csv", 80, 6);
        string output = Path.Combine(_dir, "bn");
        var (code, stdout, stderr) = Cli.Run("train", "--data", train, "--out", output, "--model", "linear(8),batchnorm,relu,linear", "--epochs", "2", "--batch-size", "16", "--drop-last");
        Assert.True(code == 0, stdout + stderr);
        string one = Path.Combine(_dir, "one.csv");
        File.WriteAllLines(one, File.ReadLines(train).Take(2));
        var (predictCode, predictOut, predictErr) = Cli.Run("predict", "--model", Path.Combine(output, "model.safetensors"), "--data", one);
        Assert.True(predictCode == 0, predictOut + predictErr);
        Assert.Equal(2, predictOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var classifier = Classifier.Load(Path.Combine(output, "model.safetensors"));
        var probabilities = new float[2];
        float[] row = [.. Enumerable.Range(0, 64).Select(i => i % 9 == 0 ? 1f : 0f)];
        classifier.PredictProbabilities(row, 1, probabilities);
        Assert.Equal(1f, probabilities.Sum(), 5);
    }

    [Theory]
    [InlineData("--hidden 32", "--model and --hidden both describe the network")]
    [InlineData("--input-shape 1x8x9", "The input shape (--input-shape) [1, 8, 9] holds 72 values, but each row has 64 features")]
    [InlineData("--input-shape 64 --dropout 0.5", "--head and --dropout shape the MLP of --hidden")]
    public void Usage_errors_exit_2_with_a_message(string extra, string message)
    {
        string train = WriteCsv("u.csv", 40, 4);
        string[] args = ["train", "--data", train, "--out", Path.Combine(_dir, "u"), "--model", "linear", "--epochs", "1", .. extra.Split(' ')];
        var (code, stdout, stderr) = Cli.Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shape_mismatch_names_the_layer_and_both_shapes_and_exits_2()
    {
        string train = WriteCsv("s.csv", 40, 5);
        var (code, stdout, stderr) = Cli.Run("train", "--data", train, "--out", Path.Combine(_dir, "s"), "--model", "conv2d(4,3),relu,linear", "--input-shape", "1x8x8", "--epochs", "1");
        Assert.Equal(2, code);
        Assert.Contains("--model: layer 3 (linear): needs a flat input [features] but gets [4, 6, 6]", stdout + stderr, StringComparison.Ordinal);
        (code, stdout, stderr) = Cli.Run("train", "--data", train, "--out", Path.Combine(_dir, "s2"), "--model", "conv2d(4,3),flatten,linear", "--epochs", "1");
        Assert.Equal(2, code);
        Assert.Contains("layer 1 (conv2d(4,3)): needs an input of shape [C, H, W] but gets [64]", stdout + stderr, StringComparison.Ordinal);
    }
}
