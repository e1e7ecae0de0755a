using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xent.Kernels;

public static partial class Sgemm
{
    /// <summary>Packed GEMMs below this many flops run on the calling thread.</summary>
    private const long PackedParallelFlops = 1L << 21;

    /// <summary>The rows of a packed microkernel tile: 8 with Vector512 (32 registers), 6 otherwise.</summary>
    private static int PackedRows => Vector512.IsHardwareAccelerated ? 8 : MR;

    /// <summary>
    /// The columns of a packed panel (and of a microkernel tile) for a product n wide: two vectors, or one vector when
    /// n fits in one (a narrow output layer), so that the tile does not multiply a panel of zeros.
    /// </summary>
    internal static int PanelWidthFor(int n)
    {
        int w = Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256.IsHardwareAccelerated ? Vector256<float>.Count : NR;
        return n <= w ? w : 2 * w;
    }

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
                if (degree > 1 && !WorkerPool.InParallelRegion && 2L * m * b.N * b.K >= PackedParallelFlops)
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
        int nr = job.Nr, w = TV.Count;
        float* tile = stackalloc float[8 * 2 * Vector512<float>.Count];
        long lda = job.Lda, panelSize = (long)job.K * nr;
        float** rowsOf = stackalloc float*[8];
        if (nr == w)
        {
            // One narrow panel (an output layer): eight rows of one vector, missing rows repeating the last one.
            for (int i = rowStart; i < rowEnd; i += 8)
            {
                int rows = Math.Min(8, rowEnd - i);
                Rows(job.A + (i * lda), lda, rows, 8, rowsOf);
                for (int panel = panelStart; panel < panelEnd; panel++)
                {
                    NarrowTile<TV>(rowsOf, job.B + (panel * panelSize), job.K, tile);
                    Store<TV>(job, tile, rows, i, panel);
                }
            }

            return;
        }

        int mr = PackedRows;
        int i0 = rowStart;
        for (; rowEnd - i0 > 3; i0 += mr)
        {
            // Up to mr rows; missing rows repeat the last one (computed, not stored).
            int rows = Math.Min(mr, rowEnd - i0);
            Rows(job.A + (i0 * lda), lda, rows, mr, rowsOf);
            for (int panel = panelStart; panel < panelEnd; panel++)
            {
                float* b = job.B + (panel * panelSize);
                if (mr == 8)
                {
                    Tile8<TV>(rowsOf, b, job.K, tile);
                }
                else
                {
                    Tile<TV>(rowsOf[0], rowsOf[1], rowsOf[2], rowsOf[3], rowsOf[4], rowsOf[5], b, job.K, tile);
                }

                Store<TV>(job, tile, rows, i0, panel);
            }
        }

        // Three rows or fewer left (or a batch that small): one row against four panels at a time.
        for (; i0 < rowEnd; i0++)
        {
            float* a = job.A + (i0 * lda);
            for (int panel = panelStart; panel < panelEnd; panel += 4)
            {
                int count = Math.Min(4, panelEnd - panel);
                float* b0 = job.B + (panel * panelSize);
                RowTile<TV>(a, b0, b0 + (Math.Min(1, count - 1) * panelSize), b0 + (Math.Min(2, count - 1) * panelSize), b0 + (Math.Min(3, count - 1) * panelSize), job.K, tile);
                for (int q = 0; q < count; q++)
                {
                    Store<TV>(job, tile + (q * nr), 1, i0, panel + q);
                }
            }
        }
    }

    /// <summary>Pointers to <paramref name="count"/> rows from <paramref name="a"/>; those past <paramref name="rows"/> repeat the last row.</summary>
    private static unsafe void Rows(float* a, long lda, int rows, int count, float** pointers)
    {
        for (int r = 0; r < count; r++)
        {
            pointers[r] = a + (Math.Min(r, rows - 1) * lda);
        }
    }

    /// <summary>tile[8×nr] = a[0..8, 0..k]·panel, summed over k in blocks of KBlock(k) (each from zero, added in order). Vector512 only (24 registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile8<TV>(float** rows, float* b, int k, float* tile)
        where TV : struct, IFloatVector<TV>
    {
        int w = TV.Count, nr = 2 * w;
        float* a0 = rows[0], a1 = rows[1], a2 = rows[2], a3 = rows[3], a4 = rows[4], a5 = rows[5], a6 = rows[6], a7 = rows[7];
        for (int pc = 0, kb = KBlock(k); pc < k; pc += kb)
        {
            int end = Math.Min(pc + kb, k);
            TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            TV c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
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
                x = TV.Create(a6[p]);
                c60 = TV.FusedMultiplyAdd(x, b0, c60);
                c61 = TV.FusedMultiplyAdd(x, b1, c61);
                x = TV.Create(a7[p]);
                c70 = TV.FusedMultiplyAdd(x, b0, c70);
                c71 = TV.FusedMultiplyAdd(x, b1, c71);
            }

            bool first = pc == 0;
            Put(c00, tile, first); Put(c01, tile + w, first);
            Put(c10, tile + nr, first); Put(c11, tile + nr + w, first);
            Put(c20, tile + (2 * nr), first); Put(c21, tile + (2 * nr) + w, first);
            Put(c30, tile + (3 * nr), first); Put(c31, tile + (3 * nr) + w, first);
            Put(c40, tile + (4 * nr), first); Put(c41, tile + (4 * nr) + w, first);
            Put(c50, tile + (5 * nr), first); Put(c51, tile + (5 * nr) + w, first);
            Put(c60, tile + (6 * nr), first); Put(c61, tile + (6 * nr) + w, first);
            Put(c70, tile + (7 * nr), first); Put(c71, tile + (7 * nr) + w, first);
        }
    }

    /// <summary>tile[8×w] = a[0..8, 0..k]·panel for a one-vector panel, summed as <see cref="Tile8"/> sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void NarrowTile<TV>(float** rows, float* b, int k, float* tile)
        where TV : struct, IFloatVector<TV>
    {
        int w = TV.Count;
        float* a0 = rows[0], a1 = rows[1], a2 = rows[2], a3 = rows[3], a4 = rows[4], a5 = rows[5], a6 = rows[6], a7 = rows[7];
        for (int pc = 0, kb = KBlock(k); pc < k; pc += kb)
        {
            int end = Math.Min(pc + kb, k);
            TV c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
            float* bp = b + ((long)pc * w);
            for (int p = pc; p < end; p++, bp += w)
            {
                TV b0 = TV.Load(ref *bp);
                c0 = TV.FusedMultiplyAdd(TV.Create(a0[p]), b0, c0);
                c1 = TV.FusedMultiplyAdd(TV.Create(a1[p]), b0, c1);
                c2 = TV.FusedMultiplyAdd(TV.Create(a2[p]), b0, c2);
                c3 = TV.FusedMultiplyAdd(TV.Create(a3[p]), b0, c3);
                c4 = TV.FusedMultiplyAdd(TV.Create(a4[p]), b0, c4);
                c5 = TV.FusedMultiplyAdd(TV.Create(a5[p]), b0, c5);
                c6 = TV.FusedMultiplyAdd(TV.Create(a6[p]), b0, c6);
                c7 = TV.FusedMultiplyAdd(TV.Create(a7[p]), b0, c7);
            }

            bool first = pc == 0;
            Put(c0, tile, first); Put(c1, tile + w, first); Put(c2, tile + (2 * w), first); Put(c3, tile + (3 * w), first);
            Put(c4, tile + (4 * w), first); Put(c5, tile + (5 * w), first); Put(c6, tile + (6 * w), first); Put(c7, tile + (7 * w), first);
        }
    }

    /// <summary>The first k block's sum is stored; each later one is added to it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Put<TV>(TV block, float* total, bool first)
        where TV : struct, IFloatVector<TV>
        => TV.Store(first ? block : TV.Add(TV.Load(ref *total), block), ref *total);

    /// <summary>tile[6×nr] = a[0..6, 0..k]·panel, summed over k in blocks of KBlock(k) (each from zero, added in order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile<TV>(float* a0, float* a1, float* a2, float* a3, float* a4, float* a5, float* b, int k, float* tile)
        where TV : struct, IFloatVector<TV>
    {
        int w = TV.Count, nr = 2 * w;
        for (int pc = 0, kb = KBlock(k); pc < k; pc += kb)
        {
            int end = Math.Min(pc + kb, k);
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
        for (int pc = 0, kb = KBlock(k); pc < k; pc += kb)
        {
            int end = Math.Min(pc + kb, k);
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
                    for (int pc = 0, kb = KBlock(job.K); pc < job.K; pc += kb)
                    {
                        float block = 0;
                        for (int p = pc, end = Math.Min(pc + kb, job.K); p < end; p++)
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
