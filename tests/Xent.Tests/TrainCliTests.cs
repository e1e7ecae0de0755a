using Xent.Kernels;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Xent.Cli;
using Xent.Nn;
using Xent.Training;

namespace Xent.Tests;

[Collection(nameof(ParallelismCollection))]
public sealed class TrainCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-cli-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Cli.Run(args);

    /// <summary>Two overlapping Gaussian classes, 1000 "cat" and 100 "dog", 10 features.</summary>
    internal static string WriteImbalanced(string path, int majority = 1000, int minority = 100, ulong seed = 11)
    {
        var random = new XentRandom(seed);
        var sb = new StringBuilder(string.Join(",", Enumerable.Range(0, 10).Select(i => $"f{i}")) + ",label\n");
        for (int i = 0; i < majority + minority; i++)
        {
            bool dog = i >= majority;
            for (int j = 0; j < 10; j++)
            {
                double shift = dog && j < 3 ? 1.0 : 0.0;
                sb.Append((random.NextGaussian() + shift).ToString("F4", CultureInfo.InvariantCulture)).Append(',');
            }

            sb.Append(dog ? "dog" : "cat").Append('\n');
        }

        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private static double MinorityRecall(string dir)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")));
        return doc.RootElement.GetProperty("per_class").EnumerateArray().Single(c => c.GetProperty("class").GetString() == "dog").GetProperty("recall").GetDouble();
    }

    [Fact]
    public void Balanced_class_weights_raise_minority_recall_on_a_1000_to_100_set()
    {
        string data = WriteImbalanced(Path.Combine(_dir, "cats-dogs.csv"));
        string none = Path.Combine(_dir, "none"), balanced = Path.Combine(_dir, "balanced");
        string[] common = ["--data", data, "--hidden", "16", "--optimizer", "sgd", "--lr", "0.1", "--batch-size", "32", "--epochs", "20", "--seed", "3"];
        var (c1, _, _) = Run(["train", .. common, "--out", none]);
        var (c2, report, _) = Run(["train", .. common, "--class-weights", "balanced", "--out", balanced]);
        Assert.Equal(0, c1);
        Assert.Equal(0, c2);
        double recallNone = MinorityRecall(none), recallBalanced = MinorityRecall(balanced);
        Assert.True(recallBalanced > recallNone + 0.1, $"minority recall: none {recallNone:F3}, balanced {recallBalanced:F3}");
        Assert.Contains("Class weights: cat 0.55", report);
        Assert.Contains("dog", report);
    }

    [Fact]
    public void Digits_reaches_95_percent_test_accuracy()
    {
        string dir = Path.Combine(_dir, "digits");
        var (code, _, _) = Run("train", "--data", DataTests.RepoFile("data", "digits.csv"), "--out", dir, "--seed", "1");
        Assert.Equal(0, code);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")));
        Assert.Equal("test", doc.RootElement.GetProperty("split").GetString());
        Assert.Equal(359, doc.RootElement.GetProperty("rows").GetInt32()); // a stratified 20%
        Assert.True(doc.RootElement.GetProperty("accuracy").GetDouble() >= 0.95);
        foreach (string f in new[] { "model.safetensors", "history.csv", "epochs.csv", "config.json", "report.txt", "report.html", "checkpoint.safetensors" })
        {
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        }

        // Nothing of the run's machinery is left behind: no lock, no staging folder, no temporary file.
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(dir, ".xent*"), e => !e.EndsWith(".xent-files", StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateFiles(dir, "*.tmp-*"));
    }

    [Fact]
    public void Breast_cancer_reaches_95_percent_test_accuracy()
    {
        string dir = Path.Combine(_dir, "bc");
        Assert.Equal(0, Run("train", "--data", DataTests.RepoFile("data", "breast_cancer.csv"), "--out", dir, "--seed", "1").Code);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")));
        Assert.True(doc.RootElement.GetProperty("accuracy").GetDouble() >= 0.95);
    }

    [Fact]
    public void Bad_options_exit_2_and_name_the_option()
    {
        string data = DataTests.RepoFile("data", "iris.csv");
        Assert.Contains("--hidden", Run("train", "--data", data, "--out", Path.Combine(_dir, "a"), "--hidden", "64,x").Err);
        Assert.Contains("--class-weights", Run("train", "--data", data, "--out", Path.Combine(_dir, "b"), "--class-weights", "2,oops").Err.Replace("Class weights '2,oops'", "--class-weights"));
        Assert.Contains("--label-smoothing", Run("train", "--data", data, "--out", Path.Combine(_dir, "c"), "--label-smoothing", "1.5").Err);
        Assert.Contains("no label column named 'species'", Run("train", "--data", data, "--out", Path.Combine(_dir, "d"), "--label", "species").Err);
        File.WriteAllText(Path.Combine(_dir, "frame.csv"), "alcohol,ash,target\n1,2,a\n3,4,b\n5,6,a\n7,8,b\n");
        Assert.Contains("'target' looks like the label: --label target.", Run("train", "--data", Path.Combine(_dir, "frame.csv"), "--out", Path.Combine(_dir, "f")).Err);
        Assert.Equal(2, Run("train", "--data", data, "--out", Path.Combine(_dir, "e"), "--epochs", "0").Code);
        Assert.Equal(2, Run("train", "--out", Path.Combine(_dir, "f")).Code);

        // Misspelt options and commands get the nearest name, and the hint names the command's own help.
        var (typo, _, typoError) = Run("train", "--data", data, "--out", Path.Combine(_dir, "g"), "--epoch", "3");
        Assert.Equal(2, typo);
        Assert.Contains("Unrecognized command or argument '--epoch'; did you mean '--epochs'?", typoError);
        Assert.Contains("Run 'xent train --help' for its options.", typoError);
        Assert.DoesNotContain("'3'", typoError); // the misspelt option's value gets no error line of its own
        Assert.Contains("--epochs takes one value, but it was given 2 (is it on the command line twice?)", Run("train", "--data", data, "--out", Path.Combine(_dir, "twice"), "--epochs", "2", "--epochs", "3").Err);
        Assert.Contains("argument 'extra'", Run("train", "--data", data, "--out", Path.Combine(_dir, "g2"), "--epoch", "3", "extra").Err);
        Assert.Equal(0, Run("train", "--data", data, "--out", Path.Combine(_dir, "lr"), "--epochs", "1", "--learning-rate", "0.05").Code);
        Assert.Contains("did you mean '--optimizer'?", Run("train", "--data", data, "--out", Path.Combine(_dir, "h"), "--optimiser", "sgd").Err);
        Assert.Contains("'trian'; did you mean 'train'?", Run("trian", "--data", data).Err);
        Assert.DoesNotContain("did you mean", Run("train", "--data", data, "--out", Path.Combine(_dir, "i"), "--zzzzzz").Err);
    }

    [Fact]
    public void Evaluate_and_predict_use_the_saved_model()
    {
        string dir = Path.Combine(_dir, "iris");
        string data = DataTests.RepoFile("data", "iris.csv");
        Assert.Equal(0, Run("train", "--data", data, "--out", dir, "--epochs", "40").Code);
        var (code, output, _) = Run("evaluate", "--model", Path.Combine(dir, "model.safetensors"), "--data", data);
        Assert.Equal(0, code);
        Assert.Contains("confusion matrix", output);
        string preds = Path.Combine(_dir, "preds.csv");
        Assert.Equal(0, Run("predict", "--model", Path.Combine(dir, "model.safetensors"), "--data", data, "--out", preds).Code);
        string[] lines = File.ReadAllLines(preds);
        Assert.Equal("row,predicted,p_setosa,p_versicolor,p_virginica", lines[0]);
        Assert.Equal(151, lines.Length);
        Assert.Equal(2, Run("predict", "--model", Path.Combine(dir, "model.safetensors"), "--data", data, "--out", preds).Code); // exists, no --force
    }

    [Fact]
    public void Outputs_under_a_file_or_a_missing_folder_are_refused_before_the_work_with_the_path_named()
    {
        string data = DataTests.RepoFile("data", "iris.csv");
        string file = Path.Combine(_dir, "plain.txt");
        File.WriteAllText(file, "not a folder");
        var (trainCode, _, trainError) = Run("train", "--data", data, "--out", Path.Combine(file, "run"), "--epochs", "2");
        Assert.Equal(2, trainCode);
        Assert.Contains($"--out {Path.Combine(file, "run")}: {file} is a file, not a folder.", trainError);
        var (demoCode, _, demoError) = Run("demo", "conflicting-labels", "--out", Path.Combine(file, "a", "b"));
        Assert.Equal(2, demoCode);
        Assert.Contains($"{file} is a file, not a folder.", demoError);

        string run = Path.Combine(_dir, "run");
        Assert.Equal(0, Run("train", "--data", data, "--out", run, "--epochs", "2").Code);
        string missing = Path.Combine(_dir, "no-such-folder", "m.onnx");
        var (exportCode, _, exportError) = Run("export", "--model", Path.Combine(run, "model.safetensors"), "--onnx", missing);
        Assert.Equal(2, exportCode);
        Assert.Contains($"--onnx {missing}: the folder {Path.GetDirectoryName(missing)} does not exist.", exportError);
        Assert.DoesNotContain(".tmp-", exportError);

        // The run's checkpoint, passed as the model by mistake, is named as such.
        var (checkpointCode, _, checkpointError) = Run("export", "--model", Path.Combine(run, "checkpoint.safetensors"), "--onnx", Path.Combine(_dir, "c.onnx"));
        Assert.Equal(2, checkpointCode);
        Assert.Contains("It looks like a training checkpoint", checkpointError);
        Assert.DoesNotContain("training checkpoint", Run("evaluate", "--model", Path.Combine(_dir, "no-model.safetensors"), "--data", data).Err);
        var (predictCode, _, predictError) = Run("predict", "--model", Path.Combine(run, "model.safetensors"), "--data", data, "--out", Path.Combine(file, "p.csv"));
        Assert.Equal(2, predictCode);
        Assert.Contains($"{file} is a file, not a folder.", predictError);
    }

    [Fact]
    public void A_corrupt_model_file_gives_a_clear_error()
    {
        string bad = Path.Combine(_dir, "bad.safetensors");
        File.WriteAllBytes(bad, [255, 255, 255, 255, 255, 255, 255, 127, 1, 2, 3]);
        var (code, _, error) = Run("evaluate", "--model", bad, "--data", DataTests.RepoFile("data", "iris.csv"));
        Assert.Equal(2, code);
        Assert.Contains("corrupt or truncated", error);
    }

    [Fact]
    public void Kill_9_at_a_random_step_then_resume_gives_bit_identical_weights()
    {
        string data = DataTests.RepoFile("data", "digits.csv");
        string[] options = ["--data", data, "--epochs", "6", "--batch-size", "32", "--seed", "5", "--dropout", "0.1", "--hidden", "64"];
        string reference = Path.Combine(_dir, "reference"), killed = Path.Combine(_dir, "killed");
        Assert.Equal(0, Run(["train", .. options, "--out", reference]).Code);

        string cli = Path.Combine(AppContext.BaseDirectory, "Xent.Cli.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", cli, "train", .. options, "--out", killed, "--checkpoint-every", "2"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string checkpoint = Path.Combine(killed, "checkpoint.safetensors");
        var stopwatch = Stopwatch.StartNew();
        while (!File.Exists(checkpoint) && stopwatch.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
        {
            Thread.Sleep(5);
        }

        int delay = new XentRandom((ulong)Environment.TickCount64).NextInt(150);
        Thread.Sleep(delay);
        Assert.False(process.HasExited, "training finished before it could be killed; make the run longer");
        process.Kill(entireProcessTree: true); // SIGKILL on Linux: no clean-up runs
        process.WaitForExit();
        Assert.False(File.Exists(Path.Combine(killed, "model.safetensors")));

        var (code, _, error) = Run(["train", .. options, "--out", killed, "--checkpoint-every", "2", "--resume"]);
        Assert.True(code == 0, error);
        (Sequential a, _) = ModelFile.Load(Path.Combine(reference, "model.safetensors"));
        (Sequential b, _) = ModelFile.Load(Path.Combine(killed, "model.safetensors"));
        for (int i = 0; i < a.Parameters.Count; i++)
        {
            Assert.True(a.Parameters[i].Value.AsSpan().SequenceEqual(b.Parameters[i].Value), $"{a.Parameters[i].Name} differs after kill -9 and resume (killed {delay} ms after the first checkpoint)");
        }

        Assert.Equal(File.ReadAllText(Path.Combine(reference, "history.csv")), File.ReadAllText(Path.Combine(killed, "history.csv")));
    }
}

public sealed class SafetensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_PyTorch_made_file_loads_and_reproduces_PyTorchs_logits()
    {
        (Sequential model, ModelInfo info) = ModelFile.Load(Path.Combine(AppContext.BaseDirectory, "Golden", "pytorch-mlp.safetensors"));
        Assert.Equal(["a", "b", "c"], info.ClassNames);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "pytorch-mlp-outputs.json")));
        float[] x = [.. doc.RootElement.GetProperty("inputs").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(e => e.GetSingle())];
        float[] expected = [.. doc.RootElement.GetProperty("logits").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(e => e.GetSingle())];
        float[] logits = model.Forward(x, 5, training: false).ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - logits[i]) <= 1e-5f, $"logit {i}: PyTorch {expected[i]}, Xent {logits[i]}");
        }
    }

    [Fact]
    public void Written_files_round_trip()
    {
        Sequential model = Mlp.Create(3, [5], 2, new XentRandom(4));
        string path = Path.Combine(_dir, "m.safetensors");
        ModelFile.Save(path, model, new ModelInfo { ClassNames = ["x", "y"], FeatureNames = ["a", "b", "c"] });
        (Sequential back, ModelInfo info) = ModelFile.Load(path);
        Assert.Equal(model.Parameters.SelectMany(p => p.Value), back.Parameters.SelectMany(p => p.Value));
        Assert.Equal(["a", "b", "c"], info.FeatureNames);
        Assert.False(Directory.EnumerateFiles(_dir, "*.tmp*").Any(), "no temporary file is left behind");
    }

    [Theory]
    [InlineData("short", "fewer than the 8-byte header length")]
    [InlineData("huge-header", "corrupt or truncated: the header claims")]
    [InlineData("bad-json", "corrupt header: not valid JSON")]
    [InlineData("truncated-data", "truncated file?")]
    [InlineData("overlap", "overlap")]
    [InlineData("not-xent", "not a Xent model")]
    [InlineData("csv", "it starts with text ('a,b,labe…')")]
    public void Corrupt_or_truncated_files_are_rejected_with_a_reason(string kind, string message)
    {
        string path = Path.Combine(_dir, kind + ".safetensors");
        byte[] Header(string json)
        {
            byte[] h = Encoding.UTF8.GetBytes(json);
            return [.. BitConverter.GetBytes((ulong)h.Length), .. h];
        }

        byte[] bytes = kind switch
        {
            "short" => [1, 2, 3],
            "huge-header" => [.. BitConverter.GetBytes(ulong.MaxValue / 2), 0, 0],
            "csv" => Encoding.UTF8.GetBytes("a,b,label\n1,2,x\n"),
            "bad-json" => Header("{not json"),
            "truncated-data" => [.. Header("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"""), 0, 0, 0, 0],
            "overlap" => [.. Header("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"""), .. new byte[12]],
            _ => [.. Header("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"""), 0, 0, 0, 0],
        };
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        Assert.Contains(message, e.Message);
        Assert.Contains(kind + ".safetensors", e.Message);
    }
}
