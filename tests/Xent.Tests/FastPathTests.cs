using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Xent.Kernels;
using Xent.Losses;
using Xent.Training;

namespace Xent.Tests;

/// <summary>
/// The fast paths (lane-batched small C and K-dim, chunked online large C, in-place) against an independent float64
/// reference, including their tails, chunk boundaries and special values.
/// </summary>
[Collection(nameof(ParallelismCollection))]
public class FastPathTests
{
    /// <summary>Reference loss and gradient in double, straight from the spec's formulas (index targets).</summary>
    private static (double Sum, double Total, double[] Grad) Reference(float[] x, int n, int c, int s, int[] y, double[]? w, int ignore, double eps, Reduction reduction)
    {
        double sum = 0, total = 0, sw = w?.Sum() ?? c;
        var grad = new double[x.Length];
        var rows = new List<(int P, double[] P_, double Wy)>();
        for (int b = 0; b < n; b++)
        {
            for (int p = 0; p < s; p++)
            {
                int t = y[(b * s) + p];
                if (t == ignore)
                {
                    continue;
                }

                double[] row = [.. Enumerable.Range(0, c).Select(k => (double)x[(((b * c) + k) * s) + p])];
                double max = row.Max(), lse = Math.Log(row.Sum(v => Math.Exp(v - max))) + max;
                double wy = w?[t] ?? 1;
                double loss = -wy * (row[t] - lse);
                double smoothTerm = Enumerable.Range(0, c).Sum(k => -(w?[k] ?? 1) * (row[k] - lse));
                sum += eps > 0 ? ((1 - eps) * loss) + (eps / c * smoothTerm) : loss;
                total += wy;
            }
        }

        double kappa = reduction == Reduction.Mean ? 1 / total : 1;
        for (int b = 0; b < n; b++)
        {
            for (int p = 0; p < s; p++)
            {
                int t = y[(b * s) + p];
                if (t == ignore)
                {
                    continue;
                }

                double[] row = [.. Enumerable.Range(0, c).Select(k => (double)x[(((b * c) + k) * s) + p])];
                double max = row.Max();
                double z = row.Sum(v => Math.Exp(v - max));
                double wy = w?[t] ?? 1;
                for (int k = 0; k < c; k++)
                {
                    double pk = Math.Exp(row[k] - max) / z;
                    double wk = w?[k] ?? 1;
                    grad[(((b * c) + k) * s) + p] = kappa * (((1 - eps) * wy * (pk - (k == t ? 1 : 0))) + (eps / c * ((sw * pk) - wk)));
                }
            }
        }

        return (sum, total, grad);
    }

    public static IEnumerable<object[]> Shapes()
    {
        // (n, c, s): lane blocks with tails for small C (C = 2 by permutes, multiples of 16 (AVX-512) or of 8 (AVX2) by
        // register transposes, or on AVX2 from 24 to 64 by rows read along C (RowBlockLanes), other C by register transposes whose last loads run into the next row on AVX2 (the
        // array's last block by the scalar transpose) and by the scalar transpose with AVX-512), the row path above LaneLimit (64; one chunk up to 8192, then the
        // online path over chunks of 1024), K-dim.
        int[][] shapes = [[37, 2, 1], [40, 3, 1], [33, 10, 1], [32, 10, 1], [64, 7, 1], [48, 20, 1], [35, 50, 1], [21, 8, 1], [13, 24, 1], [27, 64, 1], [17, 31, 1], [41, 13, 1], [24, 5, 1], [19, 32, 1], [9, 33, 1], [7, 65, 1], [5, 1000, 1], [3, 2500, 1], [2, 9000, 1], [3, 5, 37], [2, 21, 48], [4, 2, 17], [2, 4, 600]];
        foreach (int[] shape in shapes)
        {
            yield return [shape[0], shape[1], shape[2], false, 0.0];
            yield return [shape[0], shape[1], shape[2], true, 0.2];
            if (shape[1] == 2)
            {
                // Two classes keep weights and smoothing in registers, each on its own too.
                yield return [shape[0], shape[1], shape[2], true, 0.0];
                yield return [shape[0], shape[1], shape[2], false, 0.2];
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Fast_paths_match_a_float64_reference(int n, int c, int s, bool weighted, double eps)
    {
        var random = new XentRandom((ulong)((n * 1000) + (c * 10) + s));
        float[] x = [.. Enumerable.Range(0, n * c * s).Select(_ => random.NextSingle(-6, 6))];
        int[] y = [.. Enumerable.Range(0, n * s).Select(i => i % 7 == 3 ? -100 : random.NextInt(c))];
        double[]? w = weighted ? [.. Enumerable.Range(0, c).Select(k => 0.25 + (k % 5))] : null;
        var options = new CrossEntropyOptions { Weight = w, LabelSmoothing = eps };
        nint[] shape = s == 1 ? [n, c] : [n, c, s];
        nint[] targetShape = s == 1 ? [n] : [n, s];
        var grad = new float[x.Length];
        var losses = new float[n * s];
        LossResult r = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, shape), new ReadOnlyTensorSpan<int>(y, targetShape), options, losses, grad);
        (double sum, double total, double[] expected) = Reference(x, n, c, s, y, w, -100, eps, Reduction.Mean);
        Assert.True(Math.Abs(r.WeightedSum - sum) <= 2e-6 * Math.Max(1, Math.Abs(sum)), $"sum {r.WeightedSum} vs {sum}");
        Assert.Equal(total, r.TotalWeight, 4);
        Assert.Equal(r.WeightedSum, losses.Sum(v => (double)v), 3);
        for (int i = 0; i < grad.Length; i++)
        {
            Assert.True(Math.Abs(grad[i] - expected[i]) <= 2e-6, $"grad[{i}]: {grad[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [InlineData(4, 3, 40)]
    [InlineData(40, 3, 1)]
    [InlineData(40, 10, 1)]
    [InlineData(16, 16, 1)]
    [InlineData(40, 32, 1)]
    [InlineData(24, 64, 1)]
    [InlineData(40, 2, 1)]
    [InlineData(4, 2500, 1)]
    [InlineData(4, 9000, 1)]
    public void Special_values_give_what_the_float64_path_gives(int n, int c, int s)
    {
        var random = new XentRandom(77);
        float[] x = [.. Enumerable.Range(0, n * c * s).Select(_ => random.NextSingle(-3, 3))];
        int[] y = [.. Enumerable.Range(0, n * s).Select(_ => random.NextInt(c))];
        // Masked logits, a masked target, an ignored position full of NaN, one with all -inf, and (large C) a leading chunk of -inf.
        int At(int b, int k, int p) => (((b * c) + k) * s) + p;
        x[At(0, 1, 0)] = float.NegativeInfinity;
        y[1] = 0;
        x[At(0, 0, Math.Min(1, s - 1))] = float.NegativeInfinity;
        y[2 % (n * s)] = -100;
        for (int k = 0; k < c; k++)
        {
            x[At(s > 1 ? 0 : 2, k, s > 1 ? 2 : 0)] = k == 0 ? float.NaN : 1f;
        }

        y[3 % (n * s)] = -100;
        for (int k = 0; k < c; k++)
        {
            x[At(s > 1 ? 0 : 3, k, s > 1 ? 3 : 0)] = float.NegativeInfinity;
        }

        if (c > 1024)
        {
            for (int k = 0; k < 1100; k++)
            {
                x[At(1, k, 0)] = float.NegativeInfinity;
            }
        }

        foreach (double eps in new[] { 0.0, 0.1 })
        {
            var options = new CrossEntropyOptions { LabelSmoothing = eps, Reduction = Reduction.None };
            nint[] shape = s == 1 ? [n, c] : [n, c, s];
            nint[] targetShape = s == 1 ? [n] : [n, s];
            var gf = new float[x.Length];
            var lf = new float[n * s];
            CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, shape), new ReadOnlyTensorSpan<int>(y, targetShape), options, lf, gf);
            double[] xd = [.. x.Select(v => (double)v)];
            var gd = new double[x.Length];
            var ld = new double[n * s];
            CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(xd, shape), new ReadOnlyTensorSpan<int>(y, targetShape), options, ld, gd);
            for (int i = 0; i < lf.Length; i++)
            {
                Same(ld[i], lf[i], $"loss[{i}] (ε = {eps})");
            }

            for (int i = 0; i < gf.Length; i++)
            {
                Same(gd[i], gf[i], $"grad[{i}] (ε = {eps})");
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(32)]
    [InlineData(100)]
    [InlineData(9000)]
    public void Rows_on_either_side_of_the_normal_exp_range_give_what_the_float64_path_gives(int c)
    {
        // Rows (and vectors of lanes) take the shorter exp when max − min ≤ 87 (every exp normal) and the full one
        // otherwise. The first 16 rows spread 30 (whole lane blocks on the short path), then spreads of 86.9 and 87.1,
        // 100 (subnormal exps), 200 (exps that are 0), and +inf; for C = 9000 in one chunk of the online path only.
        // Rows 16-23 are finite (one 8-lane vector with every spread), and +inf comes only in rows 24-31.
        float[] spreads = [.. Enumerable.Repeat(30f, 16), 86.9f, 87.1f, 100f, 200f, 30f, 86.9f, 87.1f, 100f, 200f, 30f, float.PositiveInfinity, 86.9f, 87.1f, 100f, 200f, 30f];
        int n = spreads.Length;
        var random = new XentRandom(11);
        float[] x = [.. Enumerable.Range(0, n * c).Select(_ => random.NextSingle(-3, 3))];
        int[] y = [.. Enumerable.Range(0, n).Select(i => (i * 37) % c)];
        for (int b = 0; b < n; b++)
        {
            int at = c > 1024 ? 2000 + b : (b % (c - 1));
            x[(b * c) + at] = float.IsInfinity(spreads[b]) ? float.NegativeInfinity : -spreads[b] + 3f;
            x[(b * c) + at + 1] = 3f;
        }

        var options = new CrossEntropyOptions { Reduction = Reduction.None };
        var gf = new float[x.Length];
        var lf = new float[n];
        CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), options, lf, gf);
        double[] xd = [.. x.Select(v => (double)v)];
        var gd = new double[x.Length];
        var ld = new double[n];
        CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(xd, [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), options, ld, gd);
        for (int i = 0; i < n; i++)
        {
            Same(ld[i], lf[i], $"loss[{i}] (spread {spreads[i]})");
        }

        for (int i = 0; i < gf.Length; i++)
        {
            Same(gd[i], gf[i], $"grad[{i}] (row {i / c}, spread {spreads[i / c]})");
            Assert.True(gf[i] >= -1 && gf[i] <= 1, $"grad[{i}] = {gf[i]}");
        }
    }

    [Fact]
    public void Two_classes_in_blocks_of_up_to_64_rows_match_the_float64_path_with_ignored_rows_and_wide_rows()
    {
        // TwoClassLanes takes up to 64 rows (8 groups of 8) at once or declines for all of them: rows 0-63 are ordinary
        // (ignored rows and both targets), row 101 spreads 100 and row 70 87.5, so every block that holds either takes
        // the general kernel 8 rows at a time until the blocks start past row 101 (rows 104-143 take the short one,
        // 5 groups); rows 144-148 are the tail. Each group holds its rows as 0, 1, 4, 5, 2, 3, 6, 7 in the lanes, so a
        // target or a gradient put in the wrong row shows here.
        const int n = 149, ignore = -100;
        var random = new XentRandom(23);
        float[] x = [.. Enumerable.Range(0, n * 2).Select(_ => random.NextSingle(-6, 6))];
        int[] y = [.. Enumerable.Range(0, n).Select(i => i % 5 == 3 ? ignore : ((i * 7) + (i / 3)) % 2)];
        x[(101 * 2) + 1] = x[101 * 2] + 100f;
        x[70 * 2] = x[(70 * 2) + 1] + 87.5f;
        x[50 * 2] = x[(50 * 2) + 1] = 0.25f;
        var options = new CrossEntropyOptions { Reduction = Reduction.None, IgnoreIndex = ignore };
        var gf = new float[x.Length];
        var lf = new float[n];
        CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, 2]), new ReadOnlyTensorSpan<int>(y, [n]), options, lf, gf);
        double[] xd = [.. x.Select(v => (double)v)];
        var gd = new double[x.Length];
        var ld = new double[n];
        CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(xd, [n, 2]), new ReadOnlyTensorSpan<int>(y, [n]), options, ld, gd);
        for (int i = 0; i < n; i++)
        {
            Same(ld[i], lf[i], $"loss[{i}]");
            if (y[i] == ignore)
            {
                Assert.True(BitConverter.SingleToInt32Bits(lf[i]) == 0 && BitConverter.SingleToInt32Bits(gf[2 * i]) == 0 && BitConverter.SingleToInt32Bits(gf[(2 * i) + 1]) == 0, $"ignored row {i}: loss {lf[i]}, gradient {gf[2 * i]}, {gf[(2 * i) + 1]} (want +0)");
            }
        }

        for (int i = 0; i < gf.Length; i++)
        {
            Same(gd[i], gf[i], $"grad[{i}] (row {i / 2})");
        }

        var mean = new CrossEntropyOptions { IgnoreIndex = ignore };
        double want = ld.Where((_, i) => y[i] != ignore).Average();
        Assert.Equal(want, CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, 2]), new ReadOnlyTensorSpan<int>(y, [n]), mean).Value, 1e-6);
    }

    [Theory]
    [InlineData(-100, false, 0.0)]
    [InlineData(-100, true, 0.0)]
    [InlineData(-100, true, 0.2)]
    [InlineData(1, true, 0.1)]
    [InlineData(0, false, 0.1)]
    public void Two_class_loss_sums_without_per_row_losses_match_the_float64_path(int ignore, bool weighted, double eps)
    {
        // Without per-row losses TwoClassLanes multiplies the rows' 1 + e into one product per class and takes their
        // logs once at the end (each class's with its own coefficient): 20,000 rows are over 300 calls of 64 rows, so
        // the products are renormalized many times; rows with equal logits give factors of exactly 2, others near 1.
        const int n = 20_000;
        var random = new XentRandom(41);
        float[] x = [.. Enumerable.Range(0, n * 2).Select(_ => random.NextSingle(-9, 9))];
        int[] y = [.. Enumerable.Range(0, n).Select(i => i % 7 == 3 ? ignore : (int)(random.NextUInt64() % 2))];
        for (int i = 0; i < n; i += 5)
        {
            x[(2 * i) + 1] = x[2 * i];
        }

        double[] xd = [.. x.Select(v => (double)v)];
        foreach (Reduction reduction in new[] { Reduction.Mean, Reduction.Sum })
        {
            var options = new CrossEntropyOptions { IgnoreIndex = ignore, LabelSmoothing = eps, Reduction = reduction, Weight = weighted ? [0.3, 2.5] : null };
            var gf = new float[x.Length];
            var gd = new double[x.Length];
            double got = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, 2]), new ReadOnlyTensorSpan<int>(y, [n]), options, gradient: gf).Value;
            double want = CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(xd, [n, 2]), new ReadOnlyTensorSpan<int>(y, [n]), options, gradient: gd).Value;
            Assert.True(Math.Abs(got - want) <= 1e-6 * Math.Abs(want), $"{reduction}: {got}, want {want} (ratio − 1 = {(got / want) - 1:E2})");
            double scale = reduction == Reduction.Mean ? n : 1; // the mean's gradient to the size of the sum's
            for (int i = 0; i < gf.Length; i += 97)
            {
                Same(gd[i] * scale, (float)(gf[i] * scale), $"grad[{i}] ({reduction})");
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Two_class_rows_ignored_by_a_class_index_get_a_positive_zero_gradient(int ignore)
    {
        const int n = 40;
        var random = new XentRandom(31);
        float[] x = [.. Enumerable.Range(0, n * 2).Select(_ => random.NextSingle(-4, 4))];
        int[] y = [.. Enumerable.Range(0, n).Select(i => i % 2)];
        foreach (CrossEntropyOptions options in new[] { new CrossEntropyOptions { IgnoreIndex = ignore }, new CrossEntropyOptions { IgnoreIndex = ignore, Weight = [0.5, 3], LabelSmoothing = 0.1 } })
        {
            var g = new float[x.Length];
            CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, [n, 2]), new ReadOnlyTensorSpan<int>(y, [n]), options, gradient: g);
            for (int i = 0; i < n; i++)
            {
                if (y[i] == ignore)
                {
                    Assert.True(BitConverter.SingleToInt32Bits(g[2 * i]) == 0 && BitConverter.SingleToInt32Bits(g[(2 * i) + 1]) == 0, $"row {i}: {g[2 * i]}, {g[(2 * i) + 1]} (want +0)");
                }
            }
        }
    }

    [Fact]
    public void The_log_on_one_to_two_is_within_0_8_ulp_for_every_float_there()
    {
        // Every float in [1, 2], against log in double precision, in units of the float spacing at the exact value (so
        // near 1, where log x is tiny, the error is relative): 0.77 ulp at most as written (the general Cephes log gives
        // 0.83 there); a table entry or a coefficient off fails it. x = 1 gives +0 exactly.
        double worst = 0;
        string? at = null;
        Span<float> v = stackalloc float[8];
        Span<float> got = stackalloc float[8];
        for (int bits = BitConverter.SingleToInt32Bits(1f); bits <= BitConverter.SingleToInt32Bits(2f); bits += 8)
        {
            for (int i = 0; i < 8; i++)
            {
                v[i] = Math.Min(BitConverter.Int32BitsToSingle(bits + i), 2f);
            }

            FastLog.LogOneToTwo(System.Runtime.Intrinsics.Vector256.Create<float>(v)).CopyTo(got);
            for (int i = 0; i < 8; i++)
            {
                double exact = Math.Log(v[i]);
                double error = exact == 0 ? (got[i] == 0 ? 0 : double.PositiveInfinity) : Math.Abs(got[i] - exact) / Math.ScaleB(1, Math.ILogB(exact) - 23);
                if (error > worst)
                {
                    worst = error;
                    at = $"log({v[i]:R}) = {got[i]:R}, exact {exact:R}";
                }
            }
        }

        Assert.True(worst <= 0.8, $"{worst:F3} ulp at {at}");
        Assert.Equal(0, BitConverter.SingleToInt32Bits(FastLog.LogOneToTwo(System.Runtime.Intrinsics.Vector256.Create(1f)).ToScalar()));
    }

    private static void Same(double expected, float actual, string what)
    {
        if (double.IsNaN(expected) || double.IsInfinity(expected))
        {
            Assert.True(expected.Equals((double)actual), $"{what}: expected {expected}, got {actual}");
        }
        else
        {
            Assert.True(Math.Abs(expected - actual) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected}, got {actual}");
        }
    }

    [Theory]
    [InlineData(64, 10, 1)]
    [InlineData(40, 5, 1)]
    [InlineData(25, 13, 1)]
    [InlineData(37, 2, 1)]
    [InlineData(40, 32, 1)]
    [InlineData(8, 3000, 1)]
    [InlineData(4, 6, 33)]
    public void The_gradient_can_overwrite_the_logits(int n, int c, int s)
    {
        var random = new XentRandom(5);
        float[] x = [.. Enumerable.Range(0, n * c * s).Select(_ => random.NextSingle(-4, 4))];
        int[] y = [.. Enumerable.Range(0, n * s).Select(_ => random.NextInt(c))];
        nint[] shape = s == 1 ? [n, c] : [n, c, s];
        nint[] targetShape = s == 1 ? [n] : [n, s];
        var options = new CrossEntropyOptions { LabelSmoothing = 0.1, Weight = [.. Enumerable.Range(0, c).Select(k => 1.0 + (k % 3))] };
        var separate = new float[x.Length];
        LossResult a = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, shape), new ReadOnlyTensorSpan<int>(y, targetShape), options, gradient: separate);
        LossResult b = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, shape), new ReadOnlyTensorSpan<int>(y, targetShape), options, gradient: x);
        Assert.Equal(a.Value, b.Value);
        Assert.Equal(separate, x);
    }

    [Fact]
    public void FastLog_is_within_2_ulp_of_log_on_the_sums_the_kernels_take()
    {
        int worst = 0;
        for (float v = 1f; v < 1e6f; v *= 1.0001373f)
        {
            float fast = FastLog.Log(System.Runtime.Intrinsics.Vector256.Create(v)).ToScalar();
            float exact = (float)Math.Log(v);
            worst = Math.Max(worst, Math.Abs(BitConverter.SingleToInt32Bits(fast) - BitConverter.SingleToInt32Bits(exact)));
        }

        Assert.True(worst <= 2, $"max error {worst} ulp");
        Assert.True(float.IsNaN(FastLog.Log(System.Runtime.Intrinsics.Vector256.Create(float.NaN)).ToScalar()));
        Assert.Equal(float.PositiveInfinity, FastLog.Log(System.Runtime.Intrinsics.Vector256.Create(float.PositiveInfinity)).ToScalar());
        Assert.Equal(0f, FastLog.Log(System.Runtime.Intrinsics.Vector256.Create(1f)).ToScalar());
    }
}

/// <summary>Probability targets through the float lane paths, against the float64 row path (itself checked by the golden cases).</summary>
public class ProbabilityFastPathTests
{
    public static IEnumerable<object[]> Shapes()
    {
        int[][] shapes = [[37, 2, 1], [40, 3, 1], [33, 10, 1], [19, 32, 1], [9, 33, 1], [3, 5, 37], [2, 4, 600]];
        foreach (int[] shape in shapes)
        {
            foreach (Reduction reduction in new[] { Reduction.Mean, Reduction.None })
            {
                yield return [shape[0], shape[1], shape[2], false, 0.0, reduction];
                yield return [shape[0], shape[1], shape[2], true, 0.2, reduction];
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float_lanes_match_the_float64_path(int n, int c, int s, bool weighted, double eps, Reduction reduction)
    {
        var random = new XentRandom((ulong)((n * 100) + c + s));
        float[] x = [.. Enumerable.Range(0, n * c * s).Select(_ => random.NextSingle(-5, 5))];
        float[] t = [.. Enumerable.Range(0, n * c * s).Select(_ => random.NextSingle(0, 1))];
        x[1] = float.NegativeInfinity; // masked logit...
        t[1] = 0;                      // ...with zero target probability: NaN loss, finite gradient, as in PyTorch
        nint[] shape = s == 1 ? [n, c] : [n, c, s];
        var options = new CrossEntropyOptions { LabelSmoothing = eps, Weight = weighted ? [.. Enumerable.Range(0, c).Select(k => 0.5 + (k % 3))] : null, Reduction = reduction };
        var gf = new float[x.Length];
        var lf = new float[n * s];
        LossResult rf = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(x, shape), new ReadOnlyTensorSpan<float>(t, shape), options, lf, gf);
        double[] xd = [.. x.Select(v => (double)v)], td = [.. t.Select(v => (double)v)];
        var gd = new double[x.Length];
        var ld = new double[n * s];
        LossResult rd = CrossEntropy.Compute(new ReadOnlyTensorSpan<double>(xd, shape), new ReadOnlyTensorSpan<double>(td, shape), options, ld, gd);
        for (int i = 0; i < ld.Length; i++)
        {
            if (!double.IsFinite(ld[i]))
            {
                // NaN (zero target on a -inf logit) or +inf (smoothing puts ε/C there): the same in both precisions.
                Assert.True(ld[i].Equals((double)lf[i]), $"loss[{i}]: {lf[i]} vs {ld[i]}");
                continue;
            }

            Assert.True(Math.Abs(ld[i] - lf[i]) <= 2e-5 * Math.Max(1, Math.Abs(ld[i])), $"loss[{i}]: {lf[i]} vs {ld[i]}");
        }

        Assert.Equal(double.IsNaN(rd.Value), double.IsNaN(rf.Value));
        for (int i = 0; i < gd.Length; i++)
        {
            Assert.True(double.IsFinite(gd[i]) && float.IsFinite(gf[i]), $"grad[{i}] must be finite");
            Assert.True(Math.Abs(gd[i] - gf[i]) <= 2e-5, $"grad[{i}]: {gf[i]} vs {gd[i]}");
        }
    }
}
