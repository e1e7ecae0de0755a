using System.Numerics.Tensors;
using System.Text.RegularExpressions;
using Xent.Cli.Demos;
using Xent.Kernels;
using Xent.Losses;
using Xent.Nn;
using Xent.Optim;

namespace Xent.Tests;

/// <summary>
/// Issue 12 §4 "Sequences": a Conv1d model over long sequences gives per-segment logits (N, 2, S) trained with class
/// weights; the weighted mean is Σ w[y]·ℓ ÷ Σ w[y]. The code of docs/images.md runs here at a small size.
/// </summary>
[Collection(nameof(ParallelismCollection))]
public sealed partial class SequenceConvTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-seq-conv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_docs_example_trains_per_segment_logits_with_class_weights_and_the_weighted_mean_checks_by_hand()
    {
        int n = 4, segments = 30;
        (float[] x, int[] y) = SequenceConvDemo.Make(n, segments, positives: 2, seed: 3);

        // --- docs/images.md: "Sequences" ---
        // x: n sequences of 2 channels × (segments · 20) samples, (N, C, L) row-major; y: (n, segments) labels 0 or 1.
        LayerSpec spec = ModelDescription.BuildPerPosition(
            ModelDescription.Parse("conv1d(8,5,padding=2),relu,conv1d(16,20,stride=20),relu,conv1d(16,3,padding=1),relu,conv1d(2,1)"),
            inputShape: [2, segments * 20], classes: 2);                   // each sequence gives (2, segments) logits
        var model = (Sequential)spec.Build(new XentRandom(7));
        var adam = new Adam(model.Parameters, new AdamOptions { LearningRate = 0.003 });
        double[] w = [1.0, 137.0 / 3];                                     // 3 positives to 137 negatives
        var options = new CrossEntropyOptions { Weight = w };
        var gradient = new float[n * 2 * segments];
        var losses = new float[n * segments];                              // w[y]·ℓ per segment, as PyTorch's reduction='none'
        LossResult loss = default;
        for (int step = 0; step < 40; step++)
        {
            model.ZeroGradients();
            ReadOnlySpan<float> logits = model.Forward(x, n, training: true);  // (n, 2, segments)
            loss = CrossEntropy.Compute(new ReadOnlyTensorSpan<float>(logits, [n, 2, segments]),
                new ReadOnlyTensorSpan<int>(y, [n, segments]), options, losses, gradient);
            model.Backward(gradient);
            adam.Step();
        }

        // Check the weighted mean by hand: Σ w[y]·ℓ ÷ Σ w[y] over the n·segments positions.
        double numerator = losses.Sum(v => (double)v), denominator = y.Sum(t => w[t]);
        Console.WriteLine($"loss {loss.Value:F6} = {numerator:F4} / {denominator:F4} = {numerator / denominator:F6}");
        // --- end of the docs example ---

        Assert.Equal(2 * segments, model.OutputFeatures);
        Assert.Equal(denominator, loss.TotalWeight, 1e-3);
        Assert.True(Math.Abs(loss.WeightedSum - numerator) <= 1e-5 * numerator, $"Σ w[y]·ℓ: {loss.WeightedSum} against {numerator} by hand");
        Assert.True(Math.Abs(loss.Value - (numerator / denominator)) <= 1e-6 * loss.Value, $"mean: {loss.Value} against {numerator / denominator} by hand");
        Assert.True(Math.Abs(loss.Value - (numerator / (n * segments))) > 0.1 * loss.Value || numerator == 0, "the weighted mean divides by Σ w[y], not by the positions");

        // The example in the docs is this code, line for line.
        string docs = File.ReadAllText(DataTests.RepoFile("docs", "images.md"));
        string block = docs[docs.IndexOf("```csharp", docs.IndexOf("## Sequences", StringComparison.Ordinal), StringComparison.Ordinal)..];
        block = block[9..block.IndexOf("```", 9, StringComparison.Ordinal)];
        string source = File.ReadAllText(DataTests.RepoFile("tests", "Xent.Tests", "SequenceConvTests.cs"));
        foreach (string line in block.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("using ", StringComparison.Ordinal) && !l.StartsWith("int n", StringComparison.Ordinal) && !l.StartsWith("(float[] x", StringComparison.Ordinal)))
        {
            Assert.Contains(line, source, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_per_position_description_must_end_with_the_class_count_in_channels()
    {
        var e = Assert.Throws<FormatException>(() => ModelDescription.BuildPerPosition(ModelDescription.Parse("conv1d(4,20,stride=20),relu,conv1d(3,1)"), [2, 200], classes: 2));
        Assert.Contains("[3, 10]", e.Message, StringComparison.Ordinal);
        Assert.Contains("conv1d(2,1)", e.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => ModelDescription.BuildPerPosition(ModelDescription.Parse("conv1d(4,20,stride=20),flatten,linear"), [2, 200], classes: 2));
        Assert.Equal(20, ModelDescription.BuildPerPosition(ModelDescription.Parse("conv1d(2,20,stride=20)"), [2, 200], classes: 2).Out);
    }

    [Fact]
    public void The_demo_at_full_size_gives_logits_16_by_2_by_140_and_class_weights_raise_positive_recall()
    {
        var (code, output, error) = Cli.Run("demo", SequenceConvDemo.Name, "--out", Path.Combine(_dir, "demo"));
        Assert.True(code == 0, error);
        string text = string.Join(' ', output.ReplaceLineEndings("\n").Split('\n').Select(l => l.Trim()));
        Assert.Contains("(N=16, C=2, S=140)", text, StringComparison.Ordinal);
        Match m = Recall().Match(text);
        Assert.True(m.Success, text);
        Assert.True(double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) > double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 0.3, m.Value);
        Assert.Matches(@"Weighted mean = \d+\.\d{4} / 4384\.\d{4} = ", text);
    }

    [GeneratedRegex(@"Without weights positive recall is (\d\.\d{4}); with them (\d\.\d{4})")]
    private static partial Regex Recall();
}
