using Xent.Kernels;
using Xent.Training;

namespace Xent.Tests;

[Collection(nameof(ParallelismCollection))]
public class SgemmTests
{
    public static IEnumerable<object[]> Shapes()
    {
        int[][] shapes = [[1, 1, 1], [7, 5, 3], [6, 32, 256], [13, 33, 257], [97, 65, 300], [64, 128, 64], [1, 100, 17], [200, 3, 9], [5, 2100, 11], [20, 10, 600], [9, 16, 40], [70, 130, 12], [3, 50, 16], [10, 130, 600], [16, 40, 64]];
        foreach (int[] s in shapes)
        {
            foreach (Transpose ta in Enum.GetValues<Transpose>())
            {
                foreach (Transpose tb in Enum.GetValues<Transpose>())
                {
                    yield return [s[0], s[1], s[2], ta, tb];
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_a_naive_reference_on_odd_shapes(int m, int n, int k, Transpose ta, Transpose tb)
    {
        var random = new XentRandom((ulong)((m * 31) + (n * 7) + k));
        int lda = (ta == Transpose.No ? k : m) + 3;
        int ldb = (tb == Transpose.No ? n : k) + 1;
        int ldc = n + 2;
        float[] a = Fill(random, (ta == Transpose.No ? m : k) * lda);
        float[] b = Fill(random, (tb == Transpose.No ? k : n) * ldb);
        float[] c = Fill(random, m * ldc);
        float[] expected = (float[])c.Clone();
        const float alpha = 0.75f, beta = -0.5f;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = ta == Transpose.No ? a[(i * lda) + p] : a[(p * lda) + i];
                    float bv = tb == Transpose.No ? b[(p * ldb) + j] : b[(j * ldb) + p];
                    sum += (double)av * bv;
                }

                expected[(i * ldc) + j] = (float)((alpha * sum) + (beta * c[(i * ldc) + j]));
            }
        }

        Sgemm.Multiply(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                float e = expected[(i * ldc) + j], got = c[(i * ldc) + j];
                Assert.True(Math.Abs(e - got) <= 1e-4f * Math.Max(1, Math.Sqrt(k)), $"C[{i},{j}]: expected {e}, got {got}");
            }
        }
    }

    [Fact]
    public void Beta_zero_ignores_NaN_in_C_and_alpha_zero_only_scales()
    {
        float[] a = [1, 2, 3, 4], b = [1, 0, 0, 1], c = [float.NaN, float.NaN, float.NaN, float.NaN];
        Sgemm.Multiply(Transpose.No, Transpose.No, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2);
        Assert.Equal([1f, 2, 3, 4], c);
        Sgemm.Multiply(Transpose.No, Transpose.No, 2, 2, 2, 0, a, 2, b, 2, 2, c, 2);
        Assert.Equal([2f, 4, 6, 8], c);
    }

    /// <summary>C is split along M when M &gt; N (300 × 200) and along N otherwise (64 × 520), into uneven ranges at 5 threads.</summary>
    [Theory]
    [InlineData(300, 200, 700)]
    [InlineData(64, 520, 300)]
    public void Results_are_bit_identical_for_any_thread_count(int m, int n, int k)
    {
        var random = new XentRandom(5);
        float[] a = Fill(random, m * k), b = Fill(random, k * n);
        int saved = Parallelism.MaxDegree;
        try
        {
            float[] Run(int threads)
            {
                Parallelism.MaxDegree = threads;
                var c = new float[m * n];
                Sgemm.Multiply(Transpose.No, Transpose.Yes, m, n, k, 1, a, k, b, k, 0, c, n);
                return c;
            }

            float[] one = Run(1);
            Assert.True(one.AsSpan().SequenceEqual(Run(2)));
            Assert.True(one.AsSpan().SequenceEqual(Run(5)));
        }
        finally
        {
            Parallelism.MaxDegree = saved;
        }
    }

    /// <summary>
    /// The direct paths (a product at most 16 wide; k or m at most 16) sum each element as the packed path does, so a
    /// small product equals the same rows or columns of a product big enough for the packed path, bit for bit.
    /// Rows = the small product's m×n×k; the big one widens n (narrow), widens m past the direct paths' flop limit
    /// (short k), or widens m (few rows).
    /// </summary>
    [Theory]
    [InlineData(64, 10, 128, 1, 40, Transpose.No, Transpose.Yes)]
    [InlineData(33, 9, 70, 1, 40, Transpose.No, Transpose.Yes)]
    [InlineData(200, 3, 9, 3000, 40, Transpose.Yes, Transpose.No)]
    [InlineData(19, 16, 300, 1, 48, Transpose.No, Transpose.No)]
    [InlineData(64, 128, 10, 1024, 128, Transpose.No, Transpose.No)]
    [InlineData(10, 128, 64, 40, 128, Transpose.Yes, Transpose.No)]
    [InlineData(7, 77, 200, 40, 77, Transpose.No, Transpose.No)]
    public void The_direct_paths_give_the_packed_paths_bits(int m, int n, int k, int bigM, int bigN, Transpose ta, Transpose tb)
    {
        bigM = Math.Max(bigM, m);
        var random = new XentRandom((ulong)((m * 131) + (n * 17) + k));
        // The big operands; the small product reads their leading rows and columns (same strides).
        int lda = ta == Transpose.No ? k : bigM, ldb = tb == Transpose.No ? bigN : k;
        float[] a = Fill(random, (ta == Transpose.No ? bigM : k) * lda);
        float[] b = Fill(random, (tb == Transpose.No ? k : bigN) * ldb);
        float[] c0 = Fill(random, bigM * bigN);
        float[] big = (float[])c0.Clone(), small = (float[])c0.Clone();
        Sgemm.Multiply(ta, tb, bigM, bigN, k, 0.75f, a, lda, b, ldb, -0.3f, big, bigN);
        Sgemm.Multiply(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, -0.3f, small, bigN);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                Assert.True(
                    BitConverter.SingleToInt32Bits(big[(i * bigN) + j]) == BitConverter.SingleToInt32Bits(small[(i * bigN) + j]),
                    $"C[{i},{j}]: packed {big[(i * bigN) + j]:R}, direct {small[(i * bigN) + j]:R}");
            }
        }
    }

    [Fact]
    public void Short_spans_and_bad_strides_are_rejected_with_the_operand_named()
    {
        var e = Assert.Throws<ArgumentException>(() => Sgemm.Multiply(Transpose.No, Transpose.No, 2, 2, 2, 1, new float[3], 2, new float[4], 2, 0, new float[4], 2));
        Assert.Equal("a", e.ParamName);
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => Sgemm.Multiply(Transpose.No, Transpose.No, 2, 2, 2, 1, new float[4], 1, new float[4], 2, 0, new float[4], 2));
        Assert.Equal("lda", e2.ParamName);
    }

    public static IEnumerable<object[]> PackedShapes()
    {
        int[] rows = [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 13, 64, 100];
        int[][] nk = [[1, 1], [10, 256], [33, 257], [256, 784], [17, 5], [70, 600], [10, 600], [16, 40], [128, 10], [40, 16], [128, 600]];
        foreach (int m in rows)
        {
            foreach (int[] s in nk)
            {
                yield return [m, s[0], s[1], (m + s[0]) % 2 == 0 ? Transpose.Yes : Transpose.No];
            }
        }
    }

    [Theory]
    [MemberData(nameof(PackedShapes))]
    public void A_packed_product_with_bias_and_relu_equals_the_ordinary_product_then_bias_then_relu_bit_for_bit(int m, int n, int k, Transpose tb)
    {
        var random = new XentRandom((ulong)((m * 131) + (n * 17) + k));
        int lda = k + 3, ldb = (tb == Transpose.No ? n : k) + 1, ldc = n + 2;
        float[] a = Fill(random, m * lda), b = Fill(random, (tb == Transpose.No ? k : n) * ldb), bias = Fill(random, n);
        PackedMatrix packed = PackedMatrix.Pack(tb, k, n, b, ldb);
        Assert.Equal((k, n), (packed.K, packed.N));
        foreach ((bool withBias, bool relu) in new[] { (false, false), (true, false), (true, true) })
        {
            float[] expected = Fill(random, m * ldc), got = (float[])expected.Clone();
            Sgemm.Multiply(Transpose.No, tb, m, n, k, 1, a, lda, b, ldb, 0, expected, ldc);
            for (int i = 0; i < m; i++)
            {
                Span<float> row = expected.AsSpan(i * ldc, n);
                if (withBias)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(row, bias, row);
                }

                if (relu)
                {
                    new Xent.Nn.ReLU(n).Forward(row, row, 1, training: false);
                }
            }

            Sgemm.MultiplyPacked(m, a, lda, packed, withBias ? bias : default, relu, got, ldc);
            Assert.True(
                System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(expected).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(got)),
                $"bias {withBias}, relu {relu}: first difference at {expected.AsSpan().CommonPrefixLength(got)}");
        }
    }

    [Fact]
    public void Packed_results_are_bit_identical_for_any_thread_count()
    {
        var random = new XentRandom(6);
        const int m = 301, n = 200, k = 700;
        float[] a = Fill(random, m * k), w = Fill(random, n * k), bias = Fill(random, n);
        PackedMatrix packed = PackedMatrix.Pack(Transpose.Yes, k, n, w, k);
        int saved = Parallelism.MaxDegree;
        try
        {
            float[] Run(int threads, int rows)
            {
                Parallelism.MaxDegree = threads;
                var c = new float[rows * n];
                Sgemm.MultiplyPacked(rows, a.AsSpan(0, rows * k), k, packed, bias, relu: true, c, n);
                return c;
            }

            foreach (int rows in new[] { 1, 64, m })
            {
                float[] one = Run(1, rows);
                Assert.True(one.AsSpan().SequenceEqual(Run(2, rows)));
                Assert.True(one.AsSpan().SequenceEqual(Run(5, rows)));
                Assert.True(one.AsSpan().SequenceEqual(Run(16, rows)));
            }
        }
        finally
        {
            Parallelism.MaxDegree = saved;
        }
    }

    [Fact]
    public void Packed_products_reject_bad_operands_with_the_operand_named()
    {
        PackedMatrix packed = PackedMatrix.Pack(Transpose.No, 2, 3, new float[6], 3);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => Sgemm.MultiplyPacked(1, new float[2], 2, packed, new float[2], false, new float[3], 3)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Sgemm.MultiplyPacked(2, new float[3], 2, packed, default, false, new float[6], 3)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Sgemm.MultiplyPacked(2, new float[4], 2, packed, default, false, new float[5], 3)).ParamName);
        Assert.Equal("ldb", Assert.Throws<ArgumentOutOfRangeException>(() => PackedMatrix.Pack(Transpose.Yes, 2, 3, new float[6], 1)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => PackedMatrix.Pack(Transpose.Yes, 2, 3, new float[5], 2)).ParamName);
    }

    internal static float[] Fill(XentRandom random, int length)
    {
        var v = new float[length];
        for (int i = 0; i < length; i++)
        {
            v[i] = random.NextSingle(-1, 1);
        }

        return v;
    }
}

public class XentRandomTests
{
    [Fact]
    public void The_sequence_is_fixed_by_the_seed_and_the_state_round_trips()
    {
        var a = new XentRandom(42);
        var b = new XentRandom(42);
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(a.NextUInt64(), b.NextUInt64());
        }

        var restored = XentRandom.FromState(a.GetState());
        Assert.Equal(a.NextUInt64(), restored.NextUInt64());
        Assert.NotEqual(new XentRandom(1).NextUInt64(), new XentRandom(2).NextUInt64());
    }

    [Fact]
    public void NextSingles_gives_the_values_and_state_of_as_many_NextSingle_calls()
    {
        var one = new XentRandom(7);
        var bulk = new XentRandom(7);
        var values = new float[1003];
        bulk.NextSingles(values);
        Assert.Equal(Enumerable.Range(0, values.Length).Select(_ => one.NextSingle()), values);
        Assert.Equal(one.GetState(), bulk.GetState());
        Assert.Equal(one.NextUInt64(), bulk.NextUInt64());
    }

    [Fact]
    public void The_first_outputs_are_pinned_so_the_algorithm_cannot_change_silently()
    {
        // xoshiro256** seeded through SplitMix64(0): the published first output.
        Assert.Equal(0x99EC5F36CB75F2B4UL, new XentRandom(0).NextUInt64());
    }

    [Fact]
    public void NextInt_is_uniform_and_in_range()
    {
        var r = new XentRandom(7);
        var counts = new int[6];
        for (int i = 0; i < 60000; i++)
        {
            counts[r.NextInt(6)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 9500, 10500));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.NextInt(0));
    }

    [Fact]
    public void Singles_and_doubles_lie_in_the_unit_interval()
    {
        var r = new XentRandom(3);
        for (int i = 0; i < 10000; i++)
        {
            Assert.InRange(r.NextSingle(), 0f, 0.99999994f);
            Assert.InRange(r.NextDouble(), 0.0, 0.9999999999999999);
        }
    }
}
