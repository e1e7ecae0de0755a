using System.Numerics.Tensors;
using System.Text.Json;
using Xent.Kernels;
using Xent.Losses;

namespace Xent.Tests;

/// <summary>Issue 10: losses as values, checked against PyTorch autograd, finite differences and their optima.</summary>
public sealed class ClassificationLossTests
{
    private const string GoldenFile = "pytorch-1.13-classification-losses.json";

    private static readonly JsonElement[] Cases = LoadCases();

    private static JsonElement[] LoadCases()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", GoldenFile)));
        return [.. doc.RootElement.GetProperty("cases").EnumerateArray().Select(e => e.Clone())];
    }

    public static IEnumerable<object[]> CaseIndices() => Enumerable.Range(0, Cases.Length).Select(i => new object[] { i, Cases[i].GetProperty("name").GetString() + " " + Cases[i].GetProperty("dtype").GetString() });

    private static (double[] Values, int[] Shape) Flatten(JsonElement e)
    {
        var values = new List<double>();
        var shape = new List<int>();
        void Walk(JsonElement x, int depth)
        {
            if (x.ValueKind == JsonValueKind.Array)
            {
                if (shape.Count == depth)
                {
                    shape.Add(x.GetArrayLength());
                }

                foreach (JsonElement c in x.EnumerateArray())
                {
                    Walk(c, depth + 1);
                }
            }
            else
            {
                values.Add(x.GetDouble());
            }
        }

        Walk(e, 0);
        return ([.. values], [.. shape]);
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void Matches_PyTorch_autograd(int index, string name)
    {
        JsonElement c = Cases[index];
        if (c.GetProperty("loss").GetString() == "sigmoid_focal")
        {
            SigmoidCase(c, name);
            return;
        }

        IReadOnlyList<int>? counts = c.GetProperty("class_counts").ValueKind == JsonValueKind.Array ? [.. c.GetProperty("class_counts").EnumerateArray().Select(v => v.GetInt32())] : null;
        ClassificationLoss loss = LossCatalog.Create(c.GetProperty("loss").GetString()!, counts);
        (double[] x, int[] shape) = Flatten(c.GetProperty("input"));
        (double[] yd, int[] targetShape) = Flatten(c.GetProperty("target"));
        int[] y = [.. yd.Select(v => (int)v)];
        var options = new ClassificationLossOptions
        {
            Weight = c.GetProperty("weight").ValueKind == JsonValueKind.Array ? [.. c.GetProperty("weight").EnumerateArray().Select(v => v.GetDouble())] : null,
            IgnoreIndex = c.GetProperty("ignore_index").GetInt32(),
            Reduction = ReductionParser.Parse(c.GetProperty("reduction").GetString()!),
            ZLoss = c.GetProperty("z_loss").GetDouble(),
        };
        (double[] expectedGrad, _) = Flatten(c.GetProperty("expected_grad"));
        (double[] expectedLoss, _) = c.GetProperty("expected_loss").ValueKind == JsonValueKind.Array ? Flatten(c.GetProperty("expected_loss")) : ([c.GetProperty("expected_loss").GetDouble()], [1]);
        int positions = y.Length;
        nint[] xShape = [.. shape.Select(s => (nint)s)], yShape = targetShape.Length == 0 ? [1] : [.. targetShape.Select(s => (nint)s)];
        bool single = c.GetProperty("dtype").GetString() == "float32";
        double tolerance = single ? 1e-6 : 1e-12;
        double[] gotLosses, gotGrad;
        double value;
        if (single)
        {
            float[] xf = [.. x.Select(v => (float)v)];
            var grad = new float[x.Length];
            var losses = new float[positions];
            LossResult r = loss.Compute<float>(new ReadOnlyTensorSpan<float>(xf, xShape), new ReadOnlyTensorSpan<int>(y, yShape), options, options.Reduction == Reduction.None ? losses : default, grad);
            (value, gotLosses, gotGrad) = (r.Value, [.. losses.Select(v => (double)v)], [.. grad.Select(v => (double)v)]);
        }
        else
        {
            var grad = new double[x.Length];
            var losses = new double[positions];
            LossResult r = loss.Compute<double>(new ReadOnlyTensorSpan<double>(x, xShape), new ReadOnlyTensorSpan<int>(y, yShape), options, options.Reduction == Reduction.None ? losses : default, grad);
            (value, gotLosses, gotGrad) = (r.Value, losses, grad);
        }

        if (options.Reduction == Reduction.None)
        {
            for (int i = 0; i < positions; i++)
            {
                Assert.True(Math.Abs(gotLosses[i] - expectedLoss[i]) <= tolerance * Math.Max(1, Math.Abs(expectedLoss[i])), $"{name}: loss[{i}] {gotLosses[i]} vs PyTorch {expectedLoss[i]}");
            }
        }
        else
        {
            Assert.True(Math.Abs(value - expectedLoss[0]) <= tolerance * Math.Max(1, Math.Abs(expectedLoss[0])), $"{name}: loss {value:R} vs PyTorch {expectedLoss[0]:R}");
        }

        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(Math.Abs(gotGrad[i] - expectedGrad[i]) <= tolerance * Math.Max(1, Math.Abs(expectedGrad[i])), $"{name}: grad[{i}] {gotGrad[i]:R} vs PyTorch {expectedGrad[i]:R}");
        }
    }

    public static IEnumerable<object[]> Specs() =>
    [
        ["cross-entropy"], ["cross-entropy:label-smoothing=0.2"], ["soft-cross-entropy"], ["focal:gamma=2"], ["focal:gamma=0.3"],
        ["logit-adjusted:tau=1"], ["balanced-softmax"], ["ldam:max-margin=0.5,scale=30"], ["gce:q=0.7"], ["sce:alpha=0.1,beta=1"], ["poly1:epsilon=2"],
    ];

    [Theory]
    [MemberData(nameof(Specs))]
    public void Gradients_match_finite_differences(string spec)
    {
        int n = 3, c = 4;
        ClassificationLoss loss = LossCatalog.Create(spec, [40, 20, 7, 2]);
        var random = new XentRandom(11);
        double[] x = [.. Enumerable.Range(0, n * c).Select(_ => random.NextGaussian())];
        int[] y = [0, 3, 2];
        foreach (var options in new[] { new ClassificationLossOptions(), new ClassificationLossOptions { Weight = [1, 2, 0.5, 3], ZLoss = 1e-2 } })
        {
            var grad = new double[x.Length];
            double F(double[] v) => loss.Compute<double>(new ReadOnlyTensorSpan<double>(v, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), options).Value;
            loss.Compute<double>(new ReadOnlyTensorSpan<double>(x, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), options, gradient: grad);
            for (int i = 0; i < x.Length; i++)
            {
                const double h = 1e-6;
                double[] plus = [.. x], minus = [.. x];
                plus[i] += h;
                minus[i] -= h;
                double numeric = (F(plus) - F(minus)) / (2 * h);
                Assert.True(Math.Abs(numeric - grad[i]) < 1e-6 * Math.Max(1, Math.Abs(numeric)), $"{spec}: d/dx[{i}] analytic {grad[i]:R}, numeric {numeric:R}");
            }
        }
    }

    /// <summary>The probabilities that minimise a loss for one input labelled 70/20/10, by gradient descent on its logits.</summary>
    private static double[] Optimum(ClassificationLoss loss, IReadOnlyList<double>? weight = null)
    {
        int[] y = [.. Enumerable.Repeat(0, 70), .. Enumerable.Repeat(1, 20), .. Enumerable.Repeat(2, 10)];
        var z = new double[3];
        var x = new double[300];
        var grad = new double[300];
        var options = new ClassificationLossOptions { Weight = weight };
        for (int step = 0; step < 20000; step++)
        {
            for (int i = 0; i < 100; i++)
            {
                z.CopyTo(x, i * 3);
            }

            loss.Compute<double>(new ReadOnlyTensorSpan<double>(x, [100, 3]), new ReadOnlyTensorSpan<int>(y, [100]), options, gradient: grad);
            for (int k = 0; k < 3; k++)
            {
                double g = 0;
                for (int i = 0; i < 100; i++)
                {
                    g += grad[(i * 3) + k];
                }

                z[k] -= 0.5 * g;
            }
        }

        var p = new double[3];
        double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
        for (int k = 0; k < 3; k++)
        {
            p[k] = Math.Exp(z[k] - max) / sum;
        }

        return p;
    }

    private static void Near(double[] expected, double[] actual, double tolerance, string what)
    {
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.True(Math.Abs(expected[k] - actual[k]) < tolerance, $"{what}: p[{k}] = {actual[k]:F4}, expected {expected[k]:F4} ({string.Join(", ", actual.Select(v => v.ToString("F4")))})");
        }
    }

    [Fact]
    public void Each_loss_has_its_documented_optimum_on_one_input_labelled_70_20_10()
    {
        double[] f = [0.7, 0.2, 0.1];
        int[] counts = [70, 20, 10];
        Near(f, Optimum(new CrossEntropyLoss()), 1e-3, "cross-entropy: p = f");

        double[] w = [1, 2, 4];
        double[] wf = [.. f.Select((v, k) => v * w[k])];
        Near([.. wf.Select(v => v / wf.Sum())], Optimum(new CrossEntropyLoss(), w), 1e-3, "weighted cross-entropy: p ∝ w·f");

        // Logit adjustment with τ = 1 and π = f: softmax(z) ∝ f·π^(−1) = uniform.
        Near([1 / 3.0, 1 / 3.0, 1 / 3.0], Optimum(new LogitAdjustedLoss(counts, 1)), 1e-3, "logit-adjusted: softmax(z) ∝ f·π^(−τ)");
        double[] half = [.. f.Select(v => v * Math.Pow(v, -0.5))];
        Near([.. half.Select(v => v / half.Sum())], Optimum(new LogitAdjustedLoss(counts, 0.5)), 1e-3, "logit-adjusted τ = 0.5");
        Near([1 / 3.0, 1 / 3.0, 1 / 3.0], Optimum(new BalancedSoftmaxLoss(counts)), 1e-3, "balanced softmax: softmax(z) ∝ f / n");

        double[] g = [.. f.Select(v => Math.Pow(v, 1 / (1 - 0.7)))];
        Near([.. g.Select(v => v / g.Sum())], Optimum(new GceLoss(0.7)), 2e-3, "GCE: p ∝ f^(1/(1−q))");

        double[] focal = Optimum(new FocalLoss(2));
        Assert.True(focal[0] < 0.7 && focal[2] > 0.1, $"focal is under-confident: p = {string.Join(", ", focal.Select(v => v.ToString("F4")))}");
    }

    [Fact]
    public void The_catalog_finds_every_loss_by_name_and_names_what_is_wrong()
    {
        string[] names = [.. LossCatalog.Entries.Select(e => e.Name)];
        foreach (string expected in new[] { "cross-entropy", "soft-cross-entropy", "nll", "focal", "logit-adjusted", "balanced-softmax", "ldam", "gce", "sce", "poly1" })
        {
            Assert.Contains(expected, names);
        }

        Assert.Equal(0.3, ((FocalLoss)LossCatalog.Create("focal:gamma=0.3")).Gamma);
        Assert.Equal(10, ((LdamLoss)LossCatalog.Create("ldam:max_margin=0.4,scale=10", [5, 1])).Scale);
        Assert.Contains("has no parameter 'gama'", Assert.Throws<FormatException>(() => LossCatalog.Create("focal:gama=2")).Message);
        Assert.Contains("unknown loss", Assert.Throws<FormatException>(() => LossCatalog.Create("hinge")).Message);
        Assert.Contains("class counts", Assert.Throws<FormatException>(() => LossCatalog.Create("logit-adjusted")).Message);
        Assert.Contains("q must be in (0, 1]", Assert.Throws<FormatException>(() => LossCatalog.Create("gce:q=2")).Message);
        Assert.Equal("ldam:max-margin=0.5,scale=30", LossCatalog.Create("ldam", [3, 1]).ToString());
    }

    [Fact]
    public void Loss_calls_allocate_nothing_when_warm()
    {
        int n = 64, c = 10;
        float[] x = [.. Enumerable.Range(0, n * c).Select(i => (float)Math.Sin(i))];
        int[] y = [.. Enumerable.Range(0, n).Select(i => i % c)];
        var grad = new float[x.Length];
        foreach (var options in new[] { new ClassificationLossOptions { Weight = [.. Enumerable.Repeat(1.0, c)], ZLoss = 1e-3 }, new ClassificationLossOptions { Weight = [.. Enumerable.Repeat(1.0, c)] } })
        foreach (ClassificationLoss loss in new ClassificationLoss[] { new FocalLoss(2), new LogitAdjustedLoss([.. Enumerable.Range(1, c)]), new BalancedSoftmaxLoss([.. Enumerable.Range(1, c)]), new LdamLoss([.. Enumerable.Range(1, c)]), new GceLoss(), new SceLoss(), new Poly1Loss() })
        {
            loss.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), options, gradient: grad);
            long before = GC.GetAllocatedBytesForCurrentThread();
            loss.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), options, gradient: grad);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void Case_files_name_the_new_losses_and_their_parameters()
    {
        var (code, output, error) = Cli.Run("loss", DataTests.RepoFile("docs", "examples", "long-tail-losses.json"));
        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        float[] x = [2.0f, -1.0f, 0.5f, 0.1f, 1.5f, -0.3f];
        int[] y = [0, 2];
        double Expected(ClassificationLoss loss, double zLoss = 0) => loss.Compute<float>(new ReadOnlyTensorSpan<float>(x, [2, 3]), new ReadOnlyTensorSpan<int>(y, [2]), new ClassificationLossOptions { ZLoss = zLoss }).Value;
        double[] got = [.. doc.RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("loss").GetDouble())];
        Assert.Equal(Expected(new FocalLoss(2)), got[0], 6);
        Assert.Equal(Expected(new LogitAdjustedLoss([70, 20, 10], 1)), got[1], 6);
        Assert.Equal(Expected(new GceLoss(0.7), 0.001), got[2], 6);

        string bad = Path.Combine(Path.GetTempPath(), $"xent-ldam-{Environment.ProcessId}.json");
        File.WriteAllText(bad, "{\"loss\":\"ldam\",\"input\":[[1,2]],\"target\":[0]}");
        try
        {
            var (badCode, _, badError) = Cli.Run("loss", bad);
            Assert.Equal(2, badCode);
            Assert.Contains("class_counts", badError);
        }
        finally
        {
            File.Delete(bad);
        }
    }

    [Fact]
    public void Explain_shows_the_terms_of_a_new_loss_and_its_mean()
    {
        var (code, output, error) = Cli.Run("explain", "--logits", "[[2.0, -1.0, 0.5], [0.1, 1.5, -0.3]]", "--target", "[0, 2]", "--loss", "focal:gamma=2", "--weight", "1,2,3");
        Assert.True(code == 0, error);
        float[] x = [2.0f, -1.0f, 0.5f, 0.1f, 1.5f, -0.3f];
        double value = new FocalLoss(2).Compute<double>(new ReadOnlyTensorSpan<double>([.. x.Select(v => (double)v)], [2, 3]), new ReadOnlyTensorSpan<int>([0, 2], [2]), new ClassificationLossOptions { Weight = [1, 2, 3] }).Value;
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"/ 2 = {value:F4}"), output);
        Assert.Contains("mean is over positions", output);
        var (zCode, zOut, zError) = Cli.Run("explain", "--logits", "[[2.0, -1.0, 0.5]]", "--target", "[2]", "--loss", "focal:gamma=2", "--z-loss", "0.01");
        Assert.True(zCode == 0, zError);
        Assert.Contains("z-loss term 0.01", zOut);
        var (ceZ, _, ceWhy) = Cli.Run("explain", "--logits", "[[2.0, -1.0, 0.5]]", "--target", "[2]", "--z-loss", "0.01");
        Assert.Equal(2, ceZ);
        Assert.Contains("follow PyTorch here, which has no z-loss", ceWhy);
        var (missing, _, why) = Cli.Run("explain", "--logits", "[[1, 2]]", "--target", "[0]", "--loss", "ldam");
        Assert.Equal(2, missing);
        Assert.Contains("(give --class-counts)", why);
    }

    private static void SigmoidCase(JsonElement c, string name)
    {
        (double[] x, int[] shape) = Flatten(c.GetProperty("input"));
        (double[] t, _) = Flatten(c.GetProperty("target"));
        (double[] expectedGrad, _) = Flatten(c.GetProperty("expected_grad"));
        (double[] expectedLoss, _) = c.GetProperty("expected_loss").ValueKind == JsonValueKind.Array ? Flatten(c.GetProperty("expected_loss")) : ([c.GetProperty("expected_loss").GetDouble()], [1]);
        Reduction reduction = ReductionParser.Parse(c.GetProperty("reduction").GetString()!);
        nint[] lengths = [.. shape.Select(v => (nint)v)];
        var grad = new double[x.Length];
        var losses = new double[x.Length];
        LossResult r = SigmoidFocalLoss.Compute<double>(new ReadOnlyTensorSpan<double>(x, lengths), new ReadOnlyTensorSpan<double>(t, lengths), c.GetProperty("alpha").GetDouble(), c.GetProperty("gamma").GetDouble(), reduction, losses, grad);
        double[] got = reduction == Reduction.None ? losses : [r.Value];
        for (int i = 0; i < got.Length; i++)
        {
            Assert.True(Math.Abs(got[i] - expectedLoss[i]) <= 1e-12 * Math.Max(1, Math.Abs(expectedLoss[i])), $"{name}: loss[{i}] {got[i]:R} vs {expectedLoss[i]:R}");
        }

        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(Math.Abs(grad[i] - expectedGrad[i]) <= 1e-12 * Math.Max(1, Math.Abs(expectedGrad[i])), $"{name}: grad[{i}] {grad[i]:R} vs {expectedGrad[i]:R}");
        }

        if (c.GetProperty("dtype").GetString() == "float32")
        {
            float[] xf = [.. x.Select(v => (float)v)], tf = [.. t.Select(v => (float)v)];
            var gf = new float[x.Length];
            LossResult rf = SigmoidFocalLoss.Compute<float>(new ReadOnlyTensorSpan<float>(xf, lengths), new ReadOnlyTensorSpan<float>(tf, lengths), c.GetProperty("alpha").GetDouble(), c.GetProperty("gamma").GetDouble(), reduction == Reduction.None ? Reduction.Sum : reduction, gradient: gf);
            double expected = reduction == Reduction.None ? expectedLoss.Sum() : expectedLoss[0];
            Assert.True(Math.Abs(rf.Value - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected)), $"{name} float32: {rf.Value:R} vs {expected:R}");
        }
    }

    [Fact]
    public void Train_takes_any_loss_by_name_with_a_cosine_head_drw_and_z_loss_and_evaluate_adjusts_post_hoc()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"xent-losses-{Environment.ProcessId}-{Environment.TickCount64}");
        try
        {
            string data = DataTests.RepoFile("data", "digits_longtail50.csv");
            foreach (string[] options in new[]
            {
                new[] { "--loss", "ldam:max-margin=0.5,scale=30", "--head", "cosine", "--drw-epoch", "3", "--epochs", "6", "--early-stopping", "0" },
                ["--loss", "focal:gamma=2", "--class-weights", "balanced", "--z-loss", "1e-4", "--epochs", "5"],
                ["--loss", "logit-adjusted:tau=1", "--epochs", "5"],
            })
            {
                string run = Path.Combine(dir, options[1].Split(':')[0]);
                var (code, _, error) = Cli.Run(["train", "--data", data, "--out", run, .. options]);
                Assert.True(code == 0, string.Join(' ', options) + ": " + error);
                string model = Path.Combine(run, "model.safetensors");
                (_, Xent.Training.ModelInfo info) = Xent.Training.ModelFile.Load(model);
                Assert.StartsWith(options[1].Split(':')[0], info.Loss);
                Assert.NotNull(info.ClassCounts);
                var (evaluated, output, evalError) = Cli.Run("evaluate", "--model", model, "--data", data, "--logit-adjust", "1");
                Assert.True(evaluated == 0, evalError);
                Assert.Contains("balanced accuracy", output);
            }

            Assert.Equal(2, Cli.Run("train", "--data", data, "--out", Path.Combine(dir, "bad"), "--loss", "focal:gama=2").Code);
            Assert.Equal(2, Cli.Run("train", "--data", data, "--out", Path.Combine(dir, "bad2"), "--head", "round").Code);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("focal:gamma=2")]
    [InlineData("gce:q=0.7")]
    [InlineData("sce")]
    [InlineData("poly1:epsilon=1")]
    [InlineData("logit-adjusted:tau=1")]
    [InlineData("balanced-softmax")]
    public void In_place_gives_the_same_gradient(string spec)
    {
        ClassificationLoss loss = LossCatalog.Create(spec, [5, 4, 3, 2, 1]);
        float[] x = [.. Enumerable.Range(0, 40).Select(i => (float)Math.Sin(i * 1.3) * 3)];
        int[] y = [.. Enumerable.Range(0, 8).Select(i => i % 5)];
        var gradient = new float[x.Length];
        double expected = loss.Compute<float>(new ReadOnlyTensorSpan<float>(x, [8, 5]), new ReadOnlyTensorSpan<int>(y, [8]), gradient: gradient).Value;
        float[] inPlace = [.. x];
        double value = loss.Compute<float>(new ReadOnlyTensorSpan<float>(inPlace, [8, 5]), new ReadOnlyTensorSpan<int>(y, [8]), gradient: inPlace).Value;
        Assert.Equal(expected, value);
        Assert.Equal(gradient, inPlace);
    }
}
