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

        // 256-bit, on [−87, 0] (the range of NormalExp, which the kernels take when a row's max − min ≤ 87), from L1.
        var small = new float[4096];
        var smallOut = new float[small.Length];
        for (int i = 0; i < small.Length; i++)
        {
            small[i] = (float)(-87 * random.NextDouble());
        }

        double runtime256 = Measure.MedianMilliseconds(() => Sweep<RuntimeExp>(small, smallOut));
        double fast256 = Measure.MedianMilliseconds(() => Sweep<FullExp>(small, smallOut));
        double normal256 = Measure.MedianMilliseconds(() => Sweep<NormalRangeExp>(small, smallOut));
        yield return new Row("FastExp (Vector256)", "4096 floats x 1024, L1", fast256, "Vector256.Exp", runtime256);
        yield return new Row("FastExp.NormalExp (Vector256)", "4096 floats x 1024, L1", normal256, "FastExp (Vector256)", fast256, "the same bits on [-87, 87]");
    }

    /// <summary>One exp over 256-bit vectors, as a type so that the sweep inlines it (a delegate would cost a call per vector).</summary>
    private interface IExp256
    {
        static abstract Vector256<float> Exp(Vector256<float> x);
    }

    private readonly struct RuntimeExp : IExp256
    {
        public static Vector256<float> Exp(Vector256<float> x) => Vector256.Exp(x);
    }

    private readonly struct FullExp : IExp256
    {
        public static Vector256<float> Exp(Vector256<float> x) => FastExp.Exp(x);
    }

    private readonly struct NormalRangeExp : IExp256
    {
        public static Vector256<float> Exp(Vector256<float> x) => FastExp.NormalExp(x);
    }

    private static void Sweep<TExp>(float[] input, float[] output)
        where TExp : struct, IExp256
    {
        for (int rep = 0; rep < 1024; rep++)
        {
            for (int i = 0; i < input.Length; i += 8)
            {
                TExp.Exp(Vector256.LoadUnsafe(ref input[i])).StoreUnsafe(ref output[i]);
            }
        }
    }
}
