using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xent.Kernels;

/// <summary>Whether a GEMM operand is used as stored or transposed.</summary>
public enum Transpose
{
    /// <summary>As stored.</summary>
    No,

    /// <summary>Transposed.</summary>
    Yes,
}

/// <summary>
/// Single-precision matrix multiply, row-major: C = α·op(A)·op(B) + β·C, with op(A) of size m×k and op(B) of
/// size k×n. Blocked and packed (GotoBLAS layout): B is packed into panels NR columns wide, A into panels MR rows
/// high, and an FMA microkernel (6×32 with Vector512, 6×16 with Vector256, scalar otherwise) accumulates each
/// tile. The transposed variants only change how operands are packed; nothing is copied beyond the packing.
/// </summary>
/// <remarks>
/// Each element of C is summed over k in the same order whatever the thread count, so results are bit-identical
/// for any <see cref="Parallelism.MaxDegree"/>. As in BLAS, β = 0 ignores C's previous contents (NaN included).
/// </remarks>
public static partial class Sgemm
{
    private const int MR = 6;
    private const int KC = 256;
    private const int MC = 192;
    private const int NC = 2048;
    /// <summary>GEMMs below this many flops run on the calling thread (scheduling would cost more than it saves).</summary>
    private const long ParallelFlops = 1L << 21;

    private static int NR => Vector512.IsHardwareAccelerated ? 32 : 16;

    /// <summary>
    /// The k blocks' length: k in ⌈k / KC⌉ blocks of (nearly) equal length, at most KC, so that no pass over C is
    /// spent on a short last block (784 = 4 × 196, not 3 × 256 + 16). Every product sums each element's k blocks,
    /// each from zero, in this order, whatever the thread count or entry point.
    /// </summary>
    internal static int KBlock(int k)
    {
        int blocks = Math.Max(1, (k + KC - 1) / KC);
        return Math.Max(1, (k + blocks - 1) / blocks);
    }

    /// <summary>Computes C = α·op(A)·op(B) + β·C.</summary>
    /// <param name="transA">Whether A is transposed: op(A) = A (m×k, row stride <paramref name="lda"/>) or Aᵀ (A stored k×m).</param>
    /// <param name="transB">Whether B is transposed: op(B) = B (k×n, row stride <paramref name="ldb"/>) or Bᵀ (B stored n×k).</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">The inner dimension.</param>
    /// <param name="alpha">α.</param>
    /// <param name="a">A's elements.</param>
    /// <param name="lda">A's row stride.</param>
    /// <param name="b">B's elements.</param>
    /// <param name="ldb">B's row stride.</param>
    /// <param name="beta">β; 0 overwrites C.</param>
    /// <param name="c">C's elements (m×n, row stride <paramref name="ldc"/>).</param>
    /// <param name="ldc">C's row stride.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative or a stride is too small.</exception>
    /// <exception cref="ArgumentException">A span is too short for its matrix.</exception>
    public static void Multiply(
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        (int aRows, int aCols) = transA == Transpose.No ? (m, k) : (k, m);
        (int bRows, int bCols) = transB == Transpose.No ? (k, n) : (n, k);
        CheckOperand(a, aRows, aCols, lda, nameof(a), nameof(lda));
        CheckOperand(b, bRows, bCols, ldb, nameof(b), nameof(ldb));
        CheckOperand(c, m, n, ldc, nameof(c), nameof(ldc));
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0 || alpha == 0)
        {
            ScaleC(c, m, n, ldc, beta);
            return;
        }

        unsafe
        {
            fixed (float* pa = a)
            fixed (float* pb = b)
            fixed (float* pc = c)
            {
                var job = new Job(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                Run(job);
            }
        }
    }

    internal static void CheckOperand(ReadOnlySpan<float> span, int rows, int cols, int ld, string name, string ldName)
    {
        if (ld < Math.Max(1, cols))
        {
            throw new ArgumentOutOfRangeException(ldName, ld, $"The row stride of {name} must be at least its column count ({cols}).");
        }

        long needed = rows == 0 || cols == 0 ? 0 : ((long)(rows - 1) * ld) + cols;
        if (span.Length < needed)
        {
            throw new ArgumentException($"{name} holds {span.Length} elements but a {rows}×{cols} matrix with row stride {ld} needs {needed}.", name);
        }
    }

    private static void ScaleC(Span<float> c, int m, int n, int ldc, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            Span<float> row = c.Slice(i * ldc, n);
            if (beta == 0)
            {
                row.Clear();
            }
            else if (beta != 1)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
        }
    }

    private readonly unsafe struct Job(Transpose transA, Transpose transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        public readonly Transpose TransA = transA, TransB = transB;
        public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc;
        public readonly float Alpha = alpha, Beta = beta;
        public readonly float* A = a, B = b, C = c;
    }

    /// <summary>
    /// Runs the product: small narrow or short products on their direct paths (<see cref="IsNarrow"/>,
    /// <see cref="IsSmallK"/>); otherwise serially, or on every thread with C split into one range per thread, along N when M ≤ N
    /// (each thread packs all of A and only its own panels of B) and along M otherwise (each packs all of B). Each
    /// thread runs the whole blocked loop nest over its range, so there is one parallel call per product, and no
    /// thread writes a packed buffer that another reads (writing cache lines that another core holds costs more
    /// than packing them twice). Splitting C never changes the order of any element's sum over k, so results are
    /// bit-identical for any thread count.
    /// </summary>
    private static void Run(in Job job)
    {
        if (IsNarrow(job))
        {
            RunNarrow(job);
            return;
        }

        if (IsSmallK(job))
        {
            RunSmallK(job);
            return;
        }

        int degree = Parallelism.MaxDegree;
        if (degree > 1 && 2L * job.M * job.N * job.K >= ParallelFlops)
        {
            int nPanels = (job.N + NR - 1) / NR, mPanels = (job.M + MR - 1) / MR;
            bool splitN = nPanels >= 2 && (job.M <= job.N || mPanels < 2);
            int parts = Math.Min(degree, splitN ? nPanels : mPanels);
            if (parts > 1)
            {
                RangeWork work = t_range ??= new RangeWork();
                (work.Job, work.Parts, work.SplitN) = (job, parts, splitN);
                WorkerPool.For(parts, degree, work);
                return;
            }
        }

        RunRange(job, 0, job.M, 0, job.N);
    }

    [ThreadStatic]
    private static RangeWork? t_range;

    /// <summary>One thread's range of C: part <c>index</c> of <see cref="Parts"/> of the MR-row or NR-column panels; reused per calling thread.</summary>
    private sealed class RangeWork : IParallelWork
    {
        public Job Job;
        public int Parts;
        public bool SplitN;

        public void Run(int index)
        {
            int unit = SplitN ? NR : MR, length = SplitN ? Job.N : Job.M;
            int panels = (length + unit - 1) / unit;
            int start = (int)((long)index * panels / Parts) * unit;
            int end = Math.Min(length, (int)((long)(index + 1) * panels / Parts) * unit);
            if (SplitN)
            {
                RunRange(Job, 0, Job.M, start, end);
            }
            else
            {
                RunRange(Job, start, end, 0, Job.N);
            }
        }
    }

    /// <summary>C[m0..m1, n0..n1] on the calling thread: B packed by blocks of NC columns and KBlock(k) rows, A by blocks of MC rows.</summary>
    private static void RunRange(in Job job, int m0, int m1, int n0, int n1)
    {
        int nr = NR;
        float[] packedB = ArrayPool<float>.Shared.Rent(KC * (NC + nr));
        float[] packedA = ArrayPool<float>.Shared.Rent(MC * KC);
        try
        {
            for (int jc = n0; jc < n1; jc += NC)
            {
                int nc = Math.Min(NC, n1 - jc);
                for (int pc = 0, kb = KBlock(job.K); pc < job.K; pc += kb)
                {
                    int kc = Math.Min(kb, job.K - pc);
                    PackB(job, pc, kc, jc, nc, nr, packedB);
                    for (int ic = m0; ic < m1; ic += MC)
                    {
                        RunBlock(job, ic, Math.Min(MC, m1 - ic), pc, kc, jc, nc, nr, packedA, packedB);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedA);
            ArrayPool<float>.Shared.Return(packedB);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunBlock(in Job job, int ic, int mc, int pc, int kc, int jc, int nc, int nr, float[] packedA, float[] packedB)
    {
        PackA(job, ic, mc, pc, kc, packedA);
        bool first = pc == 0;
        Span<float> tile = stackalloc float[MR * 32];
        for (int jr = 0; jr < nc; jr += nr)
        {
            int ncols = Math.Min(nr, nc - jr);
            ref float bPanel = ref packedB[jr * kc];
            for (int ir = 0; ir < mc; ir += MR)
            {
                int nrows = Math.Min(MR, mc - ir);
                ref float aPanel = ref packedA[ir * kc];
                float* cTile = job.C + ((long)(ic + ir) * job.Ldc) + jc + jr;
                if (Sse.IsSupported)
                {
                    for (int r = 0; r < nrows; r++)
                    {
                        float* cRow = cTile + ((long)r * job.Ldc);
                        Sse.Prefetch0(cRow);
                        Sse.Prefetch0(cRow + ncols - 1);
                    }
                }

                // A whole vector tile is merged into C from the registers (the same operations as Merge; through the
                // stack tile, with AVX-512, the merge took 30% of the time at 2048³, perf's samples, seventh session).
                // A partial tile, or the scalar kernel, leaves its sums (times 1, exactly) in the stack tile, merged below.
                bool whole = nrows == MR && ncols == nr, merged = false;
                fixed (float* t = tile)
                {
                    if (nr == 16 && Vector256.IsHardwareAccelerated)
                    {
                        merged = VectorTile<V256>(kc, ref aPanel, ref bPanel, cTile, t, job, whole, first);
                    }
                    else if (nr == 32 && Vector512.IsHardwareAccelerated)
                    {
                        merged = VectorTile<V512>(kc, ref aPanel, ref bPanel, cTile, t, job, whole, first);
                    }
                    else
                    {
                        MicroKernel(kc, ref aPanel, ref bPanel, tile, nr);
                    }
                }

                if (merged)
                {
                    continue;
                }

                for (int r = 0; r < nrows; r++)
                {
                    float* cRow = cTile + ((long)r * job.Ldc);
                    Span<float> acc = tile.Slice(r * nr, ncols);
                    Merge(acc, new Span<float>(cRow, ncols), job.Alpha, first ? job.Beta : 1f, first && job.Beta == 0);
                }
            }
        }
    }

    /// <summary>
    /// One tile with <see cref="MicroKernel{TV}"/> (<see cref="MicroKernel256"/> for <see cref="V256"/>): a whole one merged into C (returns true), a partial one summed into
    /// the stack tile <paramref name="tile"/> for the caller's merge (returns false).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe bool VectorTile<TV>(int kc, ref float a, ref float b, float* cTile, float* tile, in Job job, bool whole, bool first)
        where TV : struct, IFloatVector<TV>
    {
        if (whole)
        {
            TileKernel<TV>(kc, ref a, ref b, cTile, job.Ldc, job.Alpha, first ? job.Beta : 1f, first && job.Beta == 0);
            return true;
        }

        TileKernel<TV>(kc, ref a, ref b, tile, 2 * TV.Count, 1f, 0f, overwrite: true);
        return false;
    }

    /// <summary><see cref="MicroKernel256"/> for <see cref="V256"/>, <see cref="MicroKernel{TV}"/> otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TileKernel<TV>(int kc, ref float a, ref float b, float* c, long ldc, float alpha, float beta, bool overwrite)
        where TV : struct, IFloatVector<TV>
    {
        if (typeof(TV) == typeof(V256))
        {
            MicroKernel256(kc, ref a, ref b, c, ldc, alpha, beta, overwrite);
        }
        else
        {
            MicroKernel<TV>(kc, ref a, ref b, c, ldc, alpha, beta, overwrite);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Merge(ReadOnlySpan<float> acc, Span<float> c, float alpha, float beta, bool overwrite)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> va = Vector256.Create(alpha), vb = Vector256.Create(beta);
            for (; j <= c.Length - 8; j += 8)
            {
                Vector256<float> v = Vector256.Create(acc.Slice(j, 8)) * va;
                if (!overwrite)
                {
                    v += vb * Vector256.Create<float>(c.Slice(j, 8));
                }

                v.CopyTo(c.Slice(j, 8));
            }
        }

        for (; j < c.Length; j++)
        {
            c[j] = overwrite ? alpha * acc[j] : (alpha * acc[j]) + (beta * c[j]);
        }
    }

    /// <summary>Packs op(A)[ic..ic+mc, pc..pc+kc] into panels of MR rows: panel-major, then k, then the MR rows (zero-padded).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackA(in Job job, int ic, int mc, int pc, int kc, float[] packed)
    {
        fixed (float* dst0 = packed)
        {
            float* dst = dst0;
            for (int ir = 0; ir < mc; ir += MR)
            {
                int rows = Math.Min(MR, mc - ir);
                if (job.TransA == Transpose.No)
                {
                    // Six row pointers, read along k; the panel is written contiguously.
                    float* r0 = job.A + ((long)(ic + ir) * job.Lda) + pc;
                    long lda = job.Lda;
                    int p = 0;
                    if (Avx.IsSupported && rows == MR)
                    {
                        // Eight k at a time: the six rows and two zero rows transposed in registers, each k's eight
                        // values stored at its six slots (the two extra land on the next k's slots, written after).
                        // The panel's last k stays scalar, so nothing is written past it.
                        for (; p + 8 < kc; p += 8, dst += 8 * MR)
                        {
                            Transpose8x8(
                                Avx.LoadVector256(r0 + p), Avx.LoadVector256(r0 + lda + p), Avx.LoadVector256(r0 + (2 * lda) + p),
                                Avx.LoadVector256(r0 + (3 * lda) + p), Avx.LoadVector256(r0 + (4 * lda) + p), Avx.LoadVector256(r0 + (5 * lda) + p),
                                Vector256<float>.Zero, Vector256<float>.Zero, dst, MR);
                        }
                    }

                    for (; p < kc; p++, dst += MR)
                    {
                        for (int r = 0; r < MR; r++)
                        {
                            dst[r] = r < rows ? r0[(r * lda) + p] : 0f;
                        }
                    }
                }
                else
                {
                    // Aᵀ: for each k the MR rows are contiguous in A's row k.
                    int p = 0;
                    if (Avx.IsSupported && rows == MR)
                    {
                        // Eight values copied for six: the two extra (still inside A: row k + 1 follows) land on the
                        // next k's slots, written after; the panel's last k stays scalar.
                        for (; p + 1 < kc; p++, dst += MR)
                        {
                            Avx.Store(dst, Avx.LoadVector256(job.A + ((long)(pc + p) * job.Lda) + ic + ir));
                        }
                    }

                    for (; p < kc; p++, dst += MR)
                    {
                        float* src = job.A + ((long)(pc + p) * job.Lda) + ic + ir;
                        for (int r = 0; r < MR; r++)
                        {
                            dst[r] = r < rows ? src[r] : 0f;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Packs op(B)[pc..pc+kc, jc..jc+nc] into panels of NR columns: panel-major, then k, then the NR columns (zero-padded).</summary>
    private static void PackB(in Job job, int pc, int kc, int jc, int nc, int nr, float[] packed)
    {
        for (int index = 0; index * nr < nc; index++)
        {
            PackPanel(job, pc, kc, jc, nc, nr, index, packed);
        }
    }

    /// <summary>Packs panel <paramref name="index"/> of op(B)[pc..pc+kc, jc..jc+nc] (columns index·nr onwards).</summary>
    private static void PackPanel(in Job job, int pc, int kc, int jc, int nc, int nr, int index, float[] packed)
    {
        if (job.TransB == Transpose.Yes)
        {
            PackTransposedPanel(job, pc, kc, jc, nc, nr, index, packed);
        }
        else
        {
            PackStoredPanel(job, pc, kc, jc, nc, nr, index, packed);
        }
    }

    /// <summary>B as stored, one panel: each k's nr columns are contiguous in B's row k, copied as they are.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackStoredPanel(in Job job, int pc, int kc, int jc, int nc, int nr, int index, float[] packed)
    {
        int jr = index * nr;
        int o = index * kc * nr;
        int cols = Math.Min(nr, nc - jr);
        if (cols == nr && Vector256.IsHardwareAccelerated)
        {
            // A whole panel: each k's nr columns copied by vectors (a span copy per k row cost 3% of a 1024³ product).
            fixed (float* dst0 = packed)
            {
                float* src = job.B + (pc * (long)job.Ldb) + jc + jr, dst = dst0 + o;
                for (int p = 0; p < kc; p++, src += job.Ldb, dst += nr)
                {
                    for (int j = 0; j < nr; j += Vector256<float>.Count)
                    {
                        Vector256.Store(Vector256.Load(src + j), dst + j);
                    }
                }
            }

            return;
        }

        for (int p = 0; p < kc; p++)
        {
            float* src = job.B + ((pc + p) * (long)job.Ldb) + jc + jr;
            Span<float> dst = packed.AsSpan(o, nr);
            new ReadOnlySpan<float>(src, cols).CopyTo(dst);
            dst[cols..].Clear();
            o += nr;
        }
    }

    /// <summary>
    /// Bᵀ, one panel: column j of op(B) is row j of B, contiguous along k. Read it contiguously and scatter into the
    /// panel (which sits in cache), instead of gathering with a stride of ldb.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackTransposedPanel(in Job job, int pc, int kc, int jc, int nc, int nr, int index, float[] packed)
    {
        int jr = index * nr, panel = index * kc * nr;
        int cols = Math.Min(nr, nc - jr);
        int done = 0;
        if (Avx.IsSupported && kc >= 8)
        {
            // Eight rows of B (columns of op(B)) at a time: 8×8 blocks transposed in registers, the k remainder by
            // scalars. A copy: the packed values, and so the products, are the same bits as the scalar loop's.
            fixed (float* dst0 = packed)
            {
                for (; done + 8 <= cols; done += 8)
                {
                    float* src = job.B + ((long)(jc + jr + done) * job.Ldb) + pc;
                    float* dst = dst0 + panel + done;
                    int p = 0;
                    for (; p + 8 <= kc; p += 8)
                    {
                        Transpose8x8(src + p, job.Ldb, dst + ((long)p * nr), nr);
                    }

                    for (; p < kc; p++)
                    {
                        for (int j = 0; j < 8; j++)
                        {
                            dst[((long)p * nr) + j] = src[((long)j * job.Ldb) + p];
                        }
                    }
                }
            }
        }

        for (int j = done; j < nr; j++)
        {
            if (j >= cols)
            {
                for (int p = 0; p < kc; p++)
                {
                    packed[panel + (p * nr) + j] = 0;
                }

                continue;
            }

            float* src = job.B + ((long)(jc + jr + j) * job.Ldb) + pc;
            for (int p = 0; p < kc; p++)
            {
                packed[panel + (p * nr) + j] = src[p];
            }
        }
    }

    /// <summary>dst[p·ldd + j] = src[j·lds + p] for p, j &lt; 8 (an 8×8 block transposed in AVX registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose8x8(float* src, long lds, float* dst, long ldd)
        => Transpose8x8(
            Avx.LoadVector256(src), Avx.LoadVector256(src + lds), Avx.LoadVector256(src + (2 * lds)), Avx.LoadVector256(src + (3 * lds)),
            Avx.LoadVector256(src + (4 * lds)), Avx.LoadVector256(src + (5 * lds)), Avx.LoadVector256(src + (6 * lds)), Avx.LoadVector256(src + (7 * lds)),
            dst,
            ldd);

    /// <summary>Stores column p of the 8×8 block with rows <paramref name="r0"/>…<paramref name="r7"/> at dst + p·ldd, p = 0…7 in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3, Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* dst, long ldd)
    {
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE), s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE), s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + (2 * ldd), Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + (3 * ldd), Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + (4 * ldd), Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + (5 * ldd), Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + (6 * ldd), Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + (7 * ldd), Avx.Permute2x128(s3, s7, 0x31));
    }

    /// <summary>
    /// C[6×2v] = α·Σ_p aPanel[p, 0..6] ⊗ bPanel[p, 0..2v] + β·C (C overwritten when <paramref name="overwrite"/>), v the
    /// vector width (16 columns with <see cref="V256"/>, 32 with <see cref="V512"/>): the microkernel of a whole tile,
    /// two k a step with the panels' references bumped, merged into C from its twelve accumulators. Each accumulator
    /// sums its k in order and the merge is <see cref="Merge"/>'s multiply, multiply and add, so the bits are those of
    /// <see cref="MicroKernel"/> followed by <see cref="Merge"/>. (With AVX-512 the merge through a stack tile had taken
    /// 30% of the time at 2048³, perf's samples, seventh session.) <see cref="VectorTile{TV}"/> runs it for
    /// <see cref="V512"/>; <see cref="V256"/> takes its twin <see cref="MicroKernel256"/>, which the JIT compiles 5% faster.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MicroKernel<TV>(int kc, ref float a, ref float b, float* c, long ldc, float alpha, float beta, bool overwrite)
        where TV : struct, IFloatVector<TV>
    {
        int v = TV.Count;
        TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        TV c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        ref float bp = ref b;
        ref float ap = ref a;
        int p = 0;
        for (; p + 1 < kc; p += 2)
        {
            TV b0 = TV.Load(ref bp);
            TV b1 = TV.Load(ref Unsafe.Add(ref bp, v));
            TV x = TV.Create(ap);
            c00 = TV.FusedMultiplyAdd(x, b0, c00);
            c01 = TV.FusedMultiplyAdd(x, b1, c01);
            x = TV.Create(Unsafe.Add(ref ap, 1));
            c10 = TV.FusedMultiplyAdd(x, b0, c10);
            c11 = TV.FusedMultiplyAdd(x, b1, c11);
            x = TV.Create(Unsafe.Add(ref ap, 2));
            c20 = TV.FusedMultiplyAdd(x, b0, c20);
            c21 = TV.FusedMultiplyAdd(x, b1, c21);
            x = TV.Create(Unsafe.Add(ref ap, 3));
            c30 = TV.FusedMultiplyAdd(x, b0, c30);
            c31 = TV.FusedMultiplyAdd(x, b1, c31);
            x = TV.Create(Unsafe.Add(ref ap, 4));
            c40 = TV.FusedMultiplyAdd(x, b0, c40);
            c41 = TV.FusedMultiplyAdd(x, b1, c41);
            x = TV.Create(Unsafe.Add(ref ap, 5));
            c50 = TV.FusedMultiplyAdd(x, b0, c50);
            c51 = TV.FusedMultiplyAdd(x, b1, c51);
            b0 = TV.Load(ref Unsafe.Add(ref bp, 2 * v));
            b1 = TV.Load(ref Unsafe.Add(ref bp, 3 * v));
            x = TV.Create(Unsafe.Add(ref ap, 6));
            c00 = TV.FusedMultiplyAdd(x, b0, c00);
            c01 = TV.FusedMultiplyAdd(x, b1, c01);
            x = TV.Create(Unsafe.Add(ref ap, 7));
            c10 = TV.FusedMultiplyAdd(x, b0, c10);
            c11 = TV.FusedMultiplyAdd(x, b1, c11);
            x = TV.Create(Unsafe.Add(ref ap, 8));
            c20 = TV.FusedMultiplyAdd(x, b0, c20);
            c21 = TV.FusedMultiplyAdd(x, b1, c21);
            x = TV.Create(Unsafe.Add(ref ap, 9));
            c30 = TV.FusedMultiplyAdd(x, b0, c30);
            c31 = TV.FusedMultiplyAdd(x, b1, c31);
            x = TV.Create(Unsafe.Add(ref ap, 10));
            c40 = TV.FusedMultiplyAdd(x, b0, c40);
            c41 = TV.FusedMultiplyAdd(x, b1, c41);
            x = TV.Create(Unsafe.Add(ref ap, 11));
            c50 = TV.FusedMultiplyAdd(x, b0, c50);
            c51 = TV.FusedMultiplyAdd(x, b1, c51);
            bp = ref Unsafe.Add(ref bp, 4 * v);
            ap = ref Unsafe.Add(ref ap, 2 * MR);
        }

        if (p < kc)
        {
            TV b0 = TV.Load(ref bp);
            TV b1 = TV.Load(ref Unsafe.Add(ref bp, v));
            TV x = TV.Create(ap);
            c00 = TV.FusedMultiplyAdd(x, b0, c00);
            c01 = TV.FusedMultiplyAdd(x, b1, c01);
            x = TV.Create(Unsafe.Add(ref ap, 1));
            c10 = TV.FusedMultiplyAdd(x, b0, c10);
            c11 = TV.FusedMultiplyAdd(x, b1, c11);
            x = TV.Create(Unsafe.Add(ref ap, 2));
            c20 = TV.FusedMultiplyAdd(x, b0, c20);
            c21 = TV.FusedMultiplyAdd(x, b1, c21);
            x = TV.Create(Unsafe.Add(ref ap, 3));
            c30 = TV.FusedMultiplyAdd(x, b0, c30);
            c31 = TV.FusedMultiplyAdd(x, b1, c31);
            x = TV.Create(Unsafe.Add(ref ap, 4));
            c40 = TV.FusedMultiplyAdd(x, b0, c40);
            c41 = TV.FusedMultiplyAdd(x, b1, c41);
            x = TV.Create(Unsafe.Add(ref ap, 5));
            c50 = TV.FusedMultiplyAdd(x, b0, c50);
            c51 = TV.FusedMultiplyAdd(x, b1, c51);
        }

        TV va = TV.Create(alpha), vb = TV.Create(beta);
        MergeRow(c, c00, c01, va, vb, overwrite);
        MergeRow(c + ldc, c10, c11, va, vb, overwrite);
        MergeRow(c + (2 * ldc), c20, c21, va, vb, overwrite);
        MergeRow(c + (3 * ldc), c30, c31, va, vb, overwrite);
        MergeRow(c + (4 * ldc), c40, c41, va, vb, overwrite);
        MergeRow(c + (5 * ldc), c50, c51, va, vb, overwrite);
    }

    /// <summary>C[0..2v] = α·(s0, s1) + β·C[0..2v] (or α·(s0, s1) when <paramref name="overwrite"/>), as <see cref="Merge"/> computes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MergeRow<TV>(float* c, TV s0, TV s1, TV alpha, TV beta, bool overwrite)
        where TV : struct, IFloatVector<TV>
    {
        TV v0 = TV.Multiply(s0, alpha), v1 = TV.Multiply(s1, alpha);
        if (!overwrite)
        {
            v0 = TV.Add(v0, TV.Multiply(beta, TV.Load(ref *c)));
            v1 = TV.Add(v1, TV.Multiply(beta, TV.Load(ref c[TV.Count])));
        }

        TV.Store(v0, ref *c);
        TV.Store(v1, ref c[TV.Count]);
    }

    /// <summary>tile[MR×nr] = Σ_p aPanel[p, 0..MR] ⊗ bPanel[p, 0..nr] in scalars (Vector256 takes <see cref="MicroKernel256"/>, Vector512 <see cref="MicroKernel{TV}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel(int kc, ref float a, ref float b, Span<float> tile, int nr)
    {
        ref float t = ref MemoryMarshal.GetReference(tile);
        tile[..(MR * nr)].Clear();
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < MR; r++)
            {
                float x = Unsafe.Add(ref a, (p * MR) + r);
                for (int j = 0; j < nr; j++)
                {
                    Unsafe.Add(ref t, (r * nr) + j) = MathF.FusedMultiplyAdd(x, Unsafe.Add(ref b, (p * nr) + j), Unsafe.Add(ref t, (r * nr) + j));
                }
            }
        }
    }
}
