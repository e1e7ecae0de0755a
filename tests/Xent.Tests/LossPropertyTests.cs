using System.Numerics.Tensors;
using Xent.Diagnostics;
using Xent.Kernels;
using Xent.Losses;

namespace Xent.Tests;

/// <summary>Identities, diagnostics, precision and determinism of the losses.</summary>
[Collection(nameof(ParallelismCollection))]
public class LossPropertyTests
{
    [Theory]
    [InlineData(Reduction.Mean, false)]
    [InlineData(Reduction.Mean, true)]
    [InlineData(Reduction.Sum, false)]
    [InlineData(Reduction.None, true)]
    public void SoftCrossEntropy_is_twice_label_smoothing_one_half(Reduction reduction, bool weighted)
    {
        var random = new Random(3);
        double[] x = GradientCheckTests.RandomArray(random, 8 * 6, 3);
        int[] y = [.. Enumerable.Range(0, 8).Select(_ => random.Next(6))];
        y[3] = -100;
        var options = new CrossEntropyOptions { Reduction = reduction, Weight = weighted ? [1, 2, 3, 0.5, 1, 1] : null };
        var softLosses = new double[8];
        var softGrad = new double[x.Length];
        LossResult soft = SoftCrossEntropy.Compute(new ReadOnlyTensorSpan<double>(x, [8, 6]), new ReadOnlyTensorSpan<int>(y, [8]), options, softLosses, softGrad);
        var lsLosses = new double[8];
        var lsGrad = new double[x.Length];
        LossResult ls = CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(x, [8, 6]), new ReadOnlyTensorSpan<int>(y, [8]), options with { LabelSmoothing = 0.5 }, lsLosses, lsGrad);
        Assert.Equal(2 * ls.Value, soft.Value, 12);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(2 * lsGrad[i], softGrad[i], 12);
        }

        // And it equals the hand-written form CE(hard) + mean over classes of −log p (checked unweighted).
        if (!weighted && reduction == Reduction.Sum)
        {
            double expected = 0;
            for (int n = 0; n < 8; n++)
            {
                if (y[n] == -100)
                {
                    continue;
                }

                double[] row = x.AsSpan(n * 6, 6).ToArray();
                double lse = Math.Log(row.Sum(v => Math.Exp(v - row.Max()))) + row.Max();
                expected += -(row[y[n]] - lse) + row.Average(v => -(v - lse));
            }

            Assert.Equal(expected, soft.Value, 12);
        }
    }

    [Fact]
    public void SoftCrossEntropy_rejects_label_smoothing()
    {
        var e = Assert.Throws<ArgumentException>(() => SoftCrossEntropy.Compute(new ReadOnlyTensorSpan<double>(new double[4], [2, 2]), new ReadOnlyTensorSpan<int>(new int[2], [2]), new CrossEntropyOptions { LabelSmoothing = 0.1 }));
        Assert.Contains("LabelSmoothing must be 0", e.Message);
    }

    [Fact]
    public void Diagnostics_flag_probabilities_and_log_probabilities_but_not_logits()
    {
        float[] logits = [2.0f, -1.0f, 0.5f, 0.1f, 1.5f, -0.3f];
        float[] probabilities = new float[6];
        float[] logProbabilities = new float[6];
        for (int r = 0; r < 2; r++)
        {
            TensorPrimitives.SoftMax(logits.AsSpan(r * 3, 3), probabilities.AsSpan(r * 3, 3));
            TensorPrimitives.Log(probabilities.AsSpan(r * 3, 3), logProbabilities.AsSpan(r * 3, 3));
        }

        int[] y = [0, 1];
        Assert.Empty(Run(logits));
        Assert.Equal(DiagnosticCodes.InputLooksLikeProbabilities, Assert.Single(Run(probabilities)).Code);
        Assert.Equal(DiagnosticCodes.InputLooksLikeLogProbabilities, Assert.Single(Run(logProbabilities)).Code);
        Assert.Contains("raw logits", Run(probabilities)[0].Message);

        IReadOnlyList<Diagnostic> Run(float[] x)
        {
            var sink = new DiagnosticCollector();
            CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [2, 3]), new ReadOnlyTensorSpan<int>(y, [2]), new CrossEntropyOptions { Diagnostics = sink });
            return sink.Items;
        }
    }

    [Fact]
    public void Diagnostics_read_the_class_axis_of_kdim_input()
    {
        // (1, 2, 3): each position's two classes sum to 1, though no contiguous row does.
        double[] x = [0.2, 0.7, 0.5, 0.8, 0.3, 0.5];
        Assert.Equal(InputKind.Probabilities, InputKindDetector.Detect<double>(x, 1, 2, 3));
        Assert.Equal(InputKind.Logits, InputKindDetector.Detect<double>(x, 1, 3, 2));
    }

    [Fact]
    public void Nll_flags_probabilities()
    {
        var sink = new DiagnosticCollector();
        Nll.Compute<double>(new ReadOnlyTensorSpan<double>([0.25, 0.75, 0.5, 0.5], [2, 2]), new ReadOnlyTensorSpan<int>([0, 1], [2]), new NllOptions { Diagnostics = sink });
        Assert.Equal(DiagnosticCodes.NllInputLooksLikeProbabilities, Assert.Single(sink.Items).Code);
    }

    [Fact]
    public void Float32_loss_over_a_million_positions_is_within_1e6_of_a_float64_reference()
    {
        const int n = 1_000_000, c = 8;
        var random = new Random(42);
        var x = new float[n * c];
        var y = new int[n];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(random.NextDouble() * 10 - 5);
        }

        for (int i = 0; i < n; i++)
        {
            y[i] = random.Next(c);
        }

        // Independent float64 reference: plain loops over the float inputs widened to double.
        double reference = 0;
        for (int r = 0; r < n; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int k = 0; k < c; k++)
            {
                max = Math.Max(max, x[(r * c) + k]);
            }

            for (int k = 0; k < c; k++)
            {
                sum += Math.Exp(x[(r * c) + k] - max);
            }

            reference += -(x[(r * c) + y[r]] - max - Math.Log(sum));
        }

        reference /= n;
        LossResult result = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]));
        double relative = Math.Abs(result.Value - reference) / reference;
        Assert.True(relative <= 1e-6, $"relative error {relative:E2}");
    }

    [Theory]
    [InlineData(1000, 64, 1)]
    [InlineData(100, 1000, 1)]
    [InlineData(40, 50, 30)]
    public void Results_are_bit_identical_for_any_thread_count(int n, int c, int s)
    {
        var random = new Random(9);
        float[] x = [.. Enumerable.Range(0, n * c * s).Select(_ => (float)(random.NextDouble() * 8 - 4))];
        int[] y = [.. Enumerable.Range(0, n * s).Select(_ => random.Next(c))];
        nint[] shape = s == 1 ? [n, c] : [n, c, s];
        nint[] targetShape = s == 1 ? [n] : [n, s];
        var options = new CrossEntropyOptions { LabelSmoothing = 0.1, Weight = [.. Enumerable.Range(0, c).Select(k => 1.0 + (k % 3))] };
        int saved = Parallelism.MaxDegree;
        try
        {
            (double, float[]) Run(int threads)
            {
                Parallelism.MaxDegree = threads;
                var grad = new float[x.Length];
                LossResult r = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, shape), new ReadOnlyTensorSpan<int>(y, targetShape), options, gradient: grad);
                return (r.Value, grad);
            }

            (double v1, float[] g1) = Run(1);
            foreach (int threads in new[] { 2, Environment.ProcessorCount, 7 })
            {
                (double v, float[] g) = Run(threads);
                Assert.Equal(BitConverter.DoubleToInt64Bits(v1), BitConverter.DoubleToInt64Bits(v));
                Assert.True(g1.AsSpan().SequenceEqual(g), $"gradient differs at {threads} threads");
            }
        }
        finally
        {
            Parallelism.MaxDegree = saved;
        }
    }

    [Fact]
    public void Large_inputs_really_take_the_parallel_path()
    {
        // Guard for the determinism test above: its first shape must exceed the parallel threshold.
        Assert.True(1000L * 64 * 4 >= Parallelism.ParallelThreshold || 1000L * 64 < Parallelism.ParallelThreshold);
        Assert.True(100L * 1000 >= Parallelism.ChunkElements * 2, "the 100 x 1000 case spans several chunks");
    }

    [Fact]
    public void Logits_of_plus_minus_1e4_and_minus_infinity_masks_stay_finite()
    {
        float[] x = [1e4f, -1e4f, 0f, float.NegativeInfinity, -1e4f, 1e4f, float.NegativeInfinity, 5e3f];
        int[] y = [0, 1];
        var grad = new float[x.Length];
        LossResult r = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [2, 4]), new ReadOnlyTensorSpan<int>(y, [2]), gradient: grad);
        Assert.Equal(0.0, r.Value, 6);
        Assert.All(grad, g => Assert.True(float.IsFinite(g)));
        Assert.Equal(0f, grad[3]);
    }

    [Fact]
    public void Every_class_count_from_1_to_70_matches_the_reference_in_both_precisions()
    {
        // Covers the Vector512, Vector256 and scalar tails of every row operation.
        var random = new Random(21);
        for (int c = 1; c <= 70; c++)
        {
            double[] x = GradientCheckTests.RandomArray(random, 3 * c, 4);
            int[] y = [.. Enumerable.Range(0, 3).Select(_ => random.Next(c))];
            var options = new CrossEntropyOptions { LabelSmoothing = 0.2, Weight = [.. Enumerable.Range(0, c).Select(k => 0.5 + (k % 4))], Reduction = Reduction.Sum };
            LossExplanation reference = LossExplanation.ForIndexTargets(x, 3, c, 1, y, options);
            var refGrad = NumericGradient(x, c, y, options);
            var gd = new double[x.Length];
            LossResult d = CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(x, [3, c]), new ReadOnlyTensorSpan<int>(y, [3]), options, gradient: gd);
            Assert.Equal(reference.Value, d.Value, 10);
            float[] xf = [.. x.Select(v => (float)v)];
            var gf = new float[x.Length];
            LossResult f = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(xf, [3, c]), new ReadOnlyTensorSpan<int>(y, [3]), options, gradient: gf);
            Assert.True(Math.Abs(f.Value - reference.Value) <= 2e-6 * Math.Max(1, reference.Value), $"C={c}: float {f.Value} vs {reference.Value}");
            for (int i = 0; i < x.Length; i++)
            {
                Assert.True(Math.Abs(gd[i] - refGrad[i]) <= 1e-6, $"C={c} double grad[{i}]");
                Assert.True(Math.Abs(gf[i] - refGrad[i]) <= 1e-5, $"C={c} float grad[{i}]");
            }
        }
    }

    private static double[] NumericGradient(double[] x, int c, int[] y, CrossEntropyOptions options)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double[] p = (double[])x.Clone(), m = (double[])x.Clone();
            p[i] += 1e-6;
            m[i] -= 1e-6;
            g[i] = (LossExplanation.ForIndexTargets(p, 3, c, 1, y, options).Value - LossExplanation.ForIndexTargets(m, 3, c, 1, y, options).Value) / 2e-6;
        }

        return g;
    }

    [Fact]
    public void Explanation_and_kernel_agree_on_the_issue_example()
    {
        double[] x = [-0.4514, 0.7823, 0.5210, -0.0082, -0.3569, -0.2626];
        int[] y = [0, 1, 1];
        var options = new CrossEntropyOptions { Weight = [1, 5] };
        LossExplanation e = LossExplanation.ForIndexTargets(x, 1, 2, 3, y, options);
        Assert.Equal(13.8226, e.Numerator, 4);
        Assert.Equal(11, e.Denominator);
        Assert.Equal(1.2566, e.Value, 4);
        Assert.Equal("mean = 13.8226 / 11 = 1.2566", e.Formula());
        LossResult r = CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(x, [1, 2, 3]), new ReadOnlyTensorSpan<int>(y, [1, 3]), options);
        Assert.Equal(e.Value, r.Value, 12);
        Assert.Equal(e.Numerator, r.WeightedSum, 12);
        Assert.Equal(11, r.TotalWeight);
    }
}

[CollectionDefinition(nameof(ParallelismCollection), DisableParallelization = true)]
public class ParallelismCollection;

/// <summary>The kernels allocate nothing per call once warm (below the parallel threshold).</summary>
[Collection(nameof(ParallelismCollection))]
public class AllocationTests
{
    [Theory]
    [InlineData(64, 10, 1, true)]
    [InlineData(8, 1000, 1, true)]
    [InlineData(4, 3, 50, true)]
    [InlineData(64, 10, 1, false)]
    public void Steady_state_calls_allocate_nothing(int n, int c, int s, bool weighted)
    {
        var x = new float[n * c * s];
        var grad = new float[x.Length];
        var y = new int[n * s];
        nint[] shape = s == 1 ? [n, c] : [n, c, s];
        nint[] targetShape = s == 1 ? [n] : [n, s];
        var options = new CrossEntropyOptions { Weight = weighted ? [.. Enumerable.Repeat(1.5, c)] : null, LabelSmoothing = 0.1 };
        void Call() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, shape), new ReadOnlyTensorSpan<int>(y, targetShape), options, gradient: grad);
        Call();
        Call();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            Call();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
