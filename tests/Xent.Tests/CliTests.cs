using System.Text.Json;
using Xent.Cli;

namespace Xent.Tests;

/// <summary>The xent command line: outputs, messages and exit codes (0 success, 1 failed run, 2 bad usage or input).</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Cli.Run(args);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Loss_prints_loss_and_gradient_for_a_single_case()
    {
        string file = Write("one.json", """{"input": [[[-0.4514, 0.7823, 0.5210], [-0.0082, -0.3569, -0.2626]]], "target": [[0, 1, 1]], "weight": [1, 5], "dtype": "float64"}""");
        var (code, output, error) = Run("loss", file);
        Assert.Equal(0, code);
        Assert.Equal(string.Empty, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Equal(1.2566, doc.RootElement.GetProperty("loss").GetDouble(), 4);
        Assert.Equal(3, doc.RootElement.GetProperty("grad")[0][0].GetArrayLength());
    }

    [Fact]
    public void Loss_evaluates_a_list_with_errors_in_place_and_writes_non_finite_values_as_strings()
    {
        string file = Write("list.json", """
            {"cases": [
              {"input": [[1.0, 2.0], [0.5, 0.1]], "target": [-100, -100]},
              {"input": [[1.0, 2.0]], "target": [5]},
              {"loss": "nll", "input": [[-0.5, -1.0]], "target": [0], "reduction": "none"},
              {"loss": "bce_with_logits", "input": [0.5, -2.0], "target": [1.0, 0.0], "pos_weight": [3.0]},
              {"loss": "cross_entropy", "input": [[0.0, "-inf"]], "target": [1], "reduction": "sum"}
            ]}
            """);
        var (code, output, _) = Run("loss", file);
        Assert.Equal(0, code);
        JsonElement results = JsonDocument.Parse(output).RootElement.GetProperty("results");
        Assert.Equal(5, results.GetArrayLength());
        Assert.Equal("nan", results[0].GetProperty("loss").GetString());
        Assert.StartsWith("Target 5 is out of bounds.", results[1].GetProperty("error").GetString());
        Assert.Equal(0.5, results[2].GetProperty("loss")[0].GetDouble(), 6);
        Assert.True(results[3].GetProperty("loss").GetDouble() > 0);
        Assert.Equal("inf", results[4].GetProperty("loss").GetString());
    }

    [Fact]
    public void Loss_reproduces_a_shared_golden_case_through_the_command_line()
    {
        string golden = Path.Combine(AppContext.BaseDirectory, "Golden", GoldenCases.SharedFile);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(golden));
        JsonElement first = doc.RootElement.GetProperty("cases")[0];
        string file = Write("golden0.json", first.GetRawText());
        var (code, output, _) = Run("loss", file);
        Assert.Equal(0, code);
        double expected = first.GetProperty("loss").GetDouble();
        Assert.Equal(expected, JsonDocument.Parse(output).RootElement.GetProperty("loss").GetDouble(), 12);
    }

    [Fact]
    public void An_invalid_single_case_exits_2_with_one_line_on_stderr()
    {
        string file = Write("bad.json", """{"input": [[1.0, 2.0]], "target": [5]}""");
        var (code, output, error) = Run("loss", file);
        Assert.Equal(2, code);
        Assert.Equal(string.Empty, output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("Target 5 is out of bounds.", error);
        Assert.Contains("bad.json", error);
    }

    [Fact]
    public void Malformed_json_names_the_file_line_and_column()
    {
        string file = Write("broken.json", "{\n  \"input\": [[1.0, 2.0]],\n  \"target\": [0,]\n}");
        var (code, _, error) = Run("loss", file);
        Assert.Equal(2, code);
        Assert.Matches(@"broken\.json:3:\d+: malformed JSON", error);
    }

    [Theory]
    [InlineData("""{"input": [[1.0, 2.0], [3.0]], "target": [0, 1]}""", "ragged array")]
    [InlineData("""{"input": [[1.0, 2.0]]}""", "missing required field \"target\"")]
    [InlineData("""{"input": [[1.0, "x"]], "target": [0]}""", "expected a number, got the string \"x\"")]
    [InlineData("""{"input": [[1.0, 2.0]], "target": [0], "reduction": "avg"}""", "avg is not a valid value for reduction")]
    [InlineData("""{"loss": "hinge", "input": [[1.0, 2.0]], "target": [0]}""", "unknown loss \"hinge\"")]
    [InlineData("""[1, 2]""", "expected a case object")]
    public void Malformed_cases_exit_2_and_say_what_and_where(string json, string message)
    {
        string file = Write("case.json", json);
        var (code, _, error) = Run("loss", file);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.Contains("case.json", error);
    }

    [Fact]
    public void A_missing_file_and_an_unknown_option_exit_2()
    {
        Assert.Equal(2, Run("loss", Path.Combine(_dir, "nope.json")).Code);
        Assert.Equal(2, Run("loss", "--frobnicate").Code);
        Assert.Equal(2, Run("no-such-command").Code);
    }

    [Fact]
    public void Explain_shows_the_weighted_mean_as_a_fraction()
    {
        var (code, output, _) = Run("explain", "--logits", "[[[-0.4514, 0.7823, 0.5210], [-0.0082, -0.3569, -0.2626]]]", "--target", "[[0, 1, 1]]", "--weight", "1,5");
        Assert.Equal(0, code);
        Assert.Contains("mean = 13.8226 / 11 = 1.2566", output);
        Assert.Contains("0.7575", output); // softmax of position (0, 1)
        Assert.Contains("7.0844", output); // its −w[y]·log p[y] term
    }

    [Fact]
    public void Explain_tells_that_soft_cross_entropy_is_label_smoothing_one_half()
    {
        var (code, output, _) = Run("explain", "--logits", "[[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]]", "--target", "[2, 0]", "--loss", "soft_cross_entropy");
        Assert.Equal(0, code);
        Assert.Contains("2 × CE with label smoothing 0.5", output);
        var (_, smooth, _) = Run("explain", "--logits", "[[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]]", "--target", "[2, 0]", "--label-smoothing", "0.5");
        Assert.Contains("soft cross entropy", smooth);
    }

    [Fact]
    public void Explain_reports_the_double_softmax_diagnostic()
    {
        var (code, output, _) = Run("explain", "--logits", "[[0.2, 0.8], [0.6, 0.4]]", "--target", "[1, 0]");
        Assert.Equal(0, code);
        Assert.Contains("XENT0001", output);
    }

    [Fact]
    public void Explain_rejects_bad_inline_json_with_exit_2()
    {
        var (code, _, error) = Run("explain", "--logits", "[[1, 2]", "--target", "[0]");
        Assert.Equal(2, code);
        Assert.Contains("--logits: not valid JSON", error);
    }

    [Fact]
    public void Demo_runs_all_five_experiments_and_exits_0()
    {
        string dir = Path.Combine(_dir, "demo");
        var (code, output, _) = Run("demo", "--out", dir);
        Assert.Equal(0, code);
        foreach (string name in new[] { "conflicting-labels", "kdim-weights", "kdim-conv1d", "soft-vs-hard", "imbalance-weights" })
        {
            Assert.Contains(name, output);
        }

        Assert.Contains("XENT0001", output);
        Assert.Contains("Σ w[y]·ℓ ÷ Σ w[y]", output);
        Assert.Contains("(5 experiment(s) in", output);
        Assert.True(File.Exists(Path.Combine(dir, "report.html")));
        Assert.Equal(2, Run("demo", "--out", dir).Code); // not empty now, and no --force
    }
}

public class ExplainOtherLossesTests
{
    [Fact]
    public void Explain_shows_bce_terms_and_the_value_the_loss_gives()
    {
        var (code, output, _) = Cli.Run("explain", "--loss", "bce_with_logits", "--logits", "[[0.5, -1.0], [2.0, 0.3]]", "--target", "[[1, 0], [0, 1]]", "--pos-weight", "3,1");
        Assert.Equal(0, code);
        var r = Xent.Losses.BinaryCrossEntropyWithLogits.Compute<double>(
            new System.Numerics.Tensors.ReadOnlyTensorSpan<double>([0.5, -1.0, 2.0, 0.3], [2, 2]),
            new System.Numerics.Tensors.ReadOnlyTensorSpan<double>([1.0, 0, 0, 1], [2, 2]),
            new Xent.Losses.BinaryCrossEntropyOptions { PosWeight = System.Numerics.Tensors.Tensor.Create(new double[] { 3, 1 }, [2]) });
        Assert.Contains($"mean = 4.4168 / 4 elements = {r.Value.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}", output);
        Assert.Contains("1.4222", output); // −3·log σ(0.5)
    }

    [Fact]
    public void Explain_shows_nll_terms_and_warns_when_the_input_is_not_log_probabilities()
    {
        var (code, output, _) = Cli.Run("explain", "--loss", "nll", "--logits", "[[-0.5, -1.2, -2.3], [-0.1, -3.0, -2.5]]", "--target", "[0, 2]", "--weight", "1,2,3");
        Assert.Equal(0, code);
        Assert.Contains("mean = 8.0000 / 4 = 2.0000", output);
        Assert.Contains("NLL expects log-probabilities", output);
    }
}
