using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xent.Training;

namespace Xent.Tests;

/// <summary>Issue 11, part 2: the exported graph, run by ONNX Runtime, gives Xent's probabilities.</summary>
[Collection(nameof(ParallelismCollection))]
public sealed class OnnxExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Csv = "size,island,flag,label\n1.5,Biscoe,yes,small\n2.5,Dream,no,big\nNA,Dream,yes,big\n0.5,,no,small\n3.5,Biscoe,yes,big\n0.2,Torgersen,no,small\n2.9,Dream,yes,big\n1.1,Torgersen,,small\n3.3,Biscoe,no,big\n0.7,Dream,yes,small\n";

    private string Train(params string[] options)
    {
        string data = Path.Combine(_dir, "train.csv");
        File.WriteAllText(data, Csv);
        string run = Path.Combine(_dir, "run-" + string.Join("-", options).Replace(':', '_').Replace(',', '_').Replace('=', '_'));
        var (code, _, error) = Cli.Run(["train", "--data", data, "--out", run, "--epochs", "20", "--early-stopping", "0", "--val-fraction", "0", "--test-fraction", "0", .. options]);
        Assert.True(code == 0, error);
        return Path.Combine(run, "model.safetensors");
    }

    public static IEnumerable<object[]> Models() =>
    [
        [new string[0]],
        [new[] { "--hidden", "none" }],
        [new[] { "--hidden", "8,8", "--dropout", "0.2" }],
        [new[] { "--loss", "nll" }],
        [new[] { "--loss", "focal:gamma=2" }],
        [new[] { "--loss", "ldam", "--head", "cosine" }],
        [new[] { "--loss", "logit-adjusted:tau=1" }],
    ];

    [Theory]
    [MemberData(nameof(Models))]
    public void Onnx_Runtime_gives_Xents_probabilities_on_every_row_including_missing_and_unseen(string[] options)
    {
        string model = Train(options);
        string onnx = Path.Combine(_dir, "m.onnx");
        var (code, _, error) = Cli.Run("export", "--model", model, "--onnx", onnx, "--force");
        Assert.True(code == 0, error);

        (string? Size, string Island, string Flag)[] rows =
        [
            ("1.5", "Biscoe", "yes"), ("", "Dream", "no"), ("3.1", "", "true"), ("0.4", "Atlantis", "NA"), ("2.2", "Torgersen", "No"),
        ];
        var classifier = Classifier.Load(model);
        float[] expected = classifier.PredictProbabilities([.. rows.Select(r => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["size"] = r.Size, ["island"] = r.Island, ["flag"] = r.Flag })]);

        using var session = new InferenceSession(onnx);
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("size", new DenseTensor<float>(rows.Select(r => r.Size is { Length: > 0 } s ? float.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : float.NaN).ToArray(), [rows.Length, 1])),
            NamedOnnxValue.CreateFromTensor("island", new DenseTensor<string>(rows.Select(r => r.Island).ToArray(), [rows.Length, 1])),
            NamedOnnxValue.CreateFromTensor("flag", new DenseTensor<string>(rows.Select(r => r.Flag).ToArray(), [rows.Length, 1])),
        };
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(inputs);
        float[] got = results.Single(r => r.Name == "probabilities").AsTensor<float>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-5, $"{string.Join(' ', options)}: probability {i}: ONNX Runtime {got[i]}, Xent {expected[i]}");
        }

        Assert.Contains(session.ModelMetadata.CustomMetadataMap, kv => kv.Key == "xent.classes" && kv.Value.Contains("big"));
        Assert.Contains(session.ModelMetadata.CustomMetadataMap, kv => kv.Key == "xent.settings" && kv.Value.Contains("\"epochs\": 20"));
    }

    [Fact]
    public void A_numeric_model_exports_one_float_input_and_logits_on_request()
    {
        string model = Path.Combine(_dir, "iris");
        Assert.Equal(0, Cli.Run("train", "--data", DataTests.RepoFile("data", "iris.csv"), "--out", model, "--epochs", "5").Code);
        string onnx = Path.Combine(_dir, "iris.onnx");
        Assert.Equal(0, Cli.Run("export", "--model", Path.Combine(model, "model.safetensors"), "--onnx", onnx, "--single-input", "--logits").Code);
        using var session = new InferenceSession(onnx);
        Assert.Equal(["input"], session.InputMetadata.Keys);
        Assert.Equal(["logits"], session.OutputMetadata.Keys);
        float[] x = [5.1f, 3.5f, 1.4f, 0.2f];
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x, [1, 4]))]);
        Assert.Equal(3, results.Single().AsTensor<float>().Length);
        Assert.Equal(2, Cli.Run("export", "--model", Path.Combine(model, "model.safetensors"), "--onnx", onnx).Code); // exists
    }
}
