using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

public static partial class Sgemm
{
    /// <summary>Packed GEMMs below this many flops run on the calling thread.</summary>
    private const long PackedParallelFlops = 1L << 21;

    /// <summary>The columns of a packed panel (and of a microkernel tile).</summary>
    internal static int PanelWidth => NR;

    /// <summary>
    /// Computes C = A·op(B) (+ bias on every row) (then max(0, ·)), with op(B) packed once by <see cref="PackedMatrix.Pack"/>:
    /// the inference product of a linear layer (y = x·Wᵀ + b), optionally fused with the ReLU that follows it.
    /// </summary>
    /// <remarks>
    /// Bit-identical to <see cref="Multiply"/> with α = 1 and β = 0 followed by adding the bias and applying the ReLU:
    /// each element is summed over k in the same order (blocks of k, each from zero, added in order), and for any
    /// <see cref="Parallelism.MaxDegree"/>. A is read where it lies; only B is packed, and only once.
    /// </remarks>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="a">A's elements (m×k, row stride <paramref name="lda"/>).</param>
    /// <param name="lda">A's row stride.</param>
    /// <param name="b">op(B), packed (k×n).</param>
    /// <param name="bias">n values added to every row of C, or empty for none.</param>
    /// <param name="relu">Whether to apply max(0, ·) (as the ReLU layer: NaN propagates) after the bias.</param>
    /// <param name="c">C's elements (m×n, row stride <paramref name="ldc"/>), overwritten.</param>
    /// <param name="ldc">C's row stride.</param>
    /// <exception cref="ArgumentOutOfRangeException">m is negative or a stride is too small.</exception>
    /// <exception cref="ArgumentException">A span is too short for its matrix, or the bias is neither empty nor n long.</exception>
    public static void MultiplyPacked(int m, ReadOnlySpan<float> a, int lda, PackedMatrix b, ReadOnlySpan<float> bias, bool relu, Span<float> c, int ldc)
    {
        ArgumentNullException.ThrowIfNull(b);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        CheckOperand(a, m, b.K, lda, nameof(a), nameof(lda));
        CheckOperand(c, m, b.N, ldc, nameof(c), nameof(ldc));
        if (!bias.IsEmpty && bias.Length != b.N)
        {
            throw new ArgumentException($"The bias holds {bias.Length} values; the product has {b.N} columns.", nameof(bias));
        }

        if (m == 0)
        {
            return;
        }

        unsafe
        {
            fixed (float* pa = a)
            fixed (float* pb = b.Data)
            fixed (float* pbias = bias)
            fixed (float* pc = c)
            {
                var job = new PackedJob(m, b.K, b.N, b.PanelWidth, b.Panels, pa, lda, pb, bias.IsEmpty ? null : pbias, relu, pc, ldc);
                int degree = Parallelism.MaxDegree;
                if (degree > 1 && 2L * m * b.N * b.K >= PackedParallelFlops)
                {
                    // Work items are (row chunk, panel group) pairs; each element is still computed whole by one
                    // thread in the same order, so the split never changes a result.
                    int groups = Math.Min(degree, b.Panels);
                    int chunks = (degree + groups - 1) / groups;
                    PackedWork work = t_packedWork ??= new PackedWork();
                    (work.Job, work.Groups, work.Chunks) = (job, groups, chunks);
                    WorkerPool.For(groups * chunks, degree, work);
                }
                else
                {
                    RunPacked(job, 0, m, 0, b.Panels);
                }
            }
        }
    }

    [ThreadStatic]
    private static PackedWork? t_packedWork;

    private sealed class PackedWork : IParallelWork
    {
        public PackedJob Job;
        public int Groups, Chunks;

        public void Run(int index)
        {
            int group = index % Groups, chunk = index / Groups;
            int rowStart = (int)((long)Job.M * chunk / Chunks), rowEnd = (int)((long)Job.M * (chunk + 1) / Chunks);
            int panelStart = Job.Panels * group / Groups, panelEnd = Job.Panels * (group + 1) / Groups;
            RunPacked(Job, rowStart, rowEnd, panelStart, panelEnd);
        }
    }

    private readonly unsafe struct PackedJob(int m, int k, int n, int nr, int panels, float* a, int lda, float* b, float* bias, bool relu, float* c, int ldc)
    {
        public readonly int M = m, K = k, N = n, Nr = nr, Panels = panels, Lda = lda, Ldc = ldc;
        public readonly float* A = a, B = b, Bias = bias, C = c;
        public readonly bool Relu = relu;
    }

    private static void RunPacked(in PackedJob job, int rowStart, int rowEnd, int panelStart, int panelEnd)
    {
        if (rowStart >= rowEnd || panelStart >= panelEnd)
        {
            return;
        }

        if (Vector512.IsHardwareAccelerated)
        {
            RunPacked<V512>(job, rowStart, rowEnd, panelStart, panelEnd);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            RunPacked<V256>(job, rowStart, rowEnd, panelStart, panelEnd);
        }
        else
        {
            RunPackedScalar(job, rowStart, rowEnd, panelStart, panelEnd);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunPacked<TV>(in PackedJob job, int rowStart, int rowEnd, int panelStart, int panelEnd)
        where TV : struct, IFloatVector<TV>
    {
        int nr = job.Nr;
        float* tile = stackalloc float[MR * 2 * Vector512<float>.Count];
        long lda = job.Lda, panelSize = (long)job.K * nr;
        int i = rowStart;
        for (; rowEnd - i >= 3; i += MR)
        {
            // Up to six rows; missing rows repeat the last one (computed, not stored).
            int rows = Math.Min(MR, rowEnd - i);
            float* a0 = job.A + (i * lda);
            float* a1 = a0 + (Math.Min(1, rows - 1) * lda), a2 = a0 + (Math.Min(2, rows - 1) * lda);
            float* a3 = a0 + (Math.Min(3, rows - 1) * lda), a4 = a0 + (Math.Min(4, rows - 1) * lda), a5 = a0 + (Math.Min(5, rows - 1) * lda);
            for (int panel = panelStart; panel < panelEnd; panel++)
            {
                Tile<TV>(a0, a1, a2, a3, a4, a5, job.B + (panel * panelSize), job.K, tile);
                Store<TV>(job, tile, rows, i, panel);
            }
        }

        // One or two rows left (or a batch that small): one row against four panels at a time.
        for (; i < rowEnd; i++)
        {
            float* a = job.A + (i * lda);
            for (int panel = panelStart; panel < panelEnd; panel += 4)
            {
                int count = Math.Min(4, panelEnd - panel);
                float* b0 = job.B + (panel * panelSize);
                RowTile<TV>(a, b0, b0 + (Math.Min(1, count - 1) * panelSize), b0 + (Math.Min(2, count - 1) * panelSize), b0 + (Math.Min(3, count - 1) * panelSize), job.K, tile);
                for (int q = 0; q < count; q++)
                {
                    Store<TV>(job, tile + (q * nr), 1, i, panel + q);
                }
            }
        }
    }

    /// <summary>tile[6×nr] = a[0..6, 0..k]·panel, summed over k in blocks of KC (each from zero, added in order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile<TV>(float* a0, float* a1, float* a2, float* a3, float* a4, float* a5, float* b, int k, float* tile)
        where TV : struct, IFloatVector<TV>
    {
        int w = TV.Count, nr = 2 * w;
        for (int pc = 0; pc < k; pc += KC)
        {
            int end = Math.Min(pc + KC, k);
            TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            TV c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            float* bp = b + ((long)pc * nr);
            for (int p = pc; p < end; p++, bp += nr)
            {
                TV b0 = TV.Load(ref *bp), b1 = TV.Load(ref bp[w]);
                TV x = TV.Create(a0[p]);
                c00 = TV.FusedMultiplyAdd(x, b0, c00);
                c01 = TV.FusedMultiplyAdd(x, b1, c01);
                x = TV.Create(a1[p]);
                c10 = TV.FusedMultiplyAdd(x, b0, c10);
                c11 = TV.FusedMultiplyAdd(x, b1, c11);
                x = TV.Create(a2[p]);
                c20 = TV.FusedMultiplyAdd(x, b0, c20);
                c21 = TV.FusedMultiplyAdd(x, b1, c21);
                x = TV.Create(a3[p]);
                c30 = TV.FusedMultiplyAdd(x, b0, c30);
                c31 = TV.FusedMultiplyAdd(x, b1, c31);
                x = TV.Create(a4[p]);
                c40 = TV.FusedMultiplyAdd(x, b0, c40);
                c41 = TV.FusedMultiplyAdd(x, b1, c41);
                x = TV.Create(a5[p]);
                c50 = TV.FusedMultiplyAdd(x, b0, c50);
                c51 = TV.FusedMultiplyAdd(x, b1, c51);
            }

            if (pc == 0)
            {
                TV.Store(c00, ref tile[0]); TV.Store(c01, ref tile[w]);
                TV.Store(c10, ref tile[nr]); TV.Store(c11, ref tile[nr + w]);
                TV.Store(c20, ref tile[2 * nr]); TV.Store(c21, ref tile[(2 * nr) + w]);
                TV.Store(c30, ref tile[3 * nr]); TV.Store(c31, ref tile[(3 * nr) + w]);
                TV.Store(c40, ref tile[4 * nr]); TV.Store(c41, ref tile[(4 * nr) + w]);
                TV.Store(c50, ref tile[5 * nr]); TV.Store(c51, ref tile[(5 * nr) + w]);
            }
            else
            {
                Accumulate(c00, tile); Accumulate(c01, tile + w);
                Accumulate(c10, tile + nr); Accumulate(c11, tile + nr + w);
                Accumulate(c20, tile + (2 * nr)); Accumulate(c21, tile + (2 * nr) + w);
                Accumulate(c30, tile + (3 * nr)); Accumulate(c31, tile + (3 * nr) + w);
                Accumulate(c40, tile + (4 * nr)); Accumulate(c41, tile + (4 * nr) + w);
                Accumulate(c50, tile + (5 * nr)); Accumulate(c51, tile + (5 * nr) + w);
            }
        }
    }

    /// <summary>tile[4 panels × nr] = a[0..k]·(four panels), summed as <see cref="Tile"/> sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RowTile<TV>(float* a, float* b0, float* b1, float* b2, float* b3, int k, float* tile)
        where TV : struct, IFloatVector<TV>
    {
        int w = TV.Count, nr = 2 * w;
        for (int pc = 0; pc < k; pc += KC)
        {
            int end = Math.Min(pc + KC, k);
            TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            for (int p = pc; p < end; p++)
            {
                long o = (long)p * nr;
                TV x = TV.Create(a[p]);
                c00 = TV.FusedMultiplyAdd(x, TV.Load(ref b0[o]), c00);
                c01 = TV.FusedMultiplyAdd(x, TV.Load(ref b0[o + w]), c01);
                c10 = TV.FusedMultiplyAdd(x, TV.Load(ref b1[o]), c10);
                c11 = TV.FusedMultiplyAdd(x, TV.Load(ref b1[o + w]), c11);
                c20 = TV.FusedMultiplyAdd(x, TV.Load(ref b2[o]), c20);
                c21 = TV.FusedMultiplyAdd(x, TV.Load(ref b2[o + w]), c21);
                c30 = TV.FusedMultiplyAdd(x, TV.Load(ref b3[o]), c30);
                c31 = TV.FusedMultiplyAdd(x, TV.Load(ref b3[o + w]), c31);
            }

            if (pc == 0)
            {
                TV.Store(c00, ref tile[0]); TV.Store(c01, ref tile[w]);
                TV.Store(c10, ref tile[nr]); TV.Store(c11, ref tile[nr + w]);
                TV.Store(c20, ref tile[2 * nr]); TV.Store(c21, ref tile[(2 * nr) + w]);
                TV.Store(c30, ref tile[3 * nr]); TV.Store(c31, ref tile[(3 * nr) + w]);
            }
            else
            {
                Accumulate(c00, tile); Accumulate(c01, tile + w);
                Accumulate(c10, tile + nr); Accumulate(c11, tile + nr + w);
                Accumulate(c20, tile + (2 * nr)); Accumulate(c21, tile + (2 * nr) + w);
                Accumulate(c30, tile + (3 * nr)); Accumulate(c31, tile + (3 * nr) + w);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Accumulate<TV>(TV block, float* total)
        where TV : struct, IFloatVector<TV>
        => TV.Store(TV.Add(TV.Load(ref *total), block), ref *total);

    /// <summary>C[row..row+rows, panel's columns] = tile (+ bias) (ReLU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store<TV>(in PackedJob job, float* tile, int rows, int row, int panel)
        where TV : struct, IFloatVector<TV>
    {
        int w = TV.Count, nr = job.Nr;
        int col0 = panel * nr, cols = Math.Min(nr, job.N - col0);
        float* bias = job.Bias == null ? null : job.Bias + col0;
        for (int r = 0; r < rows; r++)
        {
            float* src = tile + (r * nr), dst = job.C + ((long)(row + r) * job.Ldc) + col0;
            int j = 0;
            for (; j <= cols - w; j += w)
            {
                TV v = TV.Load(ref src[j]);
                if (bias != null)
                {
                    v = TV.Add(v, TV.Load(ref bias[j]));
                }

                if (job.Relu)
                {
                    v = TV.Relu(v);
                }

                TV.Store(v, ref dst[j]);
            }

            for (; j < cols; j++)
            {
                dst[j] = Finish(src[j], bias == null ? 0f : bias[j], bias != null, job.Relu);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(float sum, float bias, bool hasBias, bool relu)
    {
        float v = hasBias ? sum + bias : sum;
        return relu && !float.IsNaN(v) ? MathF.Max(v, 0f) : v;
    }

    /// <summary>Without SIMD: element by element, in the same order as the vector paths.</summary>
    private static unsafe void RunPackedScalar(in PackedJob job, int rowStart, int rowEnd, int panelStart, int panelEnd)
    {
        int nr = job.Nr;
        for (int i = rowStart; i < rowEnd; i++)
        {
            float* a = job.A + ((long)i * job.Lda);
            for (int panel = panelStart; panel < panelEnd; panel++)
            {
                float* b = job.B + ((long)panel * job.K * nr);
                int col0 = panel * nr, cols = Math.Min(nr, job.N - col0);
                for (int j = 0; j < cols; j++)
                {
                    float total = 0;
                    for (int pc = 0; pc < job.K; pc += KC)
                    {
                        float block = 0;
                        for (int p = pc, end = Math.Min(pc + KC, job.K); p < end; p++)
                        {
                            block = MathF.FusedMultiplyAdd(a[p], b[((long)p * nr) + j], block);
                        }

                        total = pc == 0 ? block : total + block;
                    }

                    job.C[((long)i * job.Ldc) + col0 + j] = Finish(total, job.Bias == null ? 0f : job.Bias[col0 + j], job.Bias != null, job.Relu);
                }
            }
        }
    }
}
