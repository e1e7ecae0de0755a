using Xent.Kernels;

namespace Xent.Tests;

/// <summary>
/// The row operations finish a row whose length is not a multiple of the vector width with one overlapping last
/// vector (its already-done lanes masked out of the sums). These tests cover every remainder, in place and not.
/// </summary>
public class RowOpsTailTests
{
    private static float[] Row(int n, int seed)
    {
        var random = new XentRandom((ulong)seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)(3 * random.NextGaussian());
        }

        return x;
    }

    [Fact]
    public void MaxMin_gives_both_ends_and_NaN_wherever_a_NaN_is_for_every_length()
    {
        for (int n = 1; n <= 70; n++)
        {
            float[] x = Row(n, 100 + n);
            Assert.Equal(x.Max(), RowOps.MaxMin<float>(x, out float min));
            Assert.Equal(x.Min(), min);
            double[] xd = [.. x.Select(v => (double)v)];
            Assert.Equal(xd.Max(), RowOps.MaxMin<double>(xd, out double dmin));
            Assert.Equal(xd.Min(), dmin);
            for (int at = 0; at < n; at += 5)
            {
                float[] y = (float[])x.Clone();
                y[at] = float.NaN;
                Assert.True(float.IsNaN(RowOps.MaxMin<float>(y, out float nanMin)), $"n = {n}, NaN at {at}: the maximum");
                Assert.True(float.IsNaN(nanMin), $"n = {n}, NaN at {at}: the minimum");
                Assert.True(float.IsNaN(RowOps.Max<float>(y)), $"n = {n}, NaN at {at}: Max");
                y[at] = float.NegativeInfinity;
                Assert.Equal(y.Max(), RowOps.MaxMin<float>(y, out float infMin));
                Assert.Equal(float.NegativeInfinity, infMin);
            }
        }
    }

    [Fact]
    public void Max_is_the_maximum_for_every_length()
    {
        for (int n = 1; n <= 70; n++)
        {
            float[] x = Row(n, n);
            for (int at = 0; at < n; at += 7)
            {
                float[] y = (float[])x.Clone();
                y[at] = 100;
                Assert.Equal(100f, RowOps.Max<float>(y));
            }

            Assert.Equal(x.Max(), RowOps.Max<float>(x));
        }
    }

    [Fact]
    public void SumExp_counts_each_element_once_in_place_or_not_for_every_length()
    {
        for (int n = 1; n <= 70; n++)
        {
            float[] x = Row(n, 100 + n);
            float[] w = Row(n, 200 + n);
            float m = x.Max();
            double want = x.Sum(v => Math.Exp(v - m));
            double wantShift = x.Select((v, i) => (double)w[i] * (v - m)).Sum();
            var store = new float[n];
            float got = RowOps.SumExp<float>(x, m, w, true, out float shift, store);
            Assert.Equal(want, got, want * 1e-5);
            Assert.Equal(wantShift, shift, Math.Abs(wantShift) * 1e-5 + 1e-4);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(Math.Exp(x[i] - m), store[i], 1e-6);
            }

            // In place: the exps overwrite the logits; the sums and stored values are the same bits.
            float[] inPlace = (float[])x.Clone();
            float gotInPlace = RowOps.SumExp<float>(inPlace, m, w, true, out float shiftInPlace, inPlace);
            Assert.Equal(got, gotInPlace);
            Assert.Equal(shift, shiftInPlace);
            Assert.Equal(store, inPlace);
        }
    }

    [Fact]
    public void SumExpScaled_leaves_out_the_skipped_index_wherever_it_is()
    {
        for (int n = 1; n <= 40; n++)
        {
            float[] x = Row(n, 300 + n);
            float m = x.Max();
            for (int skip = -1; skip < n; skip++)
            {
                double want = 0;
                for (int i = 0; i < n; i++)
                {
                    want += i == skip ? 0 : Math.Exp(Math.Max((x[i] - m) * 2.0, FastExp.SmallestNormalExponent));
                }

                float[] inPlace = (float[])x.Clone();
                float got = RowOps.SumExpScaled<float>(inPlace, m, 2f, skip, inPlace);
                Assert.Equal(want, got, want * 1e-5);
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal(Math.Exp(Math.Max((x[i] - m) * 2.0, FastExp.SmallestNormalExponent)), inPlace[i], 1e-6);
                }
            }
        }
    }

    [Fact]
    public void SumExpOffset_counts_each_element_once_in_place()
    {
        for (int n = 1; n <= 70; n++)
        {
            float[] x = Row(n, 400 + n);
            float[] o = Row(n, 500 + n);
            float m = x.Zip(o, (a, b) => a + b).Max();
            double want = x.Select((v, i) => Math.Exp(v + o[i] - m)).Sum();
            float[] inPlace = (float[])x.Clone();
            float got = RowOps.SumExpOffset<float>(inPlace, o, m, inPlace);
            Assert.Equal(want, got, want * 1e-5);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(Math.Exp(x[i] + o[i] - m), inPlace[i], 1e-6);
            }
        }
    }

    [Fact]
    public void ScaleAndOffset_gives_each_element_its_scalar_value_once()
    {
        for (int n = 1; n <= 70; n++)
        {
            float[] g = Row(n, 600 + n);
            float[] w = Row(n, 700 + n);
            float[] want = [.. g.Select((v, i) => (v * 0.5f) - (0.25f * w[i]))];
            RowOps.ScaleAndOffset<float>(g, 0.5f, 0.25f, w);
            Assert.Equal(want, g);
        }
    }

    [Fact]
    public void Double_rows_of_every_length_sum_each_element_once()
    {
        for (int n = 1; n <= 40; n++)
        {
            double[] x = [.. Row(n, 800 + n).Select(v => (double)v)];
            double m = x.Max();
            double want = x.Sum(v => Math.Exp(v - m));
            double[] inPlace = (double[])x.Clone();
            double got = RowOps.SumExp<double>(inPlace, m, default, false, out _, inPlace);
            Assert.Equal(want, got, want * 1e-12);
        }
    }
}
