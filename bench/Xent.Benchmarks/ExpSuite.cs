using System.Runtime.Intrinsics;
using Xent.Kernels;

namespace Xent.Benchmarks;

/// <summary>
/// Xent's single-precision exp: its maximum error in ulp over [-88, 0] (every float in the range, against
/// double-precision exp rounded to float) and its throughput as a ratio to the runtime's Vector512.Exp.
/// </summary>
internal static class ExpSuite
{
    public static (int MaxUlp, float At, long Checked) MaxError()
    {
        int worst = 0;
        float worstAt = 0;
        long count = 0;
        // Every float from -88 up to 0: walk the bit patterns downward in magnitude.
        for (int bits = BitConverter.SingleToInt32Bits(-88f); bits < 0 && bits != int.MinValue; bits--)
        {
            float x = BitConverter.Int32BitsToSingle(bits);
            float fast = FastExp.Exp(x);
            float exact = (float)Math.Exp(x);
            int ulps = Math.Abs(BitConverter.SingleToInt32Bits(fast) - BitConverter.SingleToInt32Bits(exact));
            count++;
            if (ulps > worst)
            {
                worst = ulps;
                worstAt = x;
            }
        }

        return (worst, worstAt, count);
    }

    public static IEnumerable<Row> Run()
    {
        var input = new float[1 << 16];
        var output = new float[input.Length];
        var random = new Random(3);
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)(-88 * random.NextDouble());
        }

        double runtime = Measure.MedianMilliseconds(() =>
        {
            for (int rep = 0; rep < 64; rep++)
            {
                for (int i = 0; i < input.Length; i += 16)
                {
                    Vector512.Exp(Vector512.LoadUnsafe(ref input[i])).StoreUnsafe(ref output[i]);
                }
            }
        });
        double fast = Measure.MedianMilliseconds(() =>
        {
            for (int rep = 0; rep < 64; rep++)
            {
                for (int i = 0; i < input.Length; i += 16)
                {
                    FastExp.Exp(Vector512.LoadUnsafe(ref input[i])).StoreUnsafe(ref output[i]);
                }
            }
        });
        yield return new Row("FastExp (Vector512)", "4M floats", fast, "Vector512.Exp", runtime);
    }
}
