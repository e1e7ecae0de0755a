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
