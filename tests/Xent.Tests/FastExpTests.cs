using System.Runtime.Intrinsics;
using Xent.Kernels;

namespace Xent.Tests;

public class FastExpTests
{
    [Fact]
    public void Max_error_over_minus_88_to_0_is_at_most_2_ulp()
    {
        int worst = 0;
        float worstAt = 0;
        for (float x = -88f; x <= 0f; x += 0.000731f)
        {
            float fast = FastExp.Exp(x);
            float exact = (float)Math.Exp(x);
            int ulps = Math.Abs(BitConverter.SingleToInt32Bits(fast) - BitConverter.SingleToInt32Bits(exact));
            if (ulps > worst)
            {
                worst = ulps;
                worstAt = x;
            }
        }

        Assert.True(worst <= 2, $"max error {worst} ulp at x = {worstAt:R}");
        Assert.Equal(1f, FastExp.Exp(0f));
    }

    [Fact]
    public void The_normal_range_exp_has_the_full_exps_bits_over_minus_87_to_87_and_keeps_NaN()
    {
        int differing = 0, count = 0;
        string? first = null;
        for (float x = -FastExp.NormalRange; x <= FastExp.NormalRange; x += 0.000913f)
        {
            var v = Vector256.Create(x, -x, x * 0.5f, -FastExp.NormalRange, FastExp.NormalRange, 0f, -0f, x * 0.25f);
            Vector256<float> full = FastExp.Exp(v), normal = FastExp.NormalExp(v);
            count++;
            for (int i = 0; i < 8; i++)
            {
                if (BitConverter.SingleToInt32Bits(full[i]) != BitConverter.SingleToInt32Bits(normal[i]))
                {
                    differing++;
                    first ??= $"exp({v[i]:R}): {normal[i]:R} against {full[i]:R}";
                }
            }
        }

        Assert.True(count > 190_000, $"{count} values");
        Assert.True(differing == 0, $"{differing} of {8 * count} values differ; first {first}");
        Assert.True(float.IsNaN(FastExp.NormalExp(Vector256.Create(float.NaN))[0]));
    }

    [Fact]
    public void The_512_bit_normal_range_exp_has_the_full_exps_bits_and_keeps_NaN()
    {
        // With AVX-512 the scaled exp without its clamp and select; without it, the portable exp (trivially equal).
        int differing = 0, count = 0;
        string? first = null;
        for (float x = -FastExp.NormalRange; x <= FastExp.NormalRange; x += 0.000913f)
        {
            var v = Vector512.Create(Vector256.Create(x, -x, x * 0.5f, -FastExp.NormalRange, FastExp.NormalRange, 0f, -0f, x * 0.25f), Vector256.Create(x * 0.125f, -x * 0.75f, x + 0.5f, x - 0.5f, 1e-30f, -1e-30f, x * 0.0625f, -x * 0.375f));
            v = Vector512.Min(Vector512.Max(v, Vector512.Create(-FastExp.NormalRange)), Vector512.Create(FastExp.NormalRange));
            Vector512<float> full = FastExp.Exp(v), normal = FastExp.NormalExp(v);
            count++;
            for (int i = 0; i < 16; i++)
            {
                if (BitConverter.SingleToInt32Bits(full[i]) != BitConverter.SingleToInt32Bits(normal[i]))
                {
                    differing++;
                    first ??= $"exp({v[i]:R}): {normal[i]:R} against {full[i]:R}";
                }
            }
        }

        Assert.True(count > 190_000, $"{count} values");
        Assert.True(differing == 0, $"{differing} of {16 * count} values differ; first {first}");
        Assert.True(float.IsNaN(FastExp.NormalExp(Vector512.Create(float.NaN))[3]));
    }

    [Fact]
    public void Special_values_follow_IEEE()
    {
        var v = Vector256.Create(float.NegativeInfinity, float.PositiveInfinity, float.NaN, -200f, 100f, -103f, 88.7f, -1e4f);
        Vector256<float> r = FastExp.Exp(v);
        Assert.Equal(0f, r[0]);
        Assert.Equal(float.PositiveInfinity, r[1]);
        Assert.True(float.IsNaN(r[2]));
        Assert.Equal(0f, r[3]);
        Assert.Equal(float.PositiveInfinity, r[4]);
        Assert.True(r[5] > 0 && r[5] < 1e-44f, "a subnormal result is kept, not flushed");
        Assert.True(Math.Abs(r[6] / Math.Exp((double)88.7f) - 1) < 3e-7, $"exp(88.7f) = {r[6]}");
        Assert.Equal(0f, r[7]);
        Vector512<float> wide = FastExp.Exp(Vector512.Create(v, v));
        Assert.Equal(r, wide.GetUpper());
    }
}

/// <summary>The AVX-512 exp (VSCALEFPS) against the portable one: the same bits wherever the kernels use it.</summary>
public class ScaledExpTests
{
    [Fact]
    public void The_scaled_exp_has_the_portable_exps_bits_from_minus_103_5_to_88_7_and_at_special_values()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported)
        {
            return; // the portable path is the only one here
        }

        // Every 211th float of the range (over 10 million values: the subnormal results, the range near 0 and the
        // overflow edge among them), then the special values.
        var x = new float[16];
        int count = 0, differing = 0;
        string? first = null;
        void Check()
        {
            Vector512<float> v = Vector512.Create(x);
            Vector512<float> scaled = FastExp.ScaledExp(v), portable = FastExp.PortableExp(v);
            Vector256<float> low = FastExp.ScaledExp(v.GetLower()), lowPortable = FastExp.PortableExp(v.GetLower());
            for (int i = 0; i < 16; i++)
            {
                bool same = BitConverter.SingleToInt32Bits(scaled[i]) == BitConverter.SingleToInt32Bits(portable[i])
                    && (i >= 8 || BitConverter.SingleToInt32Bits(low[i]) == BitConverter.SingleToInt32Bits(lowPortable[i]));
                if (!same)
                {
                    differing++;
                    first ??= $"exp({x[i]:R}): {scaled[i]:R} against {portable[i]:R}";
                }
            }
        }

        foreach ((float from, float to) in new[] { (-103.5f, 0f), (0f, 88.7f) })
        {
            int a = BitConverter.SingleToInt32Bits(from), b = BitConverter.SingleToInt32Bits(to);
            int lo = Math.Min(a, b), hi = Math.Max(a, b);
            for (long bits = lo; bits <= hi; bits += 211)
            {
                x[count++ % 16] = BitConverter.Int32BitsToSingle((int)bits);
                if (count % 16 == 0)
                {
                    Check();
                }
            }
        }

        float[] special = [float.NegativeInfinity, float.PositiveInfinity, float.NaN, -0f, 0f, -1e4f, 1e4f, -103.972f, -104f, -87.3365f, 88.72f, 89f, -1e-30f, 1e-30f, float.Epsilon, -float.Epsilon];
        special.CopyTo(x, 0);
        Vector512<float> s = FastExp.ScaledExp(Vector512.Create(x));
        Assert.Equal(0f, s[0]);
        Assert.Equal(float.PositiveInfinity, s[1]);
        Assert.True(float.IsNaN(s[2]));
        Assert.Equal(1f, s[3]);
        Assert.Equal(1f, s[4]);
        Assert.Equal(0f, s[5]);
        Assert.Equal(float.PositiveInfinity, s[6]);
        Assert.Equal(0f, s[8]);
        Assert.Equal(float.PositiveInfinity, s[11]);
        Assert.True(count > 10_000_000, $"{count} values");
        Assert.True(differing == 0, $"{differing} of {count} values differ; first {first}");
    }
}
